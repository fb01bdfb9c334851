"""Sealed bids: before the deadline nobody outside the bidder's organisation can read any part of a bid, its
documents or even how many bids there are, by any page, export, report, API, URL guessing or search.

The sweep requests EVERY GET route in the app's URL map (only `static` is skipped), so pages added later are
covered without changing this file. Integer URL arguments are filled with the ids of everything that exists:
the opportunity, its lots, model, criteria and documents, the organisations and the users, and the ids the
bids, their versions, documents, consortium members, price lines and commitments get (the URLs are made before
the bids, so these are the small ids a fresh database hands out; the test checks every real one was among
them); string arguments with the bid's section names or a made-up token. Pages without arguments are also
asked with a search for a word from the marker.

Two organisations bid with a distinctive marker in their answers, document titles, consortium, notes and
declarations, and a distinctive price. Each outsider (signed out, a provider of a third organisation, a
commissioner, a procurement officer, an administrator) sweeps twice, before the bids exist and after, and:

- the marker and the price never appear, in any response body or redirect;
- no bid page answers 403 or 200; one naming a part of a bid (a version, a document, a member, a section...)
  answers 404 to a signed-in outsider, and signed-out people are sent to sign in;
- every response is the same, byte for byte once the CSRF token is set aside, whether the bids exist or not,
  so nothing (a count, a tag, a link, a changed status code) gives away that there are bids, or how many.

After the deadline the procurement officer may learn that bids exist (opening them belongs to the evaluation
issue) but still reads none of their content; everyone else still learns nothing.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace import documents
from marketplace.accounts.models import User
from marketplace.bids import rules, snapshot, submission
from marketplace.bids.models import (
    Bid,
    BidAnswer,
    BidDocument,
    BidSubmission,
    ConsortiumMember,
    PriceLine,
    SocialValueCommitment,
)
from marketplace.extensions import db
from marketplace.opportunities.models import Criterion, EvaluationModel, Lot, OpportunityDocument
from marketplace.organisations.models import Organisation
from marketplace.timeutil import utcnow
from tests.conftest import CSRF_INPUT, sign_in_as
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.builders import PDF, make_bid, make_opportunity
from tests.integration.test_bid_submission import fresh

MARKER = "Quixotic-Zebra-4471"
SEARCH_WORD = "Quixotic"
PRICE = Decimal("987654.32")
PRICE_TEXTS = ("987654.32", "987,654.32")
BID_ROWS = (Bid, BidAnswer, BidDocument, BidSubmission, ConsortiumMember, PriceLine, SocialValueCommitment)
# Bid pages anyone may open: the dashboard of one's own bids, and the page to start a bid.
OPEN_BID_PAGES = frozenset({"bids.dashboard", "bids.start_bid"})
# A page that shows council staff every audit event, including "bid.submitted" before the deadline: it gives
# away that bids were submitted, and how many (admin/views.py, not part of this work: see the report). Its
# separate test below is marked as an expected failure until the audit log hides sealed bids' events.
AUDIT_LOG = "admin.audit_log"
# Once the deadline has passed, how many bids came in is public (OCDS bid statistics, the spend dashboard and its
# KPI report); what they say is not, which the content checks still cover on these pages.
BID_STATISTICS = frozenset({"transparency.ocds_opportunity", "transparency.ocds_releases", "transparency.dashboard",
                            "transparency.kpi_report"})
VIEWERS = ("signed out", "third provider", "commissioner", "procurement officer", "administrator")


# The world ------------------------------------------------------------------------------------------------

@dataclass
class World:
    opportunity: object
    bidders: list
    viewers: dict


@pytest.fixture()
def world(app) -> World:
    commissioner = StaffFactory(roles=["commissioner"], email="commissioner@kent.example")
    opportunity = make_opportunity(commissioner, lots=2)
    stored = documents.store("specification.pdf", PDF)
    db.session.add(OpportunityDocument(opportunity_id=opportunity.id, kind="specification", title="Specification",
                                       filename=stored.filename, content_type=stored.content_type,
                                       size=stored.size, sha256=stored.sha256, storage_key=stored.storage_key))
    db.session.commit()
    bidders = [provider(OrganisationFactory(legal_name=f"Bidder {n}"), email=f"bidder{n}@example.org")
               for n in (1, 2)]
    third = provider(OrganisationFactory(legal_name="Third Organisation"), email="third@example.org")
    viewers = {"signed out": None, "third provider": third, "commissioner": commissioner,
               "procurement officer": StaffFactory(roles=["procurement_officer"]),
               "administrator": StaffFactory(roles=["administrator"])}
    return World(opportunity, bidders, viewers)


def place_marked_bid(opportunity, bidder) -> Bid:
    bid = make_bid(opportunity, bidder.membership.organisation, marker=MARKER, price=PRICE,
                   local_economy_notes=f"Kent spend plan {MARKER}", declared_conflicts="declared",
                   conflict_details=f"A trustee sits on a panel {MARKER}")
    bid.members[0].name = f"Subcontractor {MARKER}"
    bid.commitments[0].description = f"Apprentices {MARKER}"
    db.session.commit()
    return bid


def submit_bids(app, world: World) -> None:
    """Two bids submitted through the service; the second withdrawn and resubmitted (versions 1 and 2)."""
    with app.test_request_context("/"):
        for bidder in world.bidders:
            bid = place_marked_bid(world.opportunity, bidder)
            submission.submit(bidder, bid, fresh(bid).version)
            if bidder is world.bidders[-1]:
                submission.withdraw(bidder, fresh(bid), 1)
                submission.submit(bidder, bid, fresh(bid).version)


def seal_directly(world: World) -> None:
    """Two bids already submitted, written straight to the tables (the deadline has passed, so the service
    would rightly refuse them)."""
    for bidder in world.bidders:
        bid = place_marked_bid(world.opportunity, bidder)
        canonical = rules.canonical_json(snapshot.take(bid, world.opportunity).content)
        bid.status = rules.SUBMITTED
        db.session.add(BidSubmission(bid_id=bid.id, number=1, submitted_by_id=bidder.id, sha256=rules.receipt_hash(
            canonical), content=canonical, submitted_at=world.opportunity.submission_deadline - timedelta(hours=1)))
    db.session.commit()


# Every GET route, with every id that exists ----------------------------------------------------------------

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _ids(model, *where) -> list[int]:
    return list(db.session.execute(sa.select(model.id).where(*where).order_by(model.id)).scalars())


GUESSED_IDS = list(range(1, 7))  # bid rows do not exist yet when the URLs are made: their ids are guessed


def id_pools(world: World) -> dict[str, list]:
    """Candidate values for URL arguments, by name, taken before any bid exists: the ids of every row that does,
    and for bid rows the small ids a fresh database gives them (checked by `assert_guessed`)."""
    pools = {name: GUESSED_IDS for name in ("bid_id", "submission_id", "number", "member_id", "line_id",
                                            "commitment_id", "answer_id")}
    pools.update({
        "opportunity_id": [world.opportunity.id],
        "document_id": sorted(set(GUESSED_IDS + _ids(OpportunityDocument))),
        "criterion_id": _ids(Criterion), "model_id": _ids(EvaluationModel), "lot_id": _ids(Lot),
        "organisation_id": _ids(Organisation), "user_id": _ids(User),
    })
    pools["*int"] = sorted({value for values in pools.values() for value in values})
    pools["section"] = ["lots", "eligibility", "price", "social_value", "local_economy", "consortium",
                        "documents", "declarations"] + [f"answer-{c}" for c in _ids(Criterion)]
    pools["*string"] = ["not-a-real-token"]
    return pools


def assert_guessed() -> None:
    """Every bid row's id was among the guesses, so the sweep asked for each of them."""
    for model in BID_ROWS:
        assert set(_ids(model)) <= set(GUESSED_IDS), f"{model.__tablename__} ids were not all guessed"
    assert set(db.session.execute(sa.select(BidSubmission.number)).scalars()) <= set(GUESSED_IDS)


def _candidates(converter: str | None, name: str, pools: dict) -> list:
    if converter in ("int", "float"):
        return pools.get(name, pools["*int"])
    return pools.get(name, pools["*string"])


@dataclass(frozen=True)
class Target:
    endpoint: str
    url: str
    arguments: frozenset[str]

    @property
    def names_a_bids_part(self) -> bool:
        """A bid page about one version, document, member, section...: more than the opportunity."""
        return self.endpoint.startswith("bids.") and bool(self.arguments - {"opportunity_id"})


def every_get_url(app, pools: dict) -> list[Target]:
    """Every GET route but static, once for each combination of candidate arguments."""
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        arguments = [(converter, name) for converter, name in ARGUMENT.findall(rule.rule)]
        choices = [_candidates(converter, name, pools) for converter, name in arguments]
        for combination in itertools.product(*choices):
            values = {name: value for (_, name), value in zip(arguments, combination)}
            url = adapter.build(rule.endpoint, values)
            found.append(Target(rule.endpoint, url, frozenset(values)))
            if not arguments:
                found.append(Target(rule.endpoint, f"{url}?q={SEARCH_WORD}&search={SEARCH_WORD}&action=bid",
                                    frozenset()))
    return found


@dataclass(frozen=True)
class Seen:
    status: int
    location: str
    body: str


def _without_csrf_tokens(body: str) -> str:
    for token in set(CSRF_INPUT.findall(body)):
        body = body.replace(token, "CSRF")
    return body


CLOCK_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s?(?:am|pm)?", re.IGNORECASE)


def _text(response) -> str:
    """What a reader sees: a PDF's text (with the time it was produced taken out), otherwise the body."""
    if response.mimetype == "application/pdf":
        with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
            pdf.write(response.get_data())
            pdf.flush()
            done = subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True)
        if done.returncode == 0:  # a rendered report; an uploaded document may be too small to parse
            return CLOCK_TIME.sub("TIME", done.stdout.decode())
    return response.get_data().decode("utf-8", errors="replace")


def sweep(app, viewer, targets: list[Target]) -> dict[str, Seen]:
    client = app.test_client()
    if viewer is not None:
        sign_in_as(client, viewer)
    seen = {}
    for target in targets:
        response = client.get(target.url)
        seen[target.url] = Seen(response.status_code, response.headers.get("Location", ""),
                                _without_csrf_tokens(_text(response)))
    return seen


# What must hold -------------------------------------------------------------------------------------------

def leaks_content(seen: dict[str, Seen]) -> list[str]:
    return [url for url, page in seen.items()
            if any(text in page.body or text in page.location for text in (MARKER, *PRICE_TEXTS))]


def errors(seen: dict[str, Seen]) -> list[str]:
    return [f"{url} ({page.status})" for url, page in seen.items() if page.status >= 500]


def bid_pages_not_hidden(targets: list[Target], seen: dict[str, Seen], signed_in: bool) -> list[str]:
    """A bid page never answers 403 or 200 to an outsider (that would confirm something is there). One that names
    a part of a bid answers 404 to a signed-in outsider; signed-out people are sent to sign in. A page for "your
    organisation's bid" on an opportunity may instead send an outsider to start their own."""
    wrong = []
    for target in targets:
        if not target.endpoint.startswith("bids.") or target.endpoint in OPEN_BID_PAGES:
            continue
        page = seen[target.url]
        if page.status not in (302, 404) or (signed_in and target.names_a_bids_part and page.status != 404):
            wrong.append(f"{target.url} ({page.status})")
        elif not signed_in and page.status == 302 and "/sign-in" not in page.location:
            wrong.append(f"{target.url} ({page.status} to {page.location})")
    return wrong


def differences(with_bids: dict[str, Seen], without_bids: dict[str, Seen], targets: list[Target],
                ignore=frozenset()) -> list[str]:
    return [t.url for t in targets if t.endpoint not in ignore and with_bids[t.url] != without_bids[t.url]]


def assert_sealed(targets, with_bids, without_bids, signed_in: bool, ignore=frozenset()) -> None:
    assert errors(with_bids) == [] and errors(without_bids) == []
    assert leaks_content(with_bids) == [], "these responses show a bid's content"
    assert bid_pages_not_hidden(targets, with_bids, signed_in) == [], "these bid pages are not hidden"
    assert differences(with_bids, without_bids, targets, ignore) == [], "these responses change when bids exist"


# The tests ------------------------------------------------------------------------------------------------

def _sweep_before_and_after_bids(app, world: World, viewer: str, place_bids) -> tuple:
    urls = every_get_url(app, id_pools(world))
    user = world.viewers[viewer]
    without_bids = sweep(app, user, urls)
    place_bids()
    assert_guessed()
    return urls, user, without_bids, sweep(app, user, urls)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_before_the_deadline_no_outsider_can_tell_anything_about_the_bids(app, world, viewer):
    urls, user, without_bids, with_bids = _sweep_before_and_after_bids(app, world, viewer,
                                                                       lambda: submit_bids(app, world))

    assert len(urls) > 80 and any(target.endpoint == "bids.version" for target in urls)
    assert_sealed(urls, with_bids, without_bids, signed_in=user is not None, ignore={AUDIT_LOG})


@pytest.mark.parametrize("viewer", VIEWERS)
def test_after_the_deadline_outsiders_still_see_nothing_and_the_procurement_officer_sees_no_content(app, world,
                                                                                                   viewer):
    world.opportunity.submission_deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()

    urls, user, without_bids, with_bids = _sweep_before_and_after_bids(app, world, viewer,
                                                                       lambda: seal_directly(world))

    if viewer == "procurement officer":  # may learn that bids exist; reads them only once opened
        assert errors(with_bids) == [] and leaks_content(with_bids) == []
    else:
        assert_sealed(urls, with_bids, without_bids, signed_in=user is not None,
                      ignore={AUDIT_LOG} | BID_STATISTICS)


def test_the_bidders_own_organisation_does_see_its_bid(app, world):
    """The sweep's checks can fail: the bidder itself finds the marker and the price on its own pages."""
    urls = [target for target in every_get_url(app, id_pools(world)) if target.endpoint.startswith("bids.")]
    submit_bids(app, world)

    seen = sweep(app, world.bidders[0], urls)

    assert leaks_content(seen) and any(page.status == 200 for page in seen.values())


@pytest.mark.parametrize("viewer", ["administrator", "procurement officer"])
def test_the_audit_log_does_not_give_away_how_many_bids_there_are_before_the_deadline(app, world, viewer):
    urls, user, without_bids, with_bids = _sweep_before_and_after_bids(app, world, viewer,
                                                                       lambda: submit_bids(app, world))

    assert differences(with_bids, without_bids, [target for target in urls if target.endpoint == AUDIT_LOG]) == []
