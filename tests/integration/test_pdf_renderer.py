"""The shared PDF renderer: document metadata, tagging (PDF/UA-1), bookmarks from h1 and h2, running headers,
"Page X of Y" footers, the table of contents' page numbers, and the DRAFT watermark. Checked with poppler's
pdfinfo, pdftotext and pdftohtml, as a reader's PDF software would see them."""

from __future__ import annotations

import re
import subprocess
import zlib
from pathlib import Path

import pytest
from flask import has_request_context
from jinja2 import ChoiceLoader, DictLoader

from marketplace.reports.pdf import MissingHeadingId, contents_of, render_pdf

SECTIONS = 4
PARAGRAPHS = 16  # enough for each section to need a page of its own
REPORT = """{% extends "pdf/base.html" %}
{% block cover %}<dl class="summary"><div><dt>Prepared for</dt><dd>{{ audience }}</dd></div></dl>{% endblock %}
{% block content %}
{% for n in range(1, sections + 1) %}
<h2 id="section-{{ n }}">Section {{ n }}: {{ heading_words }}</h2>
<h3>A detail of section {{ n }}</h3>
{% for p in range(paragraphs) %}<p>Paragraph {{ p }} of section {{ n }}. The council commissions services for
residents across Kent, and publishes what it spends and with whom it spends it.</p>{% endfor %}
{% endfor %}
{% endblock %}"""
NO_ID = """{% extends "pdf/base.html" %}{% block content %}<h2>Untitled section</h2>{% endblock %}"""


@pytest.fixture()
def templates(app):
    app.jinja_env.loader = ChoiceLoader([DictLoader({"test/report.html": REPORT, "test/no_id.html": NO_ID}),
                                         app.jinja_env.loader])


def render(tmp_path: Path, draft: bool = False, title: str = "Quarterly KPI report: Q3 2026 to 2027",
           name: str = "report.pdf") -> Path:
    data = render_pdf("test/report.html", title=title, subject="Where the money goes", draft=draft,
                      keywords=["contracts", "KPI"],
                      context={"audience": "The Cabinet Committee", "sections": SECTIONS, "paragraphs": PARAGRAPHS,
                               "heading_words": "figures & tables"})
    assert data.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def info(path: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in run("pdfinfo", str(path)).splitlines() if ":" in line)


def field(path: Path, name: str) -> str:
    return info(path)[name].strip()


def page_text(path: Path, number: int) -> str:
    return run("pdftotext", "-layout", "-f", str(number), "-l", str(number), str(path), "-")


def catalog_text(path: Path) -> bytes:
    """The PDF's objects, with their compressed streams (object streams hold the catalog) inflated."""
    data = path.read_bytes()
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return data + b"".join(inflated)


def test_the_pdf_carries_its_metadata(templates, tmp_path):
    path = render(tmp_path)
    assert field(path, "Title") == "Quarterly KPI report: Q3 2026 to 2027"
    assert field(path, "Author") == "Kent County Council"
    assert field(path, "Subject") == "Where the money goes"
    assert field(path, "Keywords") == "contracts, KPI"
    assert field(path, "Creator") == "Kent Commissioning Marketplace"
    assert b"/Lang (en-GB)" in catalog_text(path)
    assert b"/DisplayDocTitle true" in catalog_text(path)


def test_the_pdf_is_tagged_and_declares_pdf_ua(templates, tmp_path):
    path = render(tmp_path)
    assert field(path, "Tagged") == "yes"
    assert 'pdfuaid:part="1"' in run("pdfinfo", "-meta", str(path))
    structure = run("pdfinfo", "-struct", str(path))
    assert "H1" in structure and "H2" in structure


def test_bookmarks_come_from_the_title_and_the_h2_headings_only(templates, tmp_path):
    path = render(tmp_path)
    xml = run("pdftohtml", "-xml", "-i", "-q", "-stdout", str(path))
    outline = re.findall(r'<item page="(\d+)">([^<]+)</item>', xml)
    titles = [title for _, title in outline]
    assert titles == ["Quarterly KPI report: Q3 2026 to 2027"] + \
        [f"Section {n}: figures &amp; tables" for n in range(1, SECTIONS + 1)]
    assert "Contents" not in titles and not any("A detail" in t for t in titles)


def test_every_page_but_the_cover_has_the_running_header_and_every_page_is_numbered(templates, tmp_path):
    path = render(tmp_path)
    pages = int(field(path, "Pages"))
    assert pages >= SECTIONS + 2  # cover, contents, then the sections
    for number in range(1, pages + 1):
        text = page_text(path, number)
        assert f"Page {number} of {pages}" in text
        assert "Kent Commissioning Marketplace" in text
        header = text.strip().splitlines()[0]
        if number == 1:
            assert "Kent County Council" == header.strip()  # the cover's own heading, no running header
        else:
            assert header.startswith("Quarterly KPI report: Q3 2026 to 2027")


def test_the_table_of_contents_gives_the_page_each_section_starts_on(templates, tmp_path):
    path = render(tmp_path)
    contents = page_text(path, 2)
    assert "Contents" in contents
    for n in range(1, SECTIONS + 1):
        listed = re.search(rf"Section {n}: figures & tables[ .]*(\d+)", contents)
        assert listed, f"section {n} is not in the contents:\n{contents}"
        page = int(listed.group(1))
        assert f"Section {n}: figures & tables" in page_text(path, page)
        assert not any(f"Section {n}: figures & tables" in page_text(path, earlier) for earlier in range(3, page))


def _watermarks(path: Path) -> int:
    """The rotated DRAFT comes out of pdftotext one letter a line."""
    return run("pdftotext", "-raw", str(path), "-").count("D\nR\nA\nF\nT\n")


def test_a_draft_has_a_watermark_on_every_page_and_says_so_on_the_cover(templates, tmp_path):
    path = render(tmp_path, draft=True)
    assert _watermarks(path) == int(field(path, "Pages"))
    assert "This is a draft" in page_text(path, 1)


def test_a_final_document_has_no_watermark(templates, tmp_path):
    path = render(tmp_path, draft=False)
    assert _watermarks(path) == 0
    assert "draft" not in run("pdftotext", str(path), "-").lower()


def test_text_from_the_data_is_escaped_not_read_as_markup(templates, tmp_path):
    path = render(tmp_path, title="Meals <b>& more</b>")
    assert field(path, "Title") == "Meals <b>& more</b>"
    assert "Meals <b>& more</b>" in page_text(path, 1)


def test_rendering_needs_no_request_so_a_worker_can_do_it(templates, tmp_path):
    assert not has_request_context()
    assert render(tmp_path).exists()


def test_a_section_heading_without_an_id_is_refused_rather_than_left_out_of_the_contents(templates):
    with pytest.raises(MissingHeadingId, match="Untitled section"):
        render_pdf("test/no_id.html", title="T", subject="S", context={})


def test_the_contents_list_the_h2_headings_in_order_with_their_text():
    html = '<h1>Title</h1><h2 id="a">First <em>one</em></h2><p>x</p><h2 id="contents">Contents</h2><h2 id="b">Two</h2>'
    assert [(entry.id, entry.text) for entry in contents_of(html)] == [("a", "First one"), ("b", "Two")]
