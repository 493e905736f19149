"""The HTML report in a real browser: headless Chromium (Debian's) driven by Playwright.

The page is opened as ``file://`` with every other request aborted, so it must render offline;
it must log no console error (a Content-Security-Policy violation is one) and raise no page
error; it must pass the accessibility checks of headings, table headers, captions, alt text,
``lang`` and in-page links; and a hostile column name must show as text, never run. A full-page
screenshot of each page goes to ``$AUDITOR_TEST_ARTIFACTS`` (default ``reports/test-artifacts/``,
git-ignored with ``reports/``) for a human to look at.

CI installs Chromium (scripts/ensure-system-deps.sh); without ``/usr/bin/chromium`` the tests
skip. Playwright drives the system browser (``executable_path``): ``playwright install`` is
never needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from auditor import audit
from auditor.report import render_html
from tests.conftest import ROOT, SAMPLE_DATA, SAMPLE_MODEL

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
HOSTILE_COLUMN = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(2)>"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"{CHROMIUM} is absent (Debian: apt-get install chromium; CI installs it)",
)

# Runs in the page; returns one sentence per accessibility problem.
ACCESSIBILITY_CHECKS = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute("lang");
  if (!lang || !lang.trim()) problems.push("<html> has no lang");
  const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")];
  const h1s = headings.filter((h) => h.tagName === "H1").length;
  if (h1s !== 1) problems.push(`${h1s} h1 elements, not exactly one`);
  let previous = 0;
  for (const h of headings) {
    const level = Number(h.tagName[1]);
    if (level > previous + 1) {
      problems.push(`heading level skips h${previous} -> h${level}: ${h.textContent.trim()}`);
    }
    if (!h.textContent.trim()) problems.push(`empty ${h.tagName}`);
    previous = level;
  }
  document.querySelectorAll("table").forEach((table, i) => {
    const caption = table.querySelector(":scope > caption");
    const name = caption ? caption.textContent.trim() : `table #${i + 1}`;
    if (!caption || !caption.textContent.trim()) problems.push(`${name} has no caption`);
    const ths = table.querySelectorAll("th");
    if (ths.length === 0) problems.push(`${name} has no th cells`);
    ths.forEach((th) => {
      const scope = th.getAttribute("scope");
      if (!["col", "row", "colgroup", "rowgroup"].includes(scope)) {
        problems.push(`${name}: th "${th.textContent.trim()}" has scope ${scope}`);
      }
    });
  });
  document.querySelectorAll("img").forEach((img) => {
    const alt = img.getAttribute("alt");
    if (alt === null || !alt.trim()) problems.push(`img without alt text: ${img.src.slice(0, 40)}`);
  });
  document.querySelectorAll('a[href^="#"]').forEach((a) => {
    const id = decodeURIComponent(a.getAttribute("href").slice(1));
    if (!id || !document.getElementById(id)) problems.push(`link to missing #${id}`);
  });
  return problems;
}
"""

# Installed before the page's own content: records CSP violations as they happen.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@dataclass
class Visit:
    """What happened while a report page was open."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        csp = self.page.evaluate("window.__cspViolations")
        assert self.blocked == [], f"the page tried to fetch: {self.blocked}"
        assert csp == [], f"Content-Security-Policy violations: {csp}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.dialogs == [], f"a script ran and opened dialogs: {self.dialogs}"


def artifacts_dir() -> Path:
    path = Path(os.environ.get("AUDITOR_TEST_ARTIFACTS") or ROOT / "reports" / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    """Open an HTML file as file:// offline; every other URL is aborted and recorded."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=True, offline=True
    )
    context.add_init_script(RECORD_CSP_VIOLATIONS)

    def open_page(path: Path) -> Visit:
        url = path.resolve().as_uri()
        page = context.new_page()
        seen = Visit(page)

        def route(intercepted: Any) -> None:
            if intercepted.request.url == url:
                intercepted.continue_()
            else:
                seen.blocked.append(intercepted.request.url)
                intercepted.abort()

        def on_dialog(dialog: Any) -> None:
            seen.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_request(request: Any) -> None:
            if request.url != url and not request.url.startswith("data:"):
                seen.blocked.append(request.url)

        page.route("**/*", route)
        page.on("request", on_request)
        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                seen.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.goto(url, wait_until="load")
        page.wait_for_timeout(250)  # let late console messages and violation events arrive
        return seen

    yield open_page
    context.close()


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = audit(
        SAMPLE_DATA,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=["sex", "age_group"],
        positive_outcome="favorable",
    )
    path = tmp_path_factory.mktemp("chromium") / "report.html"
    path.write_text(render_html(result), encoding="utf-8")
    return path


def test_report_renders_offline_without_errors_and_is_accessible(
    demo_html: Path, visit: Any
) -> None:
    seen = visit(demo_html)
    page = seen.page
    screenshot = artifacts_dir() / "report-chromium.png"
    page.screenshot(path=str(screenshot), full_page=True)
    seen.assert_clean()
    assert page.evaluate(ACCESSIBILITY_CHECKS) == []
    text = page.inner_text("body")
    assert "FAILED" in text.upper()
    for attribute in ("sex", "age_group", "sex & age_group"):
        assert f"Rates by group for {attribute}" in text
    images = page.evaluate(
        "[...document.images].map((img) => img.complete && img.naturalWidth > 0)"
    )
    assert images and all(images), "a chart did not load"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_column_name_and_values_show_as_text_and_never_run(
    tmp_path: Path, german: pd.DataFrame, visit: Any
) -> None:
    frame = german.rename(columns={"sex": HOSTILE_COLUMN})
    frame[HOSTILE_COLUMN] = frame[HOSTILE_COLUMN].replace("female", HOSTILE_VALUE)
    result = audit(
        frame,
        model=SAMPLE_MODEL,
        target="credit",
        pos_label=1,
        sensitive=[HOSTILE_COLUMN, "age_group"],
        positive_outcome="favorable",
    )
    path = tmp_path / "hostile.html"
    path.write_text(render_html(result), encoding="utf-8")
    seen = visit(path)
    page = seen.page
    page.screenshot(path=str(artifacts_dir() / "report-hostile-chromium.png"), full_page=True)
    seen.assert_clean()
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("[...document.images].every((img) => img.src.startsWith('data:'))")
    text = page.inner_text("body")
    assert HOSTILE_COLUMN in text and HOSTILE_VALUE in text
    assert page.evaluate(ACCESSIBILITY_CHECKS) == []
