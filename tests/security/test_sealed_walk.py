"""Sealed bids, walked through every route: before the deadline nobody outside a bidding organisation finds any
trace of its bid (its answers, price, documents, consortium, declarations, even the organisation's name against
the opportunity) or how many bids there are, on any page, export, report, PDF, feed or API, whoever they are.

tests/functional/test_sealed_bids.py compares each response with and without bids in a one-opportunity world.
This walk extends it: it runs over the security world, where every kind of object exists (opportunities in every
state, an evaluation, an award with its report and letters, contracts, right-to-bid proposals, spending figures),
so each route is asked with real arguments (references, chart keys, signed links) as well as about the sealed
opportunity and the sealed bid's own ids; it reads PDFs through pdftotext; it walks as the panel member and the
author too, and as one of the bidders, who must see nothing of the others' bids.

Eleven organisations with marked names start bids: nine submit, one submits and withdraws, one keeps a draft. So
"9", "10" or "11" bids anywhere is a leak of the count.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

import pytest

from marketplace.bids import submission
from marketplace.evaluation.models import MODERATOR
from marketplace.extensions import db
from marketplace.timeutil import utcnow
from marketplace.transparency import dashboard, kpis
from tests.builders import make_bid, make_opportunity
from tests.evaluation_builders import seat
from tests.factories import OrganisationFactory, provider
from tests.report_builders import pdf_text
from tests.security.routes import ROUTES, Answer
from tests.security.world import (
    ACTORS,
    ADMIN,
    COMMISSIONER,
    OFFICER,
    OTHER_PROVIDER,
    PANEL_MEMBER,
    World,
    add_document,
)

# Eleven bids: nine count, the tenth was withdrawn, the eleventh is a draft. (The world's other bids, 1 + 2 + 5,
# add up to no more than 8, so 9, 10 and 11 can only be counts of these; "5 to 9 bids" is a band of the spending
# dashboard's chart, not a count.)
BIDDERS, WITHDRAWN = 11, 10
COUNTS = frozenset({9, 10, 11})
COUNT_WORDS = r"(?:9|10|11|nine|ten|eleven)"
BID_NOUNS = r"(?:bids?|bidders?|submissions?|tenders?|tenderers?)"
COUNT_PHRASES = (re.compile(rf"(?<!to )\b{COUNT_WORDS}[ \t]+{BID_NOUNS}\b", re.I),
                 re.compile(rf"\b{BID_NOUNS}(?:[ \t]+(?:received|submitted))?[ \t]*:?[ \t]*{COUNT_WORDS}\b", re.I))
BID_WORD, ORG_WORD = "Zephyrine", "Orgmarkly"
BIDDER = "bidder"  # the owner of the first bidding organisation
WALKERS = (*ACTORS, BIDDER)
# Where council staff may see any registered organisation's name: the provider directory and its page.
DIRECTORY = frozenset({"admin.providers", "organisations.show"})
# A bidder's own bid pages, where its own bid's content belongs.
OWN_BID_PAGES = ("bids.", "awards.bid_result", "reports.own_letter")


def bid_marker(n: int) -> str:
    return f"{BID_WORD}{n}Quill"


def org_marker(n: int) -> str:
    return f"{ORG_WORD}{n}Vale"


def price(n: int) -> Decimal:
    return Decimal(f"9134{n}7.21")


def price_texts(n: int) -> tuple[str, ...]:
    return f"{price(n)}", f"{price(n):,}"


@dataclass
class Sealed:
    world: World
    opportunity: Any
    bids: list
    urls: list[tuple[str, str]]  # (endpoint, url)


# Building --------------------------------------------------------------------------------------------------

def _marked_bid(opportunity, organisation, n: int):
    mark = bid_marker(n)
    bid = make_bid(opportunity, organisation, marker=mark, price=price(n), local_economy_notes=f"Kent plan {mark}",
                   declared_conflicts="declared", conflict_details=f"A trustee knows a panel member {mark}")
    bid.members[0].name = f"Subcontractor {mark}"
    bid.commitments[0].description = f"Apprentices {mark}"
    db.session.commit()
    return bid


def place_bids(opportunity) -> tuple[list, list]:
    """Eleven bids from eleven marked organisations: nine submitted, one withdrawn, one draft."""
    bids, owners = [], []
    for n in range(1, BIDDERS + 1):
        owner = provider(OrganisationFactory(legal_name=f"{org_marker(n)} Community Trust"))
        bid = _marked_bid(opportunity, owner.membership.organisation, n)
        if n <= WITHDRAWN:
            submission.submit(owner, bid, bid.version)
        if n == WITHDRAWN:
            db.session.refresh(bid)
            submission.withdraw(owner, bid, 1)
        bids.append(bid)
        owners.append(owner)
    return bids, owners


def sealed_scenes(opportunity, bid) -> dict[str, dict]:
    """The sealed opportunity's own ids and its first bid's, for every route that takes them (a question, a
    challenge, a declaration and an award-report PDF of another opportunity's: no page may show them under this
    one)."""
    db.session.refresh(bid)
    model = opportunity.models[0]
    base = {"opportunity_id": opportunity.id, "reference": opportunity.reference, "model_id": model.id,
            "criterion_id": model.criteria[1].id, "lot_id": opportunity.lots[0].id, "bid_id": bid.id, "number": 1,
            "member_id": bid.members[0].id, "line_id": bid.price_lines[0].id, "commitment_id": bid.commitments[0].id,
            "section": "price", "question_id": 1, "challenge_id": 1, "declaration_id": 1, "render_id": 1}
    return {"sealed": {**base, "document_id": add_document(opportunity).id},
            "sealed_bid_document": {**base, "document_id": bid.documents[0].id}}


def chart_keys() -> list[str]:
    """Every chart of the spending dashboard, staff-only ones included: each has its CSV."""
    return [chart.key for chart in kpis.figures(dashboard.Filters(), staff=True, now=utcnow()).charts]


def _fits(rule, values: dict) -> bool:
    return set(rule.arguments) <= set(values)


def walk_urls(world: World) -> list[tuple[str, str]]:
    """Every GET route: with the objects of each scene that has all its arguments (the sealed opportunity's
    among them); routes without arguments (but PDFs, slow to make) also with a search for the markers."""
    urls = []
    for endpoint, rule in sorted(ROUTES.items()):
        if "GET" not in rule.methods or endpoint == "static":
            continue
        if not rule.arguments:
            path = world.url(rule, "none")
            searches = () if path.endswith(".pdf") else (f"?q={BID_WORD}", f"?q={ORG_WORD}&action=bid")
            urls += [(endpoint, path + query) for query in ("", *searches)]
            continue
        urls += [(endpoint, world.url(rule, scene)) for scene, values in world.scenes.items()
                 if values and _fits(rule, values)]
    return list(dict.fromkeys(urls))


@pytest.fixture(scope="module")
def sealed(world: World) -> Sealed:
    staff = world.actors
    with world.app.test_request_context():
        opportunity = make_opportunity(staff[COMMISSIONER], lots=1, title="Befriending in Swale")
        seat(opportunity, staff[PANEL_MEMBER], declared=False)
        seat(opportunity, staff[OFFICER], MODERATOR, declared=False)
        bids, owners = place_bids(opportunity)
    world.actors[BIDDER] = owners[0]
    world.scenes.update(sealed_scenes(opportunity, bids[0]))
    world.scenes.update({f"chart {key}": {"key": key} for key in chart_keys()})
    return Sealed(world, opportunity, bids, walk_urls(world))


# Reading what came back -------------------------------------------------------------------------------------

def readable(answer: Answer, headers: str) -> str:
    """Everything a person could read in the response: its headers and its body, a PDF's as pdftotext reads it
    (the builders' stand-in documents are not PDFs pdftotext can read: their bytes are read as they are)."""
    body = answer.text
    if answer.content_type.startswith("application/pdf"):
        try:
            body = pdf_text(answer.body)
        except subprocess.CalledProcessError:
            pass
    return f"{headers}\n{body}"


def _json_counts(data: Any, path: str = "") -> Iterator[str]:
    """Numbers that count bids in JSON: under a key about bids or tenderers, or an OCDS statistic about bids."""
    if isinstance(data, dict):
        about_bids = re.search(r"bid|tender", str(data.get("measure", "")), re.I)
        for key, value in data.items():
            if isinstance(value, int) and value in COUNTS and (re.search(r"bid|tender", key, re.I) or about_bids):
                yield f"{path}/{key} = {value}"
            yield from _json_counts(value, f"{path}/{key}")
    elif isinstance(data, list):
        for n, item in enumerate(data):
            yield from _json_counts(item, f"{path}/{n}")


def _csv_counts(text: str, reference: str) -> Iterator[str]:
    """A row about the sealed opportunity that carries a count."""
    for row in csv.reader(io.StringIO(text)):
        if any(reference in cell for cell in row) and any(cell.strip() in {str(c) for c in COUNTS} for cell in row):
            yield f"CSV row {row}"


def counts_in(answer: Answer, text: str, reference: str) -> list[str]:
    found = [m.group(0) for pattern in COUNT_PHRASES for m in pattern.finditer(text)]
    if answer.content_type.startswith("application/json") and answer.status == 200:
        found += list(_json_counts(json.loads(answer.body)))
    if answer.content_type.startswith("text/csv"):
        found += list(_csv_counts(answer.text, reference))
    return found


def may_see(walker: str, n: int, endpoint: str, organisation_name: bool) -> bool:
    """Whether this walker may see bid n's content (or its organisation's name) on this page."""
    own = walker == BIDDER and n == 1
    if organisation_name:
        return own or (endpoint in DIRECTORY and walker in (COMMISSIONER, PANEL_MEMBER, OFFICER, ADMIN))
    return own and endpoint.startswith(OWN_BID_PAGES)


def leaks_in(walker: str, endpoint: str, text: str) -> list[str]:
    found = []
    for n in range(1, BIDDERS + 1):
        if not may_see(walker, n, endpoint, False):
            marks = {"content": (bid_marker(n),), "price": price_texts(n)}
            found += [f"bid {n}'s {what}" for what, texts in marks.items() if any(m in text for m in texts)]
        if org_marker(n) in text and not may_see(walker, n, endpoint, True):
            found.append(f"bid {n}'s organisation")
    return found


def walk(sealed: Sealed, walker: str) -> tuple[list[str], dict[str, Answer]]:
    problems, answers = [], {}
    for endpoint, url in sealed.urls:
        answer = Answer.of(response := sealed.world.client(walker).get(url))
        answers[url] = answer
        text = readable(answer, f"{answer.location} {response.headers.get('Content-Disposition', '')}")
        if answer.status >= 500:
            problems.append(f"{url}: {answer.status}")
        problems += [f"{url} ({endpoint}): {leak}" for leak in leaks_in(walker, endpoint, text)]
        problems += [f"{url} ({endpoint}): count {count!r}"
                     for count in counts_in(answer, text, sealed.opportunity.reference)]
    return problems, answers


# The tests ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("walker", WALKERS)
def test_before_the_deadline_no_page_shows_a_bid_or_the_number_of_bids_outside_its_organisation(sealed, walker):
    problems, answers = walk(sealed, walker)

    assert len(answers) > 250 and any(url.endswith(f"/{sealed.opportunity.id}/award/challenges/new")
                                      for url in answers)
    assert problems == [], f"{walker} finds what is sealed:\n" + "\n".join(problems)


def test_the_walk_can_find_a_leak_a_bidder_reads_its_own_bid_and_staff_read_the_directory(sealed):
    """The checks are live: the bidder's own pages carry its markers and price (a leak on anyone else's screen),
    the provider directory carries the bidding organisations' names (which say nothing about a bid), and a
    count is recognised."""
    _, seen = walk(sealed, BIDDER)
    own = [url for url, answer in seen.items() if bid_marker(1) in answer.text and answer.status == 200]
    check = seen[f"/opportunities/{sealed.opportunity.id}/bid/check"]
    directory = Answer.of(sealed.world.client(ADMIN).get(f"/organisation/{sealed.bids[0].organisation_id}"))

    assert own and str(price(1)) in check.text.replace(",", "")
    assert leaks_in(OTHER_PROVIDER, "bids.check", check.text) == ["bid 1's content", "bid 1's price"]
    assert org_marker(1) in directory.text and leaks_in(ADMIN, "organisations.show", directory.text) == []
    assert counts_in(directory, "Bids received: 10", "") == ["Bids received: 10"]
