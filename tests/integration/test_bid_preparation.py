"""Bid preparation on a real database: who may start a bid (reservations, open opportunities), one working copy
shared by the organisation, saves refused after the deadline and for submitted bids, the optimistic lock, each
section's rules, documents checked by content and kept with their SHA-256, and an audit trail without content."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace import documents
from marketplace.audit import AuditEvent, verify_database
from marketplace.bids import answering
from marketplace.bids import preparation as prep
from marketplace.bids import rules
from marketplace.bids.models import Bid, BidAnswer, BidSubmission
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.opportunities.models import Criterion, EvaluationModel, Lot, Opportunity
from marketplace.timeutil import utcnow
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider
from tests.sql import statements_sent

_numbers = itertools.count(1)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
LONDON_POSTCODE = "SE1 7PB"


# Builders shared with tests/functional/test_bid_preparation.py ---------------------------------------------

CRITERIA = (
    dict(kind="pass_fail", title="Safeguarding policy in place", question="Do you have a safeguarding policy?"),
    dict(kind="quality", title="How you will deliver the service", weight=Decimal(40), word_limit=50,
         question="Describe how you will deliver weekly visits.", guidance="Say who visits and how often."),
    dict(kind="social_value", title="Social value for Kent residents", weight=Decimal(15)),
    dict(kind="local_economy", title="Spend in Kent", weight=Decimal(10), method="target", params={"target": "0.5"}),
    dict(kind="price", title="Price", weight=Decimal(35), method="relative_lowest"),
)


def make_opportunity(lots: int = 0, **overrides) -> Opportunity:
    """A published opportunity, bids due in 10 days (relative to the server clock), asking every kind of answer."""
    now = utcnow()
    fields = dict(reference=f"KCC-PREP-{next(_numbers):04d}", title="Befriending for older people in Thanet",
                  summary="Weekly befriending visits.", category="adult-social-care", localities=["thanet"],
                  estimated_value=Decimal("90000.00"), status="published", published_at=now - timedelta(days=3),
                  publication_date=now - timedelta(days=3), clarification_deadline=now + timedelta(days=5),
                  submission_deadline=now + timedelta(days=10), contact_name="Commissioning team",
                  contact_email="commissioning@kent.example")
    fields.update(overrides)
    opportunity = Opportunity(**fields)
    opportunity.lots = [Lot(number=n, title=f"District {n}", estimated_value=Decimal("30000"))
                        for n in range(1, lots + 1)]
    opportunity.models = [EvaluationModel(criteria=[Criterion(position=i, **spec) for i, spec in enumerate(CRITERIA)])]
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def give_lot_its_own_model(opportunity: Opportunity, lot: Lot, title: str = "Rural outreach") -> Criterion:
    criterion = Criterion(position=0, kind="quality", title=title, weight=Decimal(100), word_limit=100)
    db.session.add(EvaluationModel(opportunity_id=opportunity.id, lot_id=lot.id, criteria=[criterion]))
    db.session.commit()
    return criterion


def criterion_of(opportunity: Opportunity, kind: str) -> Criterion:
    return next(c for c in opportunity.main_model.criteria if c.kind == kind)


def start(user, opportunity) -> Bid:
    bid, _ = prep.start_bid(user, opportunity)
    return bid


def reload(bid: Bid) -> Bid:
    db.session.expire_all()
    return db.session.get(Bid, bid.id)


def close(opportunity: Opportunity) -> None:
    """The deadline passed a moment ago."""
    opportunity.submission_deadline = utcnow() - timedelta(seconds=1)
    opportunity.clarification_deadline = utcnow() - timedelta(days=1)
    db.session.commit()


def mark(bid: Bid, status: str) -> None:
    bid.status = status
    db.session.commit()


def docx_bytes() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


@pytest.fixture()
def organisation(app):
    return OrganisationFactory(legal_name="Thanet Lunch Club", postcode="CT9 1AA")


@pytest.fixture()
def bidder(organisation):
    return provider(organisation, email="volunteer@lunchclub.example")


@pytest.fixture()
def opportunity(app):
    return make_opportunity()


@pytest.fixture()
def bid(bidder, opportunity):
    return start(bidder, opportunity)


# Starting a bid ----------------------------------------------------------------------------------------

def test_starting_a_bid_makes_one_draft_working_copy_for_the_organisation(bidder, opportunity, organisation):
    bid, started = prep.start_bid(bidder, opportunity)

    assert started
    stored = reload(bid)
    assert (stored.status, stored.organisation_id, stored.opportunity_id) == ("draft", organisation.id, opportunity.id)
    assert stored.updated_by_id == bidder.id
    [event] = events("bid.started")
    assert (event.object_type, event.object_id, event.details) == ("bid", str(bid.id), {})
    assert verify_database().ok


def test_a_colleague_starting_the_same_bid_gets_the_existing_working_copy(bid, organisation, opportunity):
    again, started = prep.start_bid(colleague(organisation), opportunity)

    assert not started and again.id == bid.id
    assert db.session.execute(sa.select(sa.func.count(Bid.id))).scalar_one() == 1
    assert len(events("bid.started")) == 1


@pytest.mark.parametrize("reservation, postcode, org_type, size, refusal", [
    ("none", LONDON_POSTCODE, "private_company", "large", None),
    ("kent", "CT9 1AA", "private_company", "large", None),
    ("kent", LONDON_POSTCODE, "charity", "small", "reserved to suppliers established in Kent"),
    ("kent_sme_vcse", "CT9 1AA", "private_company", "small", None),
    ("kent_sme_vcse", "CT9 1AA", "charity", "large", None),
    ("kent_sme_vcse", "CT9 1AA", "private_company", "large", "recorded as large and not a VCSE"),
    ("kent_sme_vcse", LONDON_POSTCODE, "charity", "micro", "outside Kent"),
])
def test_a_reserved_opportunity_refuses_organisations_outside_the_reservation_with_the_reason(
        app, reservation, postcode, org_type, size, refusal):
    opportunity = make_opportunity(reservation=reservation)
    user = provider(OrganisationFactory(postcode=postcode, org_type=org_type, size=size))

    if refusal is None:
        assert prep.start_bid(user, opportunity)[1]
    else:
        with pytest.raises(DomainError, match=refusal):
            prep.start_bid(user, opportunity)
        assert db.session.execute(sa.select(sa.func.count(Bid.id))).scalar_one() == 0


@pytest.mark.parametrize("overrides, refusal", [
    ({"status": "cancelled", "cancel_reason": "Service brought in-house"}, "was cancelled"),
    ({"submission_deadline": utcnow() - timedelta(minutes=1)}, "Bids closed on"),
    ({"status": "draft", "published_at": None}, "not open for bids"),
    ({"status": "awaiting_approval", "published_at": None}, "not open for bids"),
])
def test_a_bid_cannot_be_started_unless_the_opportunity_is_open(bidder, overrides, refusal):
    opportunity = make_opportunity(**overrides)

    with pytest.raises(DomainError, match=refusal):
        prep.start_bid(bidder, opportunity)
    assert events("bid.started") == []


def test_someone_without_an_organisation_cannot_start_a_bid(app, opportunity):
    with pytest.raises(DomainError, match="Register your organisation"):
        prep.start_bid(UserFactory(), opportunity)


# Rules the pages use (plain objects in, words out) -------------------------------------------------------

def test_edit_refusal_says_why_a_bid_cannot_change(bid, opportunity):
    now = utcnow()
    assert prep.edit_refusal(bid, opportunity, now) is None
    bid.status = rules.WITHDRAWN
    assert prep.edit_refusal(bid, opportunity, now) is None
    bid.status = rules.SUBMITTED
    assert "withdraw it first" in prep.edit_refusal(bid, opportunity, now)
    assert "deadline for bids passed" in prep.edit_refusal(bid, opportunity, opportunity.submission_deadline)
    opportunity.status = "cancelled"
    assert "cancelled" in prep.edit_refusal(bid, opportunity, now)
    db.session.rollback()


def test_the_task_list_gives_each_section_a_status(bid, bidder, opportunity):
    quality = criterion_of(opportunity, "quality")
    statuses = {task.section: task.status for task in prep.tasks(opportunity, bid)}
    assert statuses[f"answer-{quality.id}"] == prep.NOT_STARTED
    assert set(statuses.values()) == {prep.NOT_STARTED}

    answering.save_answer(bidder, bid.opportunity_id, quality.id, "We visit weekly.", bid.version)
    prep.save_local_economy(bidder, bid, prep.LocalEconomyDetails(Decimal("0.4"), 3, 1), bid.version)
    prep.add_price_line(bidder, bid, prep.PriceLineDetails("Visits", Decimal(52), "weeks", Decimal(100)))
    prep.save_declarations(bidder, bid, prep.DeclarationDetails("none", "", True, False), bid.version)

    statuses = {task.section: task.status for task in prep.tasks(opportunity, reload(bid))}
    assert statuses[f"answer-{quality.id}"] == prep.COMPLETED
    assert statuses["local_economy"] == prep.COMPLETED
    assert statuses["price"] == prep.IN_PROGRESS  # a schedule but no total yet
    assert statuses["declarations"] == prep.IN_PROGRESS
    assert statuses["eligibility"] == prep.NOT_STARTED


def test_questions_cannot_start_until_lots_are_chosen_and_a_lots_own_model_is_labelled(bidder, app):
    opportunity = make_opportunity(lots=2)
    own = give_lot_its_own_model(opportunity, opportunity.lots[1])
    bid = start(bidder, opportunity)
    sections = {task.section: task.status for task in prep.tasks(opportunity, bid)}
    assert sections == {"lots": prep.NOT_STARTED, "questions": prep.CANNOT_START, "price": prep.NOT_STARTED,
                        "social_value": prep.NOT_STARTED, "local_economy": prep.NOT_STARTED,
                        "consortium": prep.NOT_STARTED, "documents": prep.NOT_STARTED,
                        "declarations": prep.NOT_STARTED}
    assert prep.next_section(opportunity, bid, "lots") == "price"

    prep.save_lots(bidder, bid, [opportunity.lots[1].id], bid.version)

    labels = [q.label for q in prep.answer_questions(opportunity, reload(bid))]
    assert labels == ["Lot 2: Rural outreach"]
    with pytest.raises(DomainError, match="not part of your bid"):
        answering.save_answer(bidder, bid.opportunity_id, criterion_of(opportunity, "quality").id, "Hello",
                              reload(bid).version)
    answering.save_answer(bidder, bid.opportunity_id, own.id, "Hello", reload(bid).version)


@pytest.mark.parametrize("lot_ids, message", [([], "Select at least one lot"), ([999999], "Select from the lots")])
def test_lots_must_be_the_opportunitys_own(bidder, app, lot_ids, message):
    opportunity = make_opportunity(lots=2)
    bid = start(bidder, opportunity)
    with pytest.raises(DomainError, match=message):
        prep.save_lots(bidder, bid, lot_ids, bid.version)
    assert reload(bid).lot_ids == []


# The optimistic lock -----------------------------------------------------------------------------------

def test_a_save_from_a_page_loaded_before_a_colleagues_save_is_refused_and_changes_nothing(bid, bidder, opportunity,
                                                                                            organisation):
    quality = criterion_of(opportunity, "quality")
    loaded = bid.version
    answering.save_answer(colleague(organisation), bid.opportunity_id, quality.id, "The colleague's answer", loaded)

    with pytest.raises(prep.StaleBid, match="A colleague changed this section at .*copy it, then reload") as refused:
        answering.save_answer(bidder, bid.opportunity_id, quality.id, "My answer", loaded)

    assert refused.value.field == "text"
    assert prep.saved_answer(reload(bid), quality.id) == "The colleague's answer"
    assert len(events("bid.section_saved")) == 1


def test_a_write_racing_another_commit_is_refused_rather_than_overwriting_it(bid, bidder, opportunity):
    """Two requests loaded the same version; the other committed first (changed here behind the session's back)."""
    bid = reload(bid)
    db.session.execute(sa.text("SELECT 1"))  # the session's transaction has begun with the old version
    with db.engine.begin() as other:
        other.execute(sa.update(Bid).where(Bid.id == bid.id).values(version=Bid.version + 1))

    with pytest.raises(prep.StaleBid):
        prep.add_commitment(bidder, bid, prep.CommitmentDetails("apprenticeships", Decimal(52), "Two apprentices"))
    assert reload(bid).commitments == []


def test_concurrent_saves_of_the_same_version_on_postgresql_store_exactly_one(bid, bidder, opportunity, organisation,
                                                                              app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    quality, loaded, bid_id = criterion_of(opportunity, "quality").id, bid.version, bid.id
    people = [bidder] + [colleague(organisation) for _ in range(5)]
    ids = [(person.id, n) for n, person in enumerate(people)]
    db.session.remove()
    outcomes, barrier = [], threading.Barrier(len(ids), timeout=30)

    def save(user_id: int, n: int) -> None:
        with app.app_context():
            from marketplace.accounts.models import User
            user, working = db.session.get(User, user_id), db.session.get(Bid, bid_id)
            barrier.wait()
            try:
                answering.save_answer(user, working.opportunity_id, quality, f"Answer {n}", loaded)
                outcomes.append(n)
            except prep.StaleBid:
                outcomes.append(None)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=args) for args in ids]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]

    winners = [n for n in outcomes if n is not None]
    assert len(outcomes) == len(ids) and len(winners) == 1
    stored = db.session.get(Bid, bid_id)
    assert prep.saved_answer(stored, quality) == f"Answer {winners[0]}"
    assert stored.version == loaded + 1
    assert len(events("bid.section_saved")) == 1


def _postgresql_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")


def test_a_page_about_to_save_holds_the_opportunity_so_no_amendment_can_move_the_deadline_meanwhile(
        opportunity, bid):
    _postgresql_only()
    db.session.commit()
    prep.opportunity_with_questions(opportunity.id, lock=True)
    try:
        with db.engine.connect() as amendment:
            amendment.execute(sa.text("SET lock_timeout = '200ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                amendment.execute(sa.update(Opportunity).where(Opportunity.id == opportunity.id)
                                  .values(submission_deadline=utcnow() - timedelta(minutes=1)))
    finally:
        db.session.rollback()


def test_a_save_after_a_locked_read_does_not_read_the_opportunity_again(opportunity, bid, bidder):
    _postgresql_only()
    version = bid.version
    db.session.commit()
    working = db.session.get(Bid, bid.id)
    prep.opportunity_with_questions(opportunity.id, lock=True)
    with statements_sent() as sent:
        prep.save_price(bidder, working, Decimal(1000), version)

    assert not [s for s in sent if s.lstrip().upper().startswith("SELECT") and "FROM opportunities" in s]
    assert reload(bid).price_total == Decimal("1000.00")


def _amend_deadline_to_the_past(opportunity: Opportunity) -> None:
    with db.engine.begin() as amendment:  # another request's amendment, committed
        amendment.execute(sa.update(Opportunity).where(Opportunity.id == opportunity.id)
                          .values(submission_deadline=utcnow() - timedelta(minutes=1)))


def test_a_save_after_an_unlocked_read_reads_the_opportunity_again_and_sees_an_amendment(opportunity, bid,
                                                                                         bidder):
    version = bid.version
    db.session.commit()
    working = db.session.get(Bid, bid.id)
    prep.opportunity_with_questions(opportunity.id)  # read in this transaction, without the lock
    _amend_deadline_to_the_past(opportunity)

    with pytest.raises(DomainError, match="deadline for bids passed"):
        prep.save_price(bidder, working, Decimal(1000), version)
    assert reload(bid).price_total is None


def test_a_lock_taken_in_an_earlier_transaction_is_not_trusted(opportunity, bid, bidder):
    version = bid.version
    db.session.commit()
    working = db.session.get(Bid, bid.id)
    prep.opportunity_with_questions(opportunity.id, lock=True)
    session = db.session()
    session.expire_on_commit = False  # the loaded opportunity outlives the transaction, and its lock
    try:
        session.commit()
        _amend_deadline_to_the_past(opportunity)
        with pytest.raises(DomainError, match="deadline for bids passed"):
            prep.save_price(bidder, working, Decimal(1000), version)
    finally:
        session.expire_on_commit = True
    assert reload(bid).price_total is None


# Saves refused when the bid cannot change ------------------------------------------------------------------

def test_saves_after_the_deadline_are_refused_by_the_server_clock(bid, bidder, opportunity):
    quality = criterion_of(opportunity, "quality")
    close(opportunity)

    with pytest.raises(DomainError, match="deadline for bids passed"):
        answering.save_answer(bidder, bid.opportunity_id, quality.id, "Too late", reload(bid).version)
    with pytest.raises(DomainError, match="deadline for bids passed"):
        prep.add_document(bidder, reload(bid), "Policy", "policy.pdf", PDF)
    assert prep.saved_answer(reload(bid), quality.id) == ""
    assert reload(bid).documents == []
    assert events("bid.section_saved") == []


def test_a_submitted_bid_must_be_withdrawn_before_it_changes(bid, bidder, opportunity):
    mark(bid, rules.SUBMITTED)
    with pytest.raises(DomainError, match="withdraw it first"):
        prep.save_price(bidder, reload(bid), Decimal(1000), reload(bid).version)
    assert reload(bid).price_total is None

    mark(reload(bid), rules.WITHDRAWN)
    prep.save_price(bidder, reload(bid), Decimal(1000), reload(bid).version)
    assert reload(bid).price_total == Decimal("1000.00")


def test_a_cancelled_opportunitys_bid_cannot_change(bid, bidder, opportunity):
    opportunity.status, opportunity.cancel_reason = "cancelled", "No longer needed"
    db.session.commit()
    with pytest.raises(DomainError, match="cancelled"):
        prep.save_declarations(bidder, reload(bid), prep.DeclarationDetails("none", "", True, True),
                               reload(bid).version)


def test_only_the_bidders_organisation_can_save(bid, opportunity):
    for outsider in (provider(), StaffFactory(roles=["procurement_officer"])):
        with pytest.raises(prep.NotABidder):
            prep.save_price(outsider, reload(bid), Decimal(10), reload(bid).version)
    assert reload(bid).price_total is None


# Answers -------------------------------------------------------------------------------------------------

def test_an_answer_over_the_word_limit_is_refused_with_the_count(bid, bidder, opportunity):
    quality = criterion_of(opportunity, "quality")
    with pytest.raises(DomainError, match="Your answer is 51 words. The limit is 50 words: remove 1 word,"):
        answering.save_answer(bidder, bid.opportunity_id, quality.id, " ".join(["word"] * 51), bid.version)

    answering.save_answer(bidder, bid.opportunity_id, quality.id, " ".join(["word"] * 50), reload(bid).version)
    assert rules.count_words(prep.saved_answer(reload(bid), quality.id)) == 50


def test_a_criterion_without_a_limit_takes_a_long_answer(bid, bidder, opportunity):
    social = criterion_of(opportunity, "social_value")
    answering.save_answer(bidder, bid.opportunity_id, social.id, "word " * 3000, bid.version)
    assert rules.count_words(prep.saved_answer(reload(bid), social.id)) == 3000


def test_pass_fail_questions_keep_yes_no_or_unanswered_with_a_note(bid, bidder, opportunity):
    gate = criterion_of(opportunity, "pass_fail")
    prep.save_confirmations(bidder, bid, {gate.id: (False, "Policy renewed next month")}, bid.version)
    [answer] = reload(bid).answers
    assert (answer.confirmed, answer.text) == (False, "Policy renewed next month")

    with pytest.raises(DomainError, match="only the questions shown"):
        prep.save_confirmations(bidder, reload(bid), {criterion_of(opportunity, "quality").id: (True, "")},
                                reload(bid).version)


# Price ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("total, message", [
    (None, "Enter your total price"),
    (Decimal("-1"), "more than £0"),
    (Decimal("0"), "more than £0"),
    (Decimal("100000000000.01"), "too large"),
])
def test_a_total_price_must_be_more_than_zero_and_believable(bid, bidder, total, message):
    with pytest.raises(DomainError, match=message):
        prep.save_price(bidder, bid, total, bid.version)
    assert reload(bid).price_total is None


def test_the_total_must_match_the_price_schedule_and_the_refusal_gives_the_difference(bid, bidder):
    prep.add_price_line(bidder, bid, prep.PriceLineDetails("Weekly visits", Decimal(52), "weeks", Decimal("1000")))
    prep.add_price_line(bidder, reload(bid), prep.PriceLineDetails("Training", Decimal("2.5"), "days",
                                                                   Decimal("333.33")))
    bid = reload(bid)
    assert prep.schedule_total(bid) == Decimal("52833.33")  # 2.5 x 333.33 = 833.325, rounded half up

    with pytest.raises(DomainError, match="adds up to £52,833.33: a difference of £166.67"):
        prep.save_price(bidder, bid, Decimal("53000"), bid.version)
    prep.save_price(bidder, reload(bid), Decimal("52833.33"), reload(bid).version)
    assert prep.price_difference(reload(bid)) is None


@pytest.mark.parametrize("line, field", [
    (prep.PriceLineDetails("  ", Decimal(1), "", Decimal(1)), "description"),
    (prep.PriceLineDetails("Visits", Decimal(0), "", Decimal(1)), "quantity"),
    (prep.PriceLineDetails("Visits", Decimal(1), "", Decimal(0)), "unit_price"),
    (prep.PriceLineDetails("Visits", Decimal(1000000000), "", Decimal(1000)), "quantity"),
])
def test_a_bad_price_line_is_refused_naming_the_field(bid, bidder, line, field):
    with pytest.raises(DomainError) as refused:
        prep.add_price_line(bidder, bid, line)
    assert refused.value.field == field
    assert reload(bid).price_lines == []


# Commitments, local economy and consortium ------------------------------------------------------------------

def test_a_commitment_takes_its_unit_from_the_measure(bid, bidder):
    prep.add_commitment(bidder, bid, prep.CommitmentDetails("spend_kent_vcse", Decimal(40000), "Catering by VCSEs"))
    [commitment] = reload(bid).commitments
    assert (commitment.measure, commitment.unit, commitment.quantity) == ("spend_kent_vcse", "£", Decimal("40000.00"))


@pytest.mark.parametrize("details, field", [
    (prep.CommitmentDetails("free_lunches", Decimal(5), "Lunches"), "measure"),
    (prep.CommitmentDetails("apprenticeships", Decimal(0), "None"), "quantity"),
    (prep.CommitmentDetails("apprenticeships", Decimal(3), " "), "description"),
])
def test_a_bad_commitment_is_refused(bid, bidder, details, field):
    with pytest.raises(DomainError) as refused:
        prep.add_commitment(bidder, bid, details)
    assert refused.value.field == field


@pytest.mark.parametrize("details, field", [
    (prep.LocalEconomyDetails(Decimal("1.01"), 0, 0), "kent_share"),
    (prep.LocalEconomyDetails(Decimal("-0.01"), 0, 0), "kent_share"),
    (prep.LocalEconomyDetails(Decimal("0.5"), 10001, 0), "kent_jobs"),
    (prep.LocalEconomyDetails(Decimal("0.5"), 1, -1), "kent_apprenticeships"),
])
def test_local_economy_commitments_stay_within_bounds(bid, bidder, details, field):
    with pytest.raises(DomainError) as refused:
        prep.save_local_economy(bidder, bid, details, bid.version)
    assert refused.value.field == field
    assert reload(bid).kent_share is None


def member(name="Margate Men's Shed", share="0.6", **overrides) -> prep.MemberDetails:
    fields = dict(name=name, org_type="voluntary_community", size="micro", kent_based=True, role="subcontractor",
                  share=Decimal(share), linked_organisation_id=None)
    fields.update(overrides)
    return prep.MemberDetails(**fields)


def test_consortium_shares_over_100_percent_are_refused(bid, bidder):
    first = prep.add_member(bidder, bid, member())
    with pytest.raises(DomainError, match="Shares would add up to 105%, more than 100%"):
        prep.add_member(bidder, reload(bid), member("Deal Youth Trust", "0.45"))
    prep.add_member(bidder, reload(bid), member("Deal Youth Trust", "0.4"))

    bid = reload(bid)
    with pytest.raises(DomainError, match="already have 40%"):
        prep.update_member(bidder, bid, bid.members[0], member(share="0.61"), bid.version)
    prep.update_member(bidder, bid, next(m for m in bid.members if m.id == first.id), member(share="0.6"),
                       bid.version)
    assert prep.shares_total(reload(bid)) == Decimal("1")


@pytest.mark.parametrize("overrides, field", [
    ({"org_type": "cult"}, "org_type"), ({"size": "huge"}, "size"), ({"role": "owner"}, "role"),
    ({"share": Decimal(0)}, "share"), ({"name": " "}, "name"), ({"linked_organisation_id": 999999},
                                                                 "linked_organisation"),
])
def test_a_bad_member_is_refused(bid, bidder, overrides, field):
    with pytest.raises(DomainError) as refused:
        prep.add_member(bidder, bid, member(**overrides))
    assert refused.value.field == field
    assert reload(bid).members == []


def test_a_member_can_link_a_registered_organisation_but_not_the_bidder_itself(bid, bidder, organisation):
    partner = OrganisationFactory(legal_name="Deal Youth Trust")
    with pytest.raises(DomainError, match="lead bidder"):
        prep.add_member(bidder, bid, member(linked_organisation_id=organisation.id))
    prep.add_member(bidder, reload(bid), member(linked_organisation_id=partner.id))
    assert reload(bid).members[0].linked_organisation_id == partner.id


def test_searching_registered_organisations_gives_legal_names_only_and_treats_wildcards_as_text(bidder, organisation):
    OrganisationFactory(legal_name="Deal Youth Trust")
    OrganisationFactory(legal_name="Dover 100% Community")
    OrganisationFactory(legal_name="Dover Arts")

    assert [name for _, name in prep.find_organisations("youth", None)] == ["Deal Youth Trust"]
    assert [name for _, name in prep.find_organisations("100%", None)] == ["Dover 100% Community"]
    assert prep.find_organisations("%%%", None) == []
    assert prep.find_organisations("do", None) == []  # too short to search
    assert prep.find_organisations("Thanet Lunch", organisation.id) == []  # not the bidder itself
    assert all(isinstance(row, tuple) and len(row) == 2 for row in prep.find_organisations("Dover", None))


# Documents -----------------------------------------------------------------------------------------------

def test_a_document_is_stored_with_its_sha256_and_a_type_decided_by_its_content(bid, bidder):
    import hashlib

    data = docx_bytes()
    prep.add_document(bidder, bid, "Safeguarding policy", "policy.pdf", data)  # a Word file named .pdf

    [document] = reload(bid).documents
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.content_type == documents.TYPES["docx"][0]
    assert document.filename == "policy.docx" and document.size == len(data)
    assert documents.path_for(document.storage_key).read_bytes() == data


@pytest.mark.parametrize("name, data, message", [
    ("policy.pdf", b"Just some text pretending to be a PDF", "must be a PDF, DOCX, XLSX, ODT or ODS"),
    ("empty.pdf", b"", "empty"),
])
def test_a_document_that_is_not_what_its_name_says_or_is_empty_is_refused(bid, bidder, name, data, message):
    with pytest.raises(DomainError, match=message) as refused:
        prep.add_document(bidder, bid, "Policy", name, data)
    assert refused.value.field == "file"
    assert reload(bid).documents == []


@pytest.mark.parametrize("app_overrides", [{"MAX_DOCUMENT_BYTES": 64}])
def test_a_document_over_the_size_limit_is_refused(bid, bidder, app_overrides):
    with pytest.raises(DomainError, match="must be smaller than"):
        prep.add_document(bidder, bid, "Policy", "policy.pdf", PDF + b" " * 64)
    assert reload(bid).documents == []


def test_a_refused_upload_leaves_no_file_behind(bid, bidder, app):
    root = documents._root()
    before = set(root.iterdir())
    with pytest.raises(DomainError):
        prep.add_document(bidder, bid, " ", "policy.pdf", PDF)  # no title
    assert set(root.iterdir()) == before


def test_removing_a_document_deletes_its_file_unless_a_sealed_version_lists_it(bid, bidder):
    kept = prep.add_document(bidder, bid, "Policy", "policy.pdf", PDF)
    path = documents.path_for(kept.storage_key)
    prep.remove_document(bidder, reload(bid), reload(bid).documents[0])
    assert not path.exists() and reload(bid).documents == []

    sealed = prep.add_document(bidder, reload(bid), "Policy", "policy.pdf", PDF)
    db.session.add(BidSubmission(bid_id=bid.id, number=1, submitted_at=utcnow(), sha256="0" * 64, content="{}"))
    db.session.commit()
    prep.remove_document(bidder, reload(bid), reload(bid).documents[0])
    assert documents.path_for(sealed.storage_key).exists()


# The audit trail -----------------------------------------------------------------------------------------

def test_every_save_is_audited_by_section_without_any_bid_content(bid, bidder, opportunity):
    quality = criterion_of(opportunity, "quality")
    answering.save_answer(bidder, bid.opportunity_id, quality.id, "SECRET-ANSWER", bid.version)
    prep.save_price(bidder, reload(bid), Decimal("4321.00"), reload(bid).version)
    prep.add_document(bidder, reload(bid), "SECRET-TITLE", "secret-name.pdf", PDF)

    saved = events("bid.section_saved")
    assert [event.details for event in saved] == [{"section": f"answer-{quality.id}"}, {"section": "price"},
                                                  {"section": "documents"}]
    assert all(event.actor_id == bidder.id and event.object_id == str(bid.id) for event in saved)
    everything = " ".join(str(event.details) for event in db.session.execute(sa.select(AuditEvent)).scalars())
    assert "SECRET" not in everything and "4321" not in everything and "secret-name" not in everything
    assert verify_database().ok


def test_a_refused_save_writes_nothing_at_all(bid, bidder, opportunity):
    version = reload(bid).version
    with pytest.raises(DomainError):
        answering.save_answer(bidder, bid.opportunity_id, criterion_of(opportunity, "quality").id, "word " * 60,
                              bid.version)
    assert reload(bid).version == version
    assert db.session.execute(sa.select(sa.func.count(BidAnswer.id))).scalar_one() == 0
    assert events("bid.section_saved") == []
