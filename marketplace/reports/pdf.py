"""The PDF renderer every report shares (WeasyPrint): the award report, bidders' letters, the quarterly KPI
report.

`render_pdf` renders a template that extends `pdf/base.html` and returns the PDF's bytes. It reads no request
state (only the application's Jinja environment, through the app context), so a worker can call it as well as a
view. The shared layout gives the service's own name on the cover, running headers (the document title) and
"Page X of Y" footers, a table of contents with page numbers, bookmarks from h1 and h2, document metadata
(title, author, subject, keywords, language en-GB), a tagged PDF (PDF/UA-1 by default) and, for drafts, a
diagonal DRAFT watermark on every page.

The table of contents lists the content's <h2> headings. The template is rendered once to find them (each needs
an id, which the contents link to), then again with the contents filled in; WeasyPrint then lays the pages out
and `target-counter` puts each heading's page number beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Iterable

from flask import current_app
from weasyprint import CSS, HTML

from config import BASE_DIR
from marketplace.timeutil import format_london, utcnow

TEMPLATES = BASE_DIR / "templates"
STYLESHEET = TEMPLATES / "pdf" / "pdf.css"
AUTHOR = "Kent County Council"
PDF_UA = "pdf/ua-1"
CONTENTS_ID = "contents"


@dataclass(frozen=True)
class ContentsEntry:
    id: str
    text: str


class MissingHeadingId(ValueError):
    """A report template has an <h2> without an id, so the table of contents could not link to it."""


class _Headings(HTMLParser):
    """Collects the <h2> headings of a rendered page (outside the contents list itself), in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.entries: list[ContentsEntry] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._open = {"id": dict(attrs).get("id"), "text": []}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"].append(data)

    def handle_endtag(self, tag):
        if tag != "h2" or self._open is None:
            return
        heading, self._open = self._open, None
        text = " ".join("".join(heading["text"]).split())
        if heading["id"] == CONTENTS_ID:
            return
        if not heading["id"]:
            raise MissingHeadingId(f"The heading ‘{text}’ needs an id for the table of contents")
        self.entries.append(ContentsEntry(heading["id"], text))


def contents_of(html: str) -> tuple[ContentsEntry, ...]:
    """The table of contents for a rendered page: its <h2> headings with their ids."""
    parser = _Headings()
    parser.feed(html)
    parser.close()
    return tuple(parser.entries)


def render_html(template_name: str, *, title: str, subject: str, context: dict, draft: bool = False,
                keywords: Iterable[str] = (), produced_at: datetime | None = None) -> str:
    """The HTML that `render_pdf` lays out, with its table of contents filled in."""
    produced_at = produced_at or utcnow()
    template = current_app.jinja_env.get_template(template_name)
    values = {**context, "title": title, "subject": subject, "draft": draft, "keywords": list(keywords),
              "produced": format_london(produced_at), "produced_iso": produced_at.isoformat(timespec="seconds")}
    first = template.render(**values, toc=())
    toc = contents_of(first)
    return template.render(**values, toc=toc) if toc else first


def render_pdf(template_name: str, *, title: str, subject: str, context: dict, draft: bool = False,
               variant: str | None = PDF_UA, keywords: Iterable[str] = (),
               produced_at: datetime | None = None) -> bytes:
    """Render a template extending `pdf/base.html` to PDF bytes. `variant` is WeasyPrint's `pdf_variant`
    (PDF/UA-1, tagged, by default; None for a plain PDF, still tagged)."""
    html = render_html(template_name, title=title, subject=subject, context=context, draft=draft,
                       keywords=keywords, produced_at=produced_at)
    document = HTML(string=html, base_url=str(TEMPLATES))
    return document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))], pdf_variant=variant, pdf_tags=True)
