"""Test builders for opportunities, bids and evaluations, written straight to the tables (fast) or through
the services where the point is the service's own effect (a sealed submission, an opening)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from marketplace import documents
from marketplace.bids import rules, submission
from marketplace.bids.models import (
    Bid,
    BidAnswer,
    BidDocument,
    ConsortiumMember,
    PriceLine,
    SocialValueCommitment,
)
from marketplace.extensions import db
from marketplace.opportunities.models import Criterion, EvaluationModel, Lot, Opportunity
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, provider

_numbers = itertools.count(1)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PRICE = Decimal("125000.00")


CRITERIA = (
    dict(kind="pass_fail", title="Safeguarding policy in place"),
    dict(kind="quality", title="How you will deliver the service", weight=Decimal(40), word_limit=50),
    dict(kind="social_value", title="Social value for Kent residents", weight=Decimal(15), word_limit=50),
    dict(kind="local_economy", title="Spend in Kent", weight=Decimal(10), method="target",
         params={"target": "0.5"}),
    dict(kind="price", title="Price", weight=Decimal(35), method="relative_lowest"),
)


def make_opportunity(created_by, lots: int = 0, **overrides) -> Opportunity:
    """A published opportunity, bids due in 10 days, with a model asking for every kind of answer."""
    now = utcnow()
    fields = dict(reference=f"KCC-BID-{next(_numbers):04d}", title="Befriending for older people in Thanet",
                  summary="Weekly befriending visits.", category="adult-social-care", localities=["thanet"],
                  estimated_value=Decimal("300000.00"), status="published", published_at=now - timedelta(days=3),
                  publication_date=now - timedelta(days=3), clarification_deadline=now + timedelta(days=5),
                  submission_deadline=now + timedelta(days=10), created_by_id=created_by.id,
                  contact_name="Commissioning team", contact_email="commissioning@kent.example")
    fields.update(overrides)
    opportunity = Opportunity(**fields)
    opportunity.lots = [Lot(number=n, title=f"Lot {n}: district {n}", estimated_value=Decimal("100000"))
                        for n in range(1, lots + 1)]
    opportunity.models = [EvaluationModel(criteria=[Criterion(position=i, **spec) for i, spec in enumerate(CRITERIA)])]
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def answer_text(marker: str = "") -> str:
    return f"We visit every week with trained volunteers {marker}".strip()


def make_bid(opportunity, organisation, complete: bool = True, marker: str = "", price: Decimal = PRICE,
             **fields) -> Bid:
    """A working copy written straight to the tables; complete unless told otherwise. `marker` goes into the
    answers, the price line and the document title so sealing tests can look for it."""
    bid = Bid(opportunity_id=opportunity.id, organisation_id=organisation.id,
              lot_ids=[lot.id for lot in opportunity.lots[:1]], status=rules.DRAFT)
    if complete:
        _fill(bid, opportunity, marker, price)
    for key, value in fields.items():
        setattr(bid, key, value)
    db.session.add(bid)
    db.session.commit()
    return bid


def _fill(bid: Bid, opportunity, marker: str, price: Decimal) -> None:
    for criterion in opportunity.models[0].criteria:
        if criterion.kind == "pass_fail":
            bid.answers.append(BidAnswer(criterion_id=criterion.id, confirmed=True))
        elif criterion.kind in ("quality", "social_value"):
            bid.answers.append(BidAnswer(criterion_id=criterion.id, text=answer_text(marker)))
    bid.price_total = price
    bid.price_lines = [PriceLine(position=0, description=f"Weekly visits {marker}".strip(), quantity=Decimal(52),
                                 unit="weeks", unit_price=(price / 52).quantize(Decimal("0.01")))]
    bid.kent_share, bid.kent_jobs, bid.kent_apprenticeships = Decimal("0.35"), 4, 1
    bid.commitments = [SocialValueCommitment(measure="apprenticeships", quantity=Decimal(156), unit="weeks")]
    bid.members = [ConsortiumMember(name="Margate Men's Shed", org_type="voluntary_community", size="micro",
                                    kent_based=True, role="subcontractor", share=Decimal("0.15"))]
    stored = documents.store("method-statement.pdf", PDF)
    bid.documents = [BidDocument(title=f"Method statement {marker}".strip(), filename=stored.filename,
                                 content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                                 storage_key=stored.storage_key)]
    bid.declared_conflicts, bid.declared_no_exclusion_grounds, bid.declared_accurate = "none", True, True



def closed_with_bids(created_by, prices=(Decimal("120000.00"), Decimal("100000.00"), Decimal("135000.00")),
                     **overrides) -> tuple[Opportunity, list[Bid]]:
    """A closed opportunity with one sealed, counting submission per price, each from its own provider
    organisation (owner's email `bidder<n>@...`). Bids are submitted through the service before the deadline,
    then the deadline is moved into the past."""
    opportunity = make_opportunity(created_by, **overrides)
    bids = []
    for n, price in enumerate(prices, start=1):
        organisation = OrganisationFactory(legal_name=f"Bidder {n} Community Interest Company")
        owner = provider(organisation)
        bid = make_bid(opportunity, organisation, marker=f"bidder-{n}", price=price)
        submission.submit(owner, bid, bid.version)
        bids.append(bid)
    opportunity.submission_deadline = utcnow() - timedelta(hours=1)
    opportunity.clarification_deadline = utcnow() - timedelta(days=2)
    opportunity.status = "closed"
    db.session.commit()
    return opportunity, bids
