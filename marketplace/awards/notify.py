"""Letters to bidders: the award notice (successful or unsuccessful, with a link to their own results) and the
notice that an opportunity they bid for is cancelled.

Letters are written before the commit (which expires every loaded row) and sent after it; a failed delivery is
logged and does not undo the change. Every active member of a bidding organisation gets the letter: each of
them can read the organisation's bids and results.
"""

from __future__ import annotations

import smtplib
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.awards import rules
from marketplace.bids.models import Bid, BidSubmission
from marketplace.email import send_email
from marketplace.evaluation import results
from marketplace.extensions import db
from marketplace.jobs import enqueue, job
from marketplace.links import absolute_url
from marketplace.organisations.models import Membership, Organisation


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    template: str
    context: dict = field(default_factory=dict)
    letter_for_bid: int | None = None  # attach this bid's assessment (or exclusion) letter as a PDF


def members_of(organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """Active members' email addresses, by organisation (one query)."""
    found: dict[int, list[str]] = {}
    for organisation_id, email in db.session.execute(
            sa.select(Membership.organisation_id, User.email).join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id.in_(list(organisation_ids) or [0]), User.deactivated_at.is_(None))
            .order_by(User.email)):
        found.setdefault(organisation_id, []).append(email)
    return found


def _bidders(bid_ids: list[int]) -> list[tuple[Bid, Organisation]]:
    rows = db.session.execute(sa.select(Bid, Organisation).join(Organisation, Organisation.id == Bid.organisation_id)
                              .where(Bid.id.in_(bid_ids or [0])).order_by(Bid.id))
    return [(bid, organisation) for bid, organisation in rows]


def _letters(bidders: list[tuple[Bid, Organisation]], write) -> list[Letter]:
    addresses = members_of(organisation.id for _, organisation in bidders)
    return [write(bid, organisation, address) for bid, organisation in bidders
            for address in addresses.get(organisation.id, [])]


def award_letters(opportunity: Any, award: Any) -> list[Letter]:
    """One letter per member of each organisation whose bid counted: successful for the recommended bid."""
    bidders = _bidders([v.bid_id for v in results.counting_versions(opportunity.id)])
    winner = next((organisation.legal_name for bid, organisation in bidders if bid.id == award.bid_id), "")
    link = absolute_url("awards.bid_result", opportunity_id=opportunity.id)
    ends = rules.standstill_end_words(award.standstill_ends_on)

    def write(bid: Bid, organisation: Organisation, address: str) -> Letter:
        successful = bid.id == award.bid_id
        return Letter(address, f"Award decision for {opportunity.reference}: "
                               f"{'your bid is successful' if successful else 'your bid was not successful'}",
                      "award_successful" if successful else "award_unsuccessful",
                      dict(reference=opportunity.reference, title=opportunity.title,
                           organisation=organisation.legal_name, winner=winner, standstill_ends=ends, link=link),
                      letter_for_bid=bid.id)

    return _letters(bidders, write)


def cancellation_letters(opportunity: Any) -> list[Letter]:
    """One letter per member of each organisation that submitted a bid (any version, even one withdrawn)."""
    bid_ids = db.session.execute(sa.select(BidSubmission.bid_id).distinct().join(Bid, Bid.id == BidSubmission.bid_id)
                                 .where(Bid.opportunity_id == opportunity.id)).scalars()
    link = absolute_url("bids.dashboard")

    def write(bid: Bid, organisation: Organisation, address: str) -> Letter:
        return Letter(address, f"{opportunity.reference} has been cancelled", "opportunity_cancelled_bidder",
                      dict(reference=opportunity.reference, title=opportunity.title,
                           organisation=organisation.legal_name, reason=opportunity.cancel_reason, link=link))

    return _letters(_bidders(list(bid_ids)), write)


def send(letters: list[Letter]) -> None:
    """Send now, or, when any letter carries a PDF (rendering takes time), as one job."""
    if any(letter.letter_for_bid for letter in letters):
        enqueue("awards.send_letters", [asdict(letter) for letter in letters])
        return
    for letter in letters:
        _send_one(letter, ())


def _send_one(letter: Letter, attachments: tuple[tuple[str, bytes], ...]) -> None:
    try:
        send_email(letter.to, letter.subject, letter.template, attachments=attachments, **letter.context)
    except (smtplib.SMTPException, OSError):
        current_app.logger.exception("Could not send %s email to %s", letter.template, letter.to)


@job("awards.send_letters")
def send_letters(letters: list[dict]) -> None:
    """Render each bid's letter once (after the commit that published the notice) and send it to every member."""
    from marketplace.reports.letters import letter_pdf  # reports read awards: imported here, not at the top

    rendered: dict[int, tuple[tuple[str, bytes], ...]] = {}
    for letter in map(lambda fields: Letter(**fields), letters):
        bid_id = letter.letter_for_bid
        if bid_id and bid_id not in rendered:
            pdf = letter_pdf(db.session.get(Bid, bid_id))
            rendered[bid_id] = (pdf,) if pdf else ()
        _send_one(letter, rendered.get(bid_id, ()))
