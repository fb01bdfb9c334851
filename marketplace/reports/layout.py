"""The award report PDF's layout version, which is part of each stored PDF's fingerprint (`renders.fingerprint`).

When a release changes how the PDF looks, its stored PDFs show as out of date. The layout version covers:
- REPORT_LAYOUT_VERSION: raise it by one when a change to the report-building code (`award_report.py`, `pdf.py`)
  changes what the PDF shows or how it is laid out, without any change to the templates;
- the contents of the PDF's templates: `pdf/award_report.html` and every template it extends, includes or imports,
  followed to the end, and the stylesheet `pdf/pdf.css`, so a template change needs no one to remember anything;
- the WeasyPrint version, which lays the pages out.

It is worked out once per process (`current`), as templates only change with a release.
"""

from __future__ import annotations

import functools
import hashlib

import weasyprint
from flask import current_app
from jinja2 import Environment, meta

from marketplace.reports.pdf import STYLESHEET

REPORT_LAYOUT_VERSION = 1
AWARD_REPORT_TEMPLATE = "pdf/award_report.html"


def template_sources(env: Environment, name: str) -> dict[str, str]:
    """The source of template `name` and of every template it extends, includes or imports, in turn, by name.
    (A name worked out while the template renders cannot be known here; the award report has none.)"""
    sources: dict[str, str] = {}
    waiting = [name]
    while waiting:
        current_name = waiting.pop()
        if current_name in sources:
            continue
        source, _, _ = env.loader.get_source(env, current_name)
        sources[current_name] = source
        waiting.extend(found for found in meta.find_referenced_templates(env.parse(source)) if found)
    return sources


def digest(version: int, sources: dict[str, str], stylesheet: str, renderer: str) -> str:
    """SHA-256 of a layout: the version, each template's name and source, the stylesheet, the renderer's version."""
    parts = [f"version {version}", f"weasyprint {renderer}", stylesheet]
    parts += [f"{name}\n{sources[name]}" for name in sorted(sources)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@functools.cache
def current() -> str:
    """The award report PDF's layout as this process makes it (worked out on first use, then remembered)."""
    sources = template_sources(current_app.jinja_env, AWARD_REPORT_TEMPLATE)
    return digest(REPORT_LAYOUT_VERSION, sources, STYLESHEET.read_text(encoding="utf-8"), weasyprint.__version__)
