"""Scoped lookups for bid views: anything the user may not read answers 404, as if it did not exist."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm.interfaces import ORMOption

from marketplace.bids.models import Bid
from marketplace.bids.permissions import is_bidder
from marketplace.extensions import db
from marketplace.opportunities.models import Opportunity


def organisation_bid_or_404(user, opportunity_id: int, *load: ORMOption) -> Bid:
    """The signed-in user's organisation's bid for this opportunity (with `load`: what the page reads of it, such
    as `joinedload(Bid.answers)`, in the same query)."""
    membership = getattr(user, "membership", None)
    if membership is None:
        abort(404)
    bid = db.session.execute(sa.select(Bid).where(Bid.opportunity_id == opportunity_id,
                                                  Bid.organisation_id == membership.organisation_id).options(*load)
                             ).unique().scalar_one_or_none()
    if bid is None:
        abort(404)
    return bid


def own_bid_or_404(user, bid_id: int) -> Bid:
    """A bid by id, only for members of the organisation that owns it."""
    bid = db.session.get(Bid, bid_id)
    if bid is None or not is_bidder(user, bid):
        abort(404)
    return bid


def opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None:
        abort(404)
    return opportunity


def sealed_bid_ids(now):
    """Ids (as audit object ids) of bids whose opportunity has not reached its deadline: still sealed."""
    return (sa.select(sa.cast(Bid.id, sa.String))
            .join(Opportunity, Opportunity.id == Bid.opportunity_id)
            .where(sa.or_(Opportunity.submission_deadline.is_(None), Opportunity.submission_deadline > now)))
