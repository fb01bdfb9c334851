"""Test builders for awarded contracts, written straight to the tables (the award workflow has its own tests):
an awarded opportunity, the winning bid, a confirmed award and the contract, with the supplier's status captured
from its organisation unless a test says otherwise."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from marketplace.awards.models import CONFIRMED, Award, Contract
from marketplace.bids import rules
from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory

_numbers = itertools.count(1)

KENT = "CT1 2AB"  # Canterbury
OUTSIDE_KENT = "SE13 5AB"  # Lewisham


def awarded_opportunity(created_by=None, **fields) -> Opportunity:
    """An opportunity published 100 days ago, closed 40 days ago and awarded."""
    now = utcnow()
    number = next(_numbers)
    values = dict(reference=f"KCC-AWD-{number:04d}", title=f"Awarded service {number}",
                  summary="Weekly befriending visits for older people.", category="adult-social-care",
                  localities=["thanet"], estimated_value=Decimal("100000"), procedure="open", status="awarded",
                  published_at=now - timedelta(days=100), publication_date=now - timedelta(days=100),
                  submission_deadline=now - timedelta(days=40),
                  created_by_id=created_by.id if created_by is not None else None)
    values.update(fields)
    opportunity = Opportunity(**values)
    db.session.add(opportunity)
    db.session.flush()
    return opportunity


def make_contract(supplier=None, *, value: Decimal | str = "100000", awarded_at: datetime | None = None,
                  opportunity: Opportunity | None = None, opportunity_fields: dict | None = None,
                  created_by=None, **fields) -> Contract:
    """A confirmed contract with `supplier` (an organisation; a new Kent-based small charity unless given).
    `fields` set the contract's own columns (title, category, supplier_is_vcse, consortium, ...)."""
    supplier = supplier or OrganisationFactory()
    opportunity = opportunity or awarded_opportunity(created_by, **(opportunity_fields or {}))
    bid = Bid(opportunity_id=opportunity.id, organisation_id=supplier.id, status=rules.SUCCESSFUL)
    db.session.add(bid)
    db.session.flush()
    award = Award(opportunity_id=opportunity.id, bid_id=bid.id, status=CONFIRMED, ranking={},
                  reasons="The most advantageous tender", confirmed_at=awarded_at or utcnow())
    db.session.add(award)
    db.session.flush()
    values = dict(
        reference=f"CON-{next(_numbers):05d}", opportunity_id=opportunity.id, award_id=award.id, bid_id=bid.id,
        organisation_id=supplier.id, title=opportunity.title, category=opportunity.category,
        supplier_name=supplier.legal_name, supplier_postcode=supplier.operations_postcode,
        supplier_org_type=supplier.org_type, supplier_size=supplier.size, supplier_is_vcse=supplier.is_vcse,
        supplier_is_sme=supplier.is_sme, supplier_kent_based=supplier.kent_based, value=Decimal(value),
        start_date=date(2027, 4, 1), end_date=date(2029, 3, 31), social_value_commitments=[], consortium=[],
        awarded_at=awarded_at or utcnow())
    values.update(fields)
    contract = Contract(**values)
    db.session.add(contract)
    db.session.commit()
    return contract


def member(name: str, share: str, kent_based: bool, role: str = "subcontractor") -> dict:
    """A consortium entry as the award captures it from the winning bid's sealed content."""
    return {"name": name, "org_type": "voluntary_community", "size": "micro", "kent_based": kent_based,
            "role": role, "share": share, "linked_organisation_id": None}


def commitment(measure: str, quantity: str, unit: str, description: str = "") -> dict:
    """A social value commitment as the award captures it from the winning bid's sealed content."""
    return {"measure": measure, "quantity": quantity, "unit": unit, "description": description}
