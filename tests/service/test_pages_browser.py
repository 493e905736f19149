"""The pages in a real browser: Debian's chromium driven by playwright, against a real uvicorn.

The socket is bound here (port 0) and handed to uvicorn with ``--fd``, so there is no race for
a port; start-up polls /healthz to a deadline while checking that the process lives. The browser
signs in with HTTP Basic (any user, the token as password), as a person would at the prompt.
Full-page screenshots go to ``$AUDITOR_SCREENSHOT_DIR`` (default: a temporary folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from auditor.service import migrate
from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.settings import ServiceSettings
from auditor.service.tokens import create_token
from tests.service.page_data import HOSTILE, RealAudits, Seeded, run_real_audits, seed

CHROMIUM = Path("/usr/bin/chromium")
READY_SECONDS = 60.0

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


@dataclass
class Server:
    base_url: str
    token: str
    seeded: Seeded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn on a SQLite database with seeded audits and a read token; stopped at the end."""
    root = tmp_path_factory.mktemp("browser")
    real: RealAudits = run_real_audits(root)
    data_dir = root / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'auditor.db'}"
    settings = ServiceSettings(data_dir=data_dir, database_url=url, workers=0)
    migrate.upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        token = create_token(session, "read", "browser")[1]
    engine.dispose()
    seeded = seed(settings, real)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "AUDITOR_DATA_DIR": str(data_dir),
        "AUDITOR_DATABASE_URL": url,
        "AUDITOR_WORKERS": "0",
    }
    argv = [sys.executable, "-m", "uvicorn", "auditor.service.app:create_app", "--factory"]
    argv += ["--fd", str(sock.fileno()), "--log-level", "warning"]
    log = root / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, pass_fds=[sock.fileno()], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    sock.close()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url, log)
        yield Server(base_url=base_url, token=token, seeded=seeded)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited ({process.returncode}): {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer /healthz in {READY_SECONDS} s: {log.read_text()}")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("AUDITOR_SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser_context(server: Server, browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        http_credentials={"username": "x", "password": server.token},
        viewport={"width": 1280, "height": 900},
    )
    try:
        yield context
    finally:
        context.close()


def _open(context: BrowserContext, url: str) -> tuple[Page, list[str]]:
    """A new page at ``url``; returns the page and the console errors it logged (CSP etc.)."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page, errors


def test_audit_list_in_a_browser(
    server: Server, browser_context: BrowserContext, shots: Path
) -> None:
    page, errors = _open(browser_context, f"{server.base_url}/ui/audits")
    assert page.get_by_role("heading", name="Audits", exact=True).is_visible()
    table = page.locator("table.audits")
    assert table.get_by_text("✔ pass").first.is_visible()
    assert table.get_by_text("✘ fail").first.is_visible()
    assert table.get_by_text("? inconclusive").first.is_visible()
    assert table.get_by_text("⚠ job failed").is_visible()
    assert table.get_by_text("(timeout)").is_visible()
    assert table.get_by_text(HOSTILE).is_visible()  # shown as text, not run
    assert page.get_by_label("Job status").is_visible()
    page.get_by_label("Job status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/ui/audits?*status=failed*")
    assert page.locator("table.audits tbody tr").count() == 1
    page.goto(f"{server.base_url}/ui/audits")
    page.screenshot(path=str(shots / "audits.png"), full_page=True)
    assert not errors


def test_audit_page_in_a_browser(
    server: Server, browser_context: BrowserContext, shots: Path
) -> None:
    audit_id = server.seeded.audits["v1.4"]
    page, errors = _open(browser_context, f"{server.base_url}/ui/audits/{audit_id}")
    assert page.get_by_role("heading", name="credit-scoring").is_visible()
    assert page.get_by_text("✘ fail").first.is_visible()
    assert page.get_by_role("link", name="audit.json").is_visible()
    frame_element = page.locator("iframe.report")
    assert frame_element.get_attribute("sandbox") == ""
    frame_element.scroll_into_view_if_needed()
    frame = page.frame_locator("iframe.report")
    # The report loaded inside the sandbox (with the browser's Basic credentials).
    expect(frame.locator("h1").first).to_be_visible(timeout=10_000)
    expect(frame.get_by_text("FAILED").first).to_be_visible()
    page.screenshot(path=str(shots / "audit.png"), full_page=True)
    assert not errors


def test_model_page_in_a_browser(
    server: Server, browser_context: BrowserContext, shots: Path
) -> None:
    page, errors = _open(browser_context, f"{server.base_url}/ui/models/credit-scoring")
    assert page.get_by_role("heading", name="credit-scoring", exact=True).is_visible()
    assert page.get_by_text("✘ Regression").first.is_visible()
    charts = page.locator("svg.trend")
    assert charts.count() == 3
    for i in range(3):
        chart = charts.nth(i)
        assert chart.is_visible()
        assert chart.locator("path.threshold").count() >= 1
        box = chart.bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 150
    assert page.get_by_text("drawn as a gap, not as 0").first.is_visible()
    di = charts.nth(0)  # the age groups' reference group changed at v1.3
    marker = di.locator("line.refchange")
    assert marker.count() == 1 and di.locator("text.refchange-label").first.is_visible()
    assert page.get_by_text("ref 1, at v1.3").first.is_visible()
    page.screenshot(path=str(shots / "model.png"), full_page=True)
    charts.nth(0).screenshot(path=str(shots / "model-chart-reference.png"))
    models, model_errors = _open(browser_context, f"{server.base_url}/ui/models")
    assert models.get_by_text("(an earlier audit)").first.is_visible()
    models.screenshot(path=str(shots / "models.png"), full_page=True)
    assert not errors and not model_errors


def test_docs_page_in_a_browser(server: Server, browser: Browser, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # no credentials
    try:
        page, errors = _open(context, f"{server.base_url}/docs")
        assert page.get_by_role("heading", name="auditor API").is_visible()
        assert page.locator("article.operation").count() >= 11
        page.get_by_role("link", name="DELETE /api/v1/audits/{audit_id}").click()
        page.wait_for_url("**/docs#delete-api-v1-audits-audit-id")
        assert page.locator("#delete-api-v1-audits-audit-id").is_visible()
        page.screenshot(path=str(shots / "docs.png"), full_page=True)
        assert not errors
    finally:
        context.close()


def test_browser_without_credentials_is_asked_to_sign_in(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/ui/audits", timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
