"""Fixtures shared by the award-report render tests (functional and integration): an opportunity in standstill with
its bids scored, the render jobs held in a list instead of run, and renders that skip the layout."""

from __future__ import annotations

import pytest

from marketplace.opportunities import lifecycle
from marketplace.reports import award_report, renders
from tests.report_builders import evaluated

TINY_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture()
def standstill(author):
    return evaluated(author, stage=lifecycle.STANDSTILL)


@pytest.fixture()
def jobs_held(monkeypatch) -> list[int]:
    """Jobs queued rather than run: the render ids, in order (as when no worker has picked them up yet)."""
    held: list[int] = []
    monkeypatch.setattr(renders, "enqueue", lambda name, render_id: held.append(render_id))
    return held


@pytest.fixture()
def quick_pdfs(monkeypatch) -> None:
    """Renders store a tiny PDF instead of laying the report out (about a second each), for the tests of what
    happens to renders rather than of what the PDF says."""
    monkeypatch.setattr(award_report, "render", lambda report: TINY_PDF)
