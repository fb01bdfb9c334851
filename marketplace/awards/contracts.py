"""The contract record made when an award is confirmed: what the contract register, the KPI dashboard and the
open data read. The supplier's status and its commitments are copied at award, from the organisation as it is
then and from the sealed version of the winning bid, and never recomputed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from marketplace.awards import rules
from marketplace.awards.models import Award, Contract
from marketplace.bids.models import BidSubmission
from marketplace.bids.snapshot import sealed_kent_share, sealed_price
from marketplace.extensions import db
from marketplace.organisations.models import Organisation
from marketplace.timeutil import london


def next_reference(now: datetime) -> str:
    year = london(now).year
    last = db.session.execute(sa.select(sa.func.max(Contract.reference))
                              .where(Contract.reference.like(f"{rules.contract_prefix(year)}%"))).scalar_one_or_none()
    return rules.contract_reference(year, last)


def contract_for(award: Award, opportunity: Any, organisation: Organisation, sealed: BidSubmission,
                 now: datetime) -> Contract:
    """The contract for the awarded bid: value from its sealed price, Kent spend from its committed share."""
    content = json.loads(sealed.content)
    value, share = sealed_price(content), sealed_kent_share(content)
    local = content.get("local_economy") or {}
    return Contract(
        reference=next_reference(now), opportunity_id=opportunity.id, award_id=award.id, bid_id=award.bid_id,
        organisation_id=organisation.id, title=opportunity.title, category=opportunity.category,
        supplier_name=organisation.legal_name, supplier_postcode=organisation.operations_postcode,
        supplier_org_type=organisation.org_type, supplier_size=organisation.size,
        supplier_is_vcse=organisation.is_vcse, supplier_is_sme=organisation.is_sme,
        supplier_kent_based=organisation.kent_based, value=value,
        start_date=opportunity.contract_start,
        end_date=rules.contract_end(opportunity.contract_start, opportunity.contract_months),
        kent_share=share, kent_spend=rules.kent_spend(value, share), kent_jobs=local.get("kent_jobs"),
        kent_apprenticeships=local.get("kent_apprenticeships"),
        social_value_commitments=content.get("social_value_commitments") or [],
        consortium=content.get("consortium") or [], awarded_at=now)
