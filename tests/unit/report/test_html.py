"""The HTML report: escaping, self-containment, accessibility and what it must say."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from auditor.report import render_html
from auditor.report.context import MAX_GROUP_ROWS
from auditor.report.html import environment
from auditor.results import REASON_TEXT, AuditRecord, Reason

from .conftest import UNDEFINED_GROUP, make_result, many_groups_table

CSP = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "img-src data:; style-src 'unsafe-inline'; font-src data:\">"
)


@dataclass
class _Table:
    caption: str = ""
    rows: list[list[str]] = field(default_factory=list)


class _Page(HTMLParser):
    """Collects headings, images, column headers and tables (rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.images: list[dict[str, str | None]] = []
        self.col_headers: list[dict[str, str | None]] = []
        self.tables: list[_Table] = []
        self.lang: str | None = None
        self.urls: list[str] = []
        self._in_thead = False
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]
        if tag == "html":
            self.lang = attributes.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "img":
            self.images.append(attributes)
        elif tag == "table":
            self.tables.append(_Table())
        elif tag == "caption":
            self._caption = []
        elif tag == "thead":
            self._in_thead = True
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
            if tag == "th" and self._in_thead:
                self.col_headers.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_thead = False
        elif tag == "caption" and self._caption is not None:
            self.tables[-1].caption = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.tables[-1].rows[-1].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


@pytest.fixture(scope="module")
def html(audit_result: AuditRecord) -> str:
    return render_html(audit_result)


@pytest.fixture(scope="module")
def page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    return parser


def test_hostile_strings_are_escaped(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=file:///etc/passwd>" not in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html
    assert "<script" not in html.lower()


def test_autoescape_is_on_for_every_template_name() -> None:
    env = environment()
    for name in ("report.html.j2", "_groups.html.j2", "x.j2", "x.html", "report.css"):
        assert env.autoescape(name) is True  # type: ignore[operator]
    assert env.from_string("{{ v }}").render(v="<b>") == "&lt;b&gt;"


def test_csp_meta_tag_and_self_contained(html: str, page: _Page) -> None:
    assert CSP in html
    assert page.lang == "en"
    assert "<style>" in html
    assert page.urls and all(url.startswith(("data:", "#")) for url in page.urls)
    assert "@import" not in html and "url(" not in html
    assert page.images and all(
        (img["src"] or "").startswith("data:image/svg+xml;base64,") for img in page.images
    )


def test_every_image_has_alt_text_stating_values(page: _Page) -> None:
    assert len(page.images) == 3
    for img in page.images:
        alt = img.get("alt") or ""
        assert alt.strip()
        assert re.search(r"\d\.\d{3}", alt)
    assert "sex=male: 0.425" in (page.images[0]["alt"] or "")


def test_one_h1_and_headings_in_order(page: _Page) -> None:
    assert page.headings.count(1) == 1
    assert page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, page.headings


def test_tables_have_captions_and_scoped_column_headers(page: _Page) -> None:
    assert page.tables
    assert all(table.caption for table in page.tables)
    assert page.col_headers
    assert all(th.get("scope") == "col" for th in page.col_headers)


def _group_table(page: _Page, attribute: str) -> list[list[str]]:
    caption = f"Rates by group for {attribute}:"
    return next(t for t in page.tables if t.caption.startswith(caption)).rows


def test_undefined_value_shows_word_and_reason_never_zero(html: str, page: _Page) -> None:
    rows = _group_table(page, "sex & age_group")
    header, body = rows[0], rows[1:]
    row = next(r for r in body if r[0] == UNDEFINED_GROUP)
    tpr = row[header.index("True positive rate")]
    assert tpr.startswith("undefined")
    assert "0.000" not in tpr
    assert REASON_TEXT[Reason.NO_POSITIVES] in html


def test_verdicts_carry_symbol_and_word(html: str) -> None:
    assert "✘</span> FAILED" in html
    for symbol, word in (("✘", "fail"), ("✔", "pass"), ("?", "insufficient data")):
        assert f'<span class="symbol" aria-hidden="true">{symbol}</span> {word}</span>' in html


def test_findings_are_sorted_failures_first(page: _Page) -> None:
    table = next(t for t in page.tables if t.caption.startswith("Findings"))
    cells = [row[-1] for row in table.rows[1:]]
    verdicts = [re.fullmatch(r"\S+ (.+)", cell).group(1) for cell in cells]  # type: ignore[union-attr]
    rank = {"fail": 0, "insufficient data": 1, "pass": 2}
    assert verdicts == sorted(verdicts, key=rank.__getitem__)
    assert verdicts[0] == "fail"


def test_states_what_was_audited(html: str) -> None:
    assert "Positive label &#39;1&#39; = favourable outcome" in html
    assert "sex=male (largest group)" in html
    assert "Warning: this model was loaded from a pickle file." in html
    assert "95% Wilson score intervals" in html
    assert "29 CFR 1607.4(D)" in html
    assert "ab" * 32 in html


def test_long_group_table_is_capped_with_a_count() -> None:
    base = make_result()
    fairness = base.checks[0].model_copy(update={"tables": [many_groups_table(300)]})
    html = render_html(base.model_copy(update={"checks": [fairness]}))
    parser = _Page()
    parser.feed(html)
    rows = _group_table(parser, "postcode")
    assert len(rows) - 1 == MAX_GROUP_ROWS == 50
    assert "250 more groups" in html
    assert "postcode=00049" in html and "postcode=00050" not in html


def test_same_result_gives_identical_html(audit_result: AuditRecord, html: str) -> None:
    assert render_html(audit_result) == html
