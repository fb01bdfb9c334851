"""Open contracting data built from the database: a release per state change of each public opportunity, every
package valid against the OCDS 1.1.5 schema with the Bids, Lots and UK extensions (offline), and nothing about
a bid before the deadline, nothing but statistics before the award notice, never a sealed bid's content."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent
from marketplace.awards.models import Award, Contract
from marketplace.bids import rules, submission
from marketplace.bids.models import Bid
from marketplace.evaluation import working_days
from marketplace.extensions import db
from marketplace.opportunities import lifecycle
from marketplace.opportunities import services as opportunity_services
from marketplace.opportunities.models import Opportunity
from marketplace.organisations.models import Organisation
from marketplace.settings import services as settings
from marketplace.timeutil import london, utcnow
from marketplace.transparency import ocds
from marketplace.transparency.ocds_build import stamp
from marketplace.transparency.ocds_validate import validate_package
from tests.builders import closed_with_bids, make_bid, make_opportunity
from tests.factories import OrganisationFactory, StaffFactory, provider
from tests.staff_fixtures import author, officer, request_context  # noqa: F401 (fixtures)

PRICES = (Decimal("120000.00"), Decimal("100000.00"), Decimal("135000.00"))


def package_of(opportunity: Opportunity) -> dict:
    package = ocds.opportunity_package(opportunity, utcnow())
    assert validate_package(package) == []
    return package


def tags(package: dict) -> list[list[str]]:
    return [release["tag"] for release in package["releases"]]


def release(package: dict, tag: str) -> dict:
    return next(r for r in package["releases"] if tag in r["tag"])


def award(opportunity: Opportunity, winner, officer, notice_days_ago: int = 2) -> Award:
    """An approved award in standstill, its notice published `notice_days_ago` days ago."""
    notice = utcnow() - timedelta(days=notice_days_ago)
    row = Award(opportunity_id=opportunity.id, bid_id=winner.id, status="approved", reasons="Highest score",
                recommended_by_id=officer.id, recommended_at=notice - timedelta(days=1), decided_by_id=officer.id,
                decided_at=notice, notice_published_at=notice,
                standstill_ends_on=working_days.standstill_end(london(notice).date()))
    db.session.add(row)
    for bid in db.session.execute(sa.select(Bid).where(
            Bid.opportunity_id == opportunity.id)).scalars():
        bid.status = rules.SUCCESSFUL if bid.id == winner.id else rules.UNSUCCESSFUL
    opportunity.status = lifecycle.STANDSTILL
    db.session.commit()
    return row


def confirm(opportunity: Opportunity, row: Award, officer) -> Contract:
    organisation = db.session.get(Organisation, db.session.get(Bid, row.bid_id).organisation_id)
    row.status, row.confirmed_by_id, row.confirmed_at = "confirmed", officer.id, utcnow() - timedelta(hours=1)
    start = london(utcnow()).date() + timedelta(days=30)
    contract = Contract(
        reference=f"{opportunity.reference}-C1", opportunity_id=opportunity.id, award_id=row.id, bid_id=row.bid_id,
        organisation_id=organisation.id, title=opportunity.title, category=opportunity.category,
        supplier_name=organisation.legal_name, supplier_org_type=organisation.org_type,
        supplier_size=organisation.size, supplier_is_vcse=organisation.is_vcse, supplier_is_sme=organisation.is_sme,
        supplier_kent_based=organisation.kent_based, value=Decimal("100000.00"), start_date=start,
        end_date=start + timedelta(days=729), awarded_at=row.confirmed_at)
    opportunity.status = lifecycle.AWARDED
    db.session.add(contract)
    db.session.commit()
    return contract


def closed_days_ago(opportunity: Opportunity, days: int = 10) -> None:
    opportunity.submission_deadline = utcnow() - timedelta(days=days)
    opportunity.clarification_deadline = utcnow() - timedelta(days=days + 2)
    opportunity.published_at = opportunity.publication_date = utcnow() - timedelta(days=days + 30)
    db.session.commit()


@pytest.fixture()
def closed(author):
    """Three sealed bids, closed ten days ago: two small charities and (changed after bidding) a large company."""
    opportunity, bids = closed_with_bids(author, prices=PRICES, lots=2)
    closed_days_ago(opportunity)
    large = db.session.get(Organisation, bids[2].organisation_id)
    large.org_type, large.size, large.companies_house_number = "private_company", "large", "01234567"
    db.session.commit()
    return opportunity, bids


def awarded(author, officer, bidders: int) -> Opportunity:
    """An opportunity with `bidders` sealed bids from new organisations, awarded to the first."""
    opportunity = make_opportunity(author)
    bids = []
    for _ in range(bidders):
        organisation = OrganisationFactory()
        bid = make_bid(opportunity, organisation)
        submission.submit(provider(organisation), bid, bid.version)
        bids.append(bid)
    opportunity.status = lifecycle.CLOSED
    closed_days_ago(opportunity)
    confirm(opportunity, award(opportunity, bids[0], officer), officer)
    return opportunity


# Tender -----------------------------------------------------------------------------------------------------

def test_a_published_opportunity_has_one_valid_tender_release_under_the_ocid_prefix_from_settings(author):
    admin = StaffFactory(roles=["administrator"])
    settings.update(admin, {"ocds_ocid_prefix": "ocds-abc123"})
    opportunity = make_opportunity(author, lots=2, reference="KCC-2027-0042")
    package = package_of(opportunity)
    [tender] = package["releases"]
    assert tender["ocid"] == "ocds-abc123-KCC-2027-0042"
    assert tender["tag"] == ["tender"] and tender["date"] == stamp(opportunity.published_at)
    assert tender["tender"]["value"] == {"amount": 300000, "currency": "GBP"}
    assert [lot["title"] for lot in tender["tender"]["lots"]] == ["Lot 1: district 1", "Lot 2: district 2"]
    assert "Price (Price)" in tender["tender"]["awardCriteriaDetails"]
    assert tender["tender"]["documents"][0]["url"] == f"http://localhost/opportunities/{opportunity.id}"


def test_drafts_and_opportunities_not_yet_published_have_no_releases(author):
    make_opportunity(author, status="draft", published_at=None)
    make_opportunity(author, published_at=utcnow() + timedelta(days=1))
    public = make_opportunity(author)
    export = ocds.export_package(utcnow())
    assert {r["tender"]["id"] for r in export["releases"]} == {public.reference}


def test_before_the_deadline_a_submitted_bid_leaves_no_trace_in_the_releases(author):
    opportunity = make_opportunity(author)
    organisation = OrganisationFactory(legal_name="Sealed Bidder Trust")
    bid = make_bid(opportunity, organisation, marker="secret-marker")
    submission.submit(provider(organisation), bid, bid.version)
    text = json.dumps(package_of(opportunity))
    assert "Sealed Bidder Trust" not in text and "secret-marker" not in text
    assert '"bids"' not in text and "numberOfTenderers" not in text


def test_an_amendment_published_through_the_service_makes_a_tender_amendment_release(author):
    opportunity = make_opportunity(author)
    before = opportunity.submission_deadline
    amendment = opportunity_services.publish_amendment(
        author, opportunity, opportunity_services.AmendmentDetails("The specification now covers Dover too", True),
        opportunity.version)
    package = package_of(db.session.get(Opportunity, opportunity.id))
    assert tags(package) == [["tender"], ["tenderAmendment"]]
    first, second = package["releases"]
    assert first["tender"]["tenderPeriod"]["endDate"] == stamp(before)
    assert second["date"] == stamp(amendment.published_at)
    assert second["tender"]["tenderPeriod"]["endDate"] == stamp(amendment.new_deadline)
    assert second["tender"]["amendments"][0]["description"] == "The specification now covers Dover too"


def test_a_cancellation_is_dated_by_its_audit_event(author, officer):
    opportunity = make_opportunity(author)
    opportunity_services.cancel(officer, opportunity, "The service will be run in-house", opportunity.version)
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "opportunity.cancel")).scalar_one()
    package = package_of(db.session.get(Opportunity, opportunity.id))
    assert tags(package) == [["tender"], ["tenderCancellation"]]
    cancellation = package["releases"][-1]
    assert cancellation["date"] == stamp(event.occurred_at)
    assert cancellation["tender"]["status"] == "cancelled"
    assert "The service will be run in-house" in cancellation["tender"]["documents"][-1]["description"]


# After the deadline ---------------------------------------------------------------------------------------

def test_after_the_deadline_only_statistics_are_published_counting_sme_and_vcse_bids(closed):
    opportunity, bids = closed
    package = package_of(opportunity)
    assert tags(package) == [["tender"], ["tenderUpdate"]]
    update = package["releases"][-1]
    assert update["date"] == stamp(opportunity.submission_deadline)
    counts = {(s["measure"], s.get("relatedLot")): s["value"] for s in update["bids"]["statistics"]}
    assert counts == {("bids", None): 3, ("smeBids", None): 2, ("vcseBids", None): 2, ("bids", "1"): 3,
                      ("bids", "2"): 0}
    assert update["tender"]["numberOfTenderers"] == 3
    text = json.dumps(package)
    assert "Bidder 1 Community Interest Company" not in text and "120000" not in text
    assert "trained volunteers" not in text and "Method statement" not in text


def test_the_award_notice_publishes_a_pending_award_and_each_bid_s_sealed_price(closed, officer):
    opportunity, bids = closed
    row = award(opportunity, bids[1], officer)
    bids[2].status = rules.EXCLUDED
    db.session.commit()
    package = package_of(opportunity)
    assert tags(package) == [["tender"], ["tenderUpdate"], ["award"]]
    notice = package["releases"][-1]
    [published] = notice["awards"]
    assert published["status"] == "pending" and published["relatedBid"] == str(bids[1].id)
    assert published["value"] == {"amount": 100000, "currency": "GBP"}
    assert published["standstillPeriod"]["endDate"].startswith(row.standstill_ends_on.isoformat())
    details = {d["id"]: (d["status"], d["value"]["amount"]) for d in notice["bids"]["details"]}
    assert details == {str(bids[0].id): ("valid", 120000), str(bids[1].id): ("valid", 100000),
                       str(bids[2].id): ("disqualified", 135000)}
    roles = {p["name"]: p["roles"] for p in notice["parties"]}
    assert roles["Bidder 2 Community Interest Company"] == ["tenderer", "supplier"]
    assert "trained volunteers" not in json.dumps(package)


def test_confirming_the_award_publishes_the_contract_and_an_active_award(closed, officer):
    opportunity, bids = closed
    contract = confirm(opportunity, award(opportunity, bids[1], officer), officer)
    package = package_of(opportunity)
    assert tags(package) == [["tender"], ["tenderUpdate"], ["award"], ["awardUpdate", "contract"]]
    final = package["releases"][-1]
    assert final["id"].endswith(f"-contract-{contract.id}")
    assert final["awards"][0]["status"] == "active" and final["tender"]["status"] == "complete"
    assert final["contracts"][0]["id"] == contract.reference
    assert final["contracts"][0]["value"] == {"amount": 100000, "currency": "GBP"}
    assert package["releases"][2]["awards"][0]["status"] == "pending"


def test_cancelling_during_standstill_cancels_the_published_award(closed, officer):
    opportunity, bids = closed
    award(opportunity, bids[1], officer)
    opportunity_services.cancel(officer, opportunity, "A challenge was upheld", opportunity.version)
    package = package_of(db.session.get(Opportunity, opportunity.id))
    last = package["releases"][-1]
    assert last["tag"] == ["tenderCancellation", "awardCancellation"]
    assert last["awards"][0]["status"] == "cancelled"


# Pages and export ------------------------------------------------------------------------------------------

def count_queries(action) -> int:
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_queries_for_a_page_of_releases_do_not_grow_with_the_number_of_opportunities(author, officer):
    for bidders in (1, 2):
        awarded(author, officer, bidders)
    db.session.expire_all()
    few = count_queries(lambda: ocds.releases_page(1, 20, utcnow()))
    for bidders in (3, 2, 3):
        awarded(author, officer, bidders)
    db.session.expire_all()
    many = count_queries(lambda: ocds.releases_page(1, 20, utcnow()))
    assert few == many


def test_pages_link_to_the_next_and_the_export_holds_every_release_valid(author):
    opportunities = [make_opportunity(author) for _ in range(3)]
    first = ocds.releases_page(1, 2, utcnow())
    second = ocds.releases_page(2, 2, utcnow())
    assert first.package["links"] == {"next": "http://localhost/data/ocds/releases.json?page=2"}
    assert second.package["links"] == {"prev": "http://localhost/data/ocds/releases.json?page=1"}
    assert [r["tender"]["id"] for r in first.package["releases"] + second.package["releases"]] == \
        [o.reference for o in opportunities]
    with pytest.raises(ocds.PageOutOfRange, match="There is no page 3: the last page is 2."):
        ocds.releases_page(3, 2, utcnow())
    export = ocds.export_package(utcnow())
    assert len(export["releases"]) == 3
    for package in (first.package, second.package, export):
        assert validate_package(package) == []
