"""The pages under /ui through the ASGI app, on SQLite and PostgreSQL.

Sign-in (401 with a Basic challenge; Basic or Bearer with a token), the audit list with its
filters and paging, one audit, the models and a model's trend charts and regressions; hostile
names are escaped, every page has a CSP and no script.
"""

from __future__ import annotations

import base64
import html
import re
import uuid
from urllib.parse import quote

import httpx
import pytest

from auditor.service.settings import ServiceSettings
from tests.service.conftest import bearer
from tests.service.page_data import (
    HOSTILE,
    HOSTILE_GROUP,
    HOSTILE_LABEL,
    HOSTILE_REFERENCE,
    KEY_METRICS,
    RealAudits,
    Seeded,
    run_real_audits,
    seed,
)


@pytest.fixture(scope="module")
def real_audits(tmp_path_factory: pytest.TempPathFactory) -> RealAudits:
    return run_real_audits(tmp_path_factory.mktemp("real-audits"))


@pytest.fixture
def seeded(migrated: ServiceSettings, real_audits: RealAudits) -> Seeded:
    return seed(migrated, real_audits)


def basic(secret: str, user: str = "me") -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def page(client: httpx.Client, url: str, token: str, status: int = 200) -> str:
    response = client.get(url, headers=basic(token))
    assert response.status_code == status, (url, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def text_of(markup: str) -> str:
    """The visible text of some HTML, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def row_of(markup: str, audit_id: str) -> str:
    """The <tr> of the audit list that links to ``audit_id``."""
    for row in re.findall(r"<tr>.*?</tr>", markup, flags=re.S):
        if f"/ui/audits/{audit_id}" in row:
            return text_of(row)
    raise AssertionError(f"no row for {audit_id}")


def listed_ids(markup: str) -> list[str]:
    return re.findall(r'<th scope="row"><a class="mono" href="/ui/audits/([0-9a-f-]{36})"', markup)


def all_pages(seeded: Seeded) -> list[str]:
    a = seeded.audits
    return [
        "/ui/",
        "/ui/audits",
        "/ui/audits?status=failed",
        "/ui/models",
        "/ui/models/credit-scoring",
        f"/ui/models/{quote(HOSTILE, safe='')}",
        f"/ui/audits/{a['v1.4']}",
        f"/ui/audits/{a['failed']}",
        f"/ui/audits/{a['queued']}",
        f"/ui/audits/{a['hostile']}",
    ]


def test_pages_ask_for_basic_credentials(client: httpx.Client, seeded: Seeded) -> None:
    audit = seeded.audits["v1.4"]
    urls = [*all_pages(seeded), f"/ui/audits/{audit}/artifacts/report.html"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.headers["www-authenticate"].startswith("Basic realm=")
        assert response.headers["content-type"].startswith("text/html")
        assert "auditor token create --scope read" in response.text
        assert "<script" not in response.text.lower()
    wrong = client.get("/ui/audits", headers=basic("aud_not-a-token"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")


def test_basic_and_bearer_tokens_open_the_pages(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    for headers in (basic(tokens["read"]), basic(tokens["admin"], user=""), bearer(tokens["read"])):
        response = client.get("/ui/audits", headers=headers)
        assert response.status_code == 200
        assert "test-" in response.text  # the token's name is shown
    bare = client.get("/ui", headers=basic(tokens["read"]), follow_redirects=True)
    assert bare.status_code == 200 and "<h1>Audits</h1>" in bare.text


def test_every_page_has_a_csp_and_no_script(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    for url in all_pages(seeded):
        response = client.get(url, headers=basic(tokens["read"]))
        assert response.status_code == 200, url
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "<script" not in response.text.lower(), url
        assert not re.search(r"<[^>]+\son\w+=", response.text), url  # no event handler attribute


def test_audit_list_shows_job_status_and_verdict_apart(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    markup = page(client, "/ui/audits", tokens["read"])
    a = seeded.audits
    assert listed_ids(markup) == seeded.newest_first
    assert "✔ pass" in row_of(markup, a["v1.3"])
    assert "✘ fail" in row_of(markup, a["v1.4"])
    assert "? inconclusive" in row_of(markup, a["v1.2"])
    failed = row_of(markup, a["failed"])
    assert "⚠ job failed (timeout)" in failed
    assert "no verdict" in failed and "✘ fail" not in failed
    assert "◷ queued" in row_of(markup, a["queued"])
    assert "▶ running" in row_of(markup, a["running"])
    assert "⊘ canceled" in row_of(markup, a["canceled"])
    v14 = row_of(markup, a["v1.4"])
    assert "credit-scoring" in v14 and "v1.4" in v14 and "release candidate" in v14
    assert "2025-03-05 09:30 UTC" in v14 and "47 s" in v14
    for field in ("f-model", "f-status", "f-verdict"):
        assert f'<label for="{field}">' in markup and f'id="{field}"' in markup


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("verdict=fail", ["v1.4", "fraud-2", "hostile"]),
        ("model=fraud-model", ["fraud-2", "fraud-1"]),
        ("model=credit-scoring&status=succeeded&verdict=pass", ["v1.3", "v1.1", "v1.0"]),
        ("model=&status=&verdict=", None),  # the empty form: no filter
    ],
)
def test_audit_list_filters(
    client: httpx.Client,
    tokens: dict[str, str],
    seeded: Seeded,
    query: str,
    expected: list[str] | None,
) -> None:
    markup = page(client, f"/ui/audits?{query}", tokens["read"])
    ids = listed_ids(markup)
    if expected is None:
        assert ids == seeded.newest_first
    else:
        assert ids == [seeded.audits[k] for k in expected]
        assert "Clear the filters" in markup
    if query == "status=failed":  # the form shows the filter in force
        assert '<option value="failed" selected>failed</option>' in markup


def test_audit_list_pages_with_a_cursor(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    url: str | None = "/ui/audits?model=credit-scoring&limit=4"
    seen: list[str] = []
    pages = 0
    while url:
        markup = page(client, url, tokens["read"])
        seen += listed_ids(markup)
        assert ("Newest audits" in markup) == (pages > 0)
        found = re.search(r'<a href="([^"]+)" rel="next">', markup)
        url = html.unescape(found.group(1)) if found else None
        if url:
            assert "model=credit-scoring" in url and "limit=4" in url and "cursor=" in url
        pages += 1
    others = {seeded.audits[k] for k in ("fraud-1", "fraud-2", "hostile")}
    credit = [i for i in seeded.newest_first if i not in others]
    assert pages == 3 and seen == credit


def test_bad_filters_are_html_errors(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    for query in ("status=exploded", "verdict=maybe", "cursor=%%%", "limit=0", "limit=x"):
        markup = page(client, f"/ui/audits?{query}", tokens["read"], status=400)
        assert "400" in markup and "<script" not in markup.lower()


def test_empty_list_tells_a_newcomer_how_to_submit(
    client: httpx.Client, tokens: dict[str, str]
) -> None:
    markup = page(client, "/ui/audits", tokens["read"])
    body = text_of(markup)
    assert "No audits yet" in body
    assert 'curl -H "Authorization: Bearer $AUDITOR_TOKEN"' in body
    assert "http://testserver/api/v1/audits" in body
    assert "auditor token create --scope submit" in body
    assert "No models yet" in text_of(page(client, "/ui/models", tokens["read"]))


def test_a_succeeded_audit(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded, real_audits: RealAudits
) -> None:
    audit = seeded.audits["v1.4"]
    markup = page(client, f"/ui/audits/{audit}", tokens["read"])
    body = text_of(markup)
    assert "credit-scoring version v1.4" in body and "release candidate" in body
    assert "Verdict ✘ fail" in body and "■ succeeded" in body
    assert "Findings judged 12 Failed 1 Inconclusive 0" in body
    assert "Data SHA-256" in body and "(a decision log: no model)" in body
    for name in ("report.html", "audit.json", "summary.md"):
        assert f'href="/ui/audits/{audit}/artifacts/{name}"' in markup
    frame = re.search(r"<iframe[^>]*>", markup)
    assert frame is not None
    assert " sandbox " in frame.group(0)
    assert f'src="/ui/audits/{audit}/artifacts/report.html"' in frame.group(0)
    assert "http-equiv" not in markup  # a finished audit does not reload

    report = client.get(f"/ui/audits/{audit}/artifacts/report.html", headers=basic(tokens["read"]))
    assert report.status_code == 200
    assert report.headers["content-security-policy"].startswith("sandbox")
    assert "frame-ancestors 'self'" in report.headers["content-security-policy"]
    assert report.headers["x-frame-options"] == "SAMEORIGIN"
    data = client.get(f"/ui/audits/{audit}/artifacts/audit.json", headers=basic(tokens["read"]))
    assert data.status_code == 200
    assert data.content == (real_audits.new / "audit.json").read_bytes()
    assert data.headers["content-disposition"].startswith("attachment")
    again = client.get(
        f"/ui/audits/{audit}/artifacts/audit.json",
        headers={**basic(tokens["read"]), "If-None-Match": data.headers["etag"]},
    )
    assert again.status_code == 304


def test_a_failed_job_is_not_a_failed_audit(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    body = text_of(page(client, f"/ui/audits/{seeded.audits['failed']}", tokens["read"]))
    assert "Job ⚠ job failed" in body and "Verdict – no verdict" in body
    assert "this is not a failed audit" in body
    assert "timeout" in body and "The audit ran longer than 1800 s and was stopped." in body
    assert "✘ fail" not in body
    assert "No files: only a succeeded audit has reports." in body


def test_an_active_audit_reloads_itself(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    markup = page(client, f"/ui/audits/{seeded.audits['queued']}", tokens["read"])
    assert '<meta http-equiv="refresh" content="5">' in markup
    assert "◷ queued" in text_of(markup)


def test_unknown_things_are_html_404(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    audit = seeded.audits["v1.4"]
    for url in (
        f"/ui/audits/{uuid.uuid4()}",
        "/ui/audits/not-a-uuid",
        "/ui/models/no-such-model",
        f"/ui/audits/{audit}/artifacts/secrets.txt",
        f"/ui/audits/{audit}/artifacts/junit.xml",  # a known name this audit does not have
    ):
        markup = page(client, url, tokens["read"], status=404)
        assert "404 · Not found" in text_of(markup), url


def test_models_page(client: httpx.Client, tokens: dict[str, str], seeded: Seeded) -> None:
    markup = page(client, "/ui/models", tokens["read"])
    rows = {text_of(r) for r in re.findall(r"<tr>.*?</tr>", markup, flags=re.S)}
    credit = next(r for r in rows if r.startswith("credit-scoring"))
    assert credit.startswith("credit-scoring 9 2025-03-06") and "◷ queued" in credit
    # The newest audit is queued; the latest verdict is v1.4's (the newest succeeded audit).
    assert credit.endswith("✘ fail 2025-03-05 09:30 UTC (an earlier audit)")
    assert f'href="/ui/audits/{seeded.audits["v1.4"]}"' in markup
    fraud = next(r for r in rows if r.startswith("fraud-model"))
    assert fraud.startswith("fraud-model 2") and "✘ fail" in fraud
    assert "earlier" not in fraud  # its newest audit is the one that gave the verdict
    assert 'href="/ui/audits?model=fraud-model"' in markup


def test_model_page_charts_each_key_metric(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    markup = page(client, "/ui/models/credit-scoring", tokens["read"])
    charts = re.findall(r'<svg class="trend".*?</svg>', markup, flags=re.S)
    assert len(charts) == len(KEY_METRICS)
    titles = [re.findall(r'<title id="chart-\d+-title">(.*?)</title>', c)[0] for c in charts]
    assert titles == sorted(KEY_METRICS)
    by_metric = dict(zip(titles, charts, strict=True))
    for chart in charts:
        assert '<path class="threshold"' in chart
        assert 'class="threshold-label"' in chart
        assert 'class="xversion"' in chart and ">v1.4</text>" in chart
    di = by_metric["fairness.favorable_rate:ratio_to_highest"]
    assert ">≥ 0.8</text>" in di
    assert di.count('class="mark-fail"') == 2  # v1.4: female, 25 and over
    assert di.count('class="mark-inconclusive"') == 0  # the undefined value is no mark
    assert 'class="gap"' in di and "undefined here: age_group=under 25" in di
    gap = by_metric["fairness.true_positive_rate:difference_to_reference"]
    assert ">≤ 0.1</text>" in gap and ">≥ -0.1</text>" in gap
    assert ">≥ 0.7</text>" in by_metric["performance.accuracy"]
    body = text_of(markup)
    note = "age_group=under 25: undefined in 1 audit (v1.2, 2025-03-03), drawn as a gap, not as 0."
    assert note in body
    assert "fairness.selection_rate" in body  # measured without a threshold: listed, no chart
    lead = text_of(re.findall(r'<p class="lead">.*?</p>', markup, flags=re.S)[0])
    assert "the newest ( 2025-03-06 16:42 UTC ): job ◷ queued" in lead
    assert "Latest verdict ✘ fail from the newest succeeded audit ( 2025-03-05 09:30 UTC )" in lead
    # The age groups' reference changed at v1.3: marked on the chart, noted, in the table.
    assert di.count('<line class="refchange"') == 1 and ">ref 1</text>" in di
    for chart in (gap, by_metric["performance.accuracy"]):
        assert "refchange" not in chart
    changed = (
        "ref 1, at v1.3 (2025-03-04 09:30 UTC): the reference group changed (age_group=25 "
        "and over: age_group=25 and over → age_group=under 25; age_group=under 25: "
        "age_group=25 and over → age_group=under 25). Values before and after are measured "
        "against different groups and do not compare: the line is broken there."
    )
    assert changed in body
    assert body.count("changed (was age_group=25 and over)") == 2
    assert "ref N: the reference group changed (the line breaks; see the notes)" in body


def test_model_page_compares_the_last_two_succeeded_audits(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    markup = page(client, "/ui/models/credit-scoring", tokens["read"])
    start = markup.index('<section aria-labelledby="regressions">')
    section = markup[start:]
    body = text_of(section)
    assert "✘ Regression" in body
    assert "Verdict ✔ pass → ✘ fail" in body
    assert f'href="/ui/audits/{seeded.audits["v1.3"]}"' in section
    assert f'href="/ui/audits/{seeded.audits["v1.4"]}"' in section
    assert "Findings that got worse" in body
    assert "disparate-impact error sex=female pass → fail ratio_to_highest" in body
    assert "✘ yes" in body  # a blocking new failure
    assert re.search(r"Metrics that moved by more than 0.01 \(\d+\)", body)
    assert "The audits read different data" in body


def test_regressions_need_two_audits_with_audit_json(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    body = text_of(page(client, "/ui/models/fraud-model", tokens["read"]))
    assert "has no audit.json" in body
    body = text_of(page(client, f"/ui/models/{quote(HOSTILE, safe='')}", tokens["read"]))
    assert "Regressions need two succeeded audits of this model; there is 1." in body


def test_hostile_names_are_escaped_everywhere(
    client: httpx.Client, tokens: dict[str, str], seeded: Seeded
) -> None:
    raw = (HOSTILE, HOSTILE_LABEL, HOSTILE_GROUP, HOSTILE_REFERENCE, "<b>bold</b>")
    for url in all_pages(seeded):
        markup = page(client, url, tokens["read"])
        for text in raw:
            assert text not in markup, (url, text)
    listing = page(client, "/ui/audits", tokens["read"])
    assert html.escape(HOSTILE, quote=False) in listing
    assert html.escape(HOSTILE_LABEL, quote=False) in listing
    model = page(client, f"/ui/models/{quote(HOSTILE, safe='')}", tokens["read"])
    assert html.escape(HOSTILE_GROUP, quote=False) in model  # in the chart's legend and table
    assert html.escape(HOSTILE_REFERENCE, quote=False) in model  # the table's reference
    assert f"/ui/models/{quote(HOSTILE, safe='')}" in listing  # links are URL-encoded
