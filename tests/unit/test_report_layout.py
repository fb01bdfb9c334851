"""The award report PDF's layout version: which templates it covers, and that any change to them, to the stylesheet,
to REPORT_LAYOUT_VERSION or to the renderer changes it (pure; a Jinja environment of its own)."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment

from marketplace.reports.layout import digest, template_sources

TEMPLATES = {
    "pdf/report.html": '{% extends "pdf/base.html" %}{% from "parts/macros.html" import row %}'
                       '{% block body %}{% include "parts/styles.html" %}{{ row() }}{% endblock %}',
    "pdf/base.html": "<html>{% block body %}{% endblock %}</html>",
    "parts/macros.html": '{% import "parts/deep.html" as deep %}{% macro row() %}<tr></tr>{% endmacro %}',
    "parts/deep.html": "{% macro nothing() %}{% endmacro %}",
    "parts/styles.html": "<style></style>",
    "pdf/unrelated.html": "<p>Another report</p>",
}
CSS = "body { font-family: Arial; }"


def sources() -> dict[str, str]:
    return template_sources(Environment(loader=DictLoader(TEMPLATES)), "pdf/report.html")


def test_the_layout_covers_every_template_the_report_extends_includes_or_imports_however_deep():
    assert set(sources()) == set(TEMPLATES) - {"pdf/unrelated.html"}
    assert sources()["parts/deep.html"] == TEMPLATES["parts/deep.html"]


def test_a_template_named_only_while_rendering_is_not_followed():
    env = Environment(loader=DictLoader({"report.html": "{% include name %}"}))
    assert set(template_sources(env, "report.html")) == {"report.html"}


@pytest.mark.parametrize("change", [
    lambda v, s, c, r: (v + 1, s, c, r),
    lambda v, s, c, r: (v, {**s, "parts/deep.html": s["parts/deep.html"] + " "}, c, r),
    lambda v, s, c, r: (v, s, c + "h2 { color: red; }", r),
    lambda v, s, c, r: (v, s, c, "99.0"),
], ids=["layout version", "a template deep inside", "the stylesheet", "the WeasyPrint version"])
def test_any_change_to_the_layout_changes_its_digest(change):
    before = (1, sources(), CSS, "68.0")
    assert digest(*change(*before)) != digest(*before)
    assert digest(*before) == digest(1, dict(reversed(sources().items())), CSS, "68.0")  # not the order read
