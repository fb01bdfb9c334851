"""The contract register's and the spend dashboard's queries on a real database (SQLite, and PostgreSQL with
TEST_DATABASE_URL): which contracts are on the register, its filters and orders, and each dashboard figure summed
in SQL from hand-made contracts whose figures are worked out by hand below."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.right_to_bid.models import CatalogueService, Proposal
from marketplace.timeutil import london, utcnow
from marketplace.transparency import kpis
from marketplace.transparency.dashboard import Filters, Quarter
from marketplace.transparency.register import RegisterQuery, register_statement
from tests.contract_builders import OUTSIDE_KENT, awarded_opportunity, commitment, make_contract, member
from tests.factories import OrganisationFactory, StaffFactory

THRESHOLD = Decimal("5000")
_numbers = itertools.count(1)


def this_quarter() -> Quarter:
    return Quarter.containing(london(utcnow()).date())


def references(query: RegisterQuery = RegisterQuery(), threshold: Decimal = THRESHOLD) -> list[str]:
    return [row[0].reference for row in db.session.execute(register_statement(query, threshold))]


# The register -----------------------------------------------------------------------------------------

def test_the_register_lists_awarded_contracts_at_or_above_the_threshold(app):
    at = make_contract(value="5000.00")
    above = make_contract(value="5000.01")
    make_contract(value="4999.99")
    assert sorted(references()) == sorted([at.reference, above.reference])


def test_a_contract_whose_opportunity_is_not_awarded_is_not_on_the_register(app):
    make_contract(opportunity_fields={"status": "standstill"})
    assert references() == []


def test_the_register_reads_the_suppliers_registration_numbers_from_its_organisation(app):
    make_contract(OrganisationFactory(companies_house_number="01234567", charity_number="1100042"))
    row = db.session.execute(register_statement(RegisterQuery(), THRESHOLD)).one()
    assert (row.companies_house_number, row.charity_number) == ("01234567", "1100042")


def test_searching_matches_every_word_in_the_title_reference_supplier_or_description(app):
    meals = make_contract(OrganisationFactory(legal_name="Thanet Meals"), title="Meals on wheels")
    library = make_contract(opportunity_fields={"summary": "A mobile library for rural Swale."}, title="Library van")
    assert references(RegisterQuery(text="thanet meals")) == [meals.reference]
    assert references(RegisterQuery(text="RURAL")) == [library.reference]
    assert references(RegisterQuery(text=library.reference.lower())) == [library.reference]
    assert references(RegisterQuery(text="100%_")) == []  # wildcards are plain characters


def test_the_register_filters_by_category_supplier_and_value(app):
    vcse = make_contract(OrganisationFactory(org_type="charity", size="small"), value="20000", category="public-health")
    large = make_contract(OrganisationFactory(org_type="private_company", size="large", postcode=OUTSIDE_KENT),
                          value="900000")
    assert references(RegisterQuery(category="public-health")) == [vcse.reference]
    assert references(RegisterQuery(supplier="vcse")) == [vcse.reference]
    assert references(RegisterQuery(supplier="sme")) == [vcse.reference]
    assert references(RegisterQuery(supplier="kent")) == [vcse.reference]
    assert references(RegisterQuery(supplier="large")) == [large.reference]
    assert references(RegisterQuery(value_from=Decimal(20000), value_to=Decimal(20000))) == [vcse.reference]
    assert references(RegisterQuery(value_from=Decimal(20000.01))) == [large.reference]


def test_the_register_sorts_as_asked_with_the_newest_award_first_by_default(app):
    now = utcnow()
    old = make_contract(OrganisationFactory(legal_name="Zebra Care"), value="10000", awarded_at=now - timedelta(days=9),
                        end_date=date(2030, 1, 1))
    new = make_contract(OrganisationFactory(legal_name="aardvark care"), value="30000", awarded_at=now,
                        end_date=date(2031, 1, 1))
    mid = make_contract(OrganisationFactory(legal_name="Mole Care"), value="20000", awarded_at=now - timedelta(days=3),
                        end_date=date(2029, 1, 1))
    assert references() == [new.reference, mid.reference, old.reference]
    assert references(RegisterQuery(sort="value-low")) == [old.reference, mid.reference, new.reference]
    assert references(RegisterQuery(sort="value-high")) == [new.reference, mid.reference, old.reference]
    assert references(RegisterQuery(sort="ending")) == [mid.reference, old.reference, new.reference]
    assert references(RegisterQuery(sort="supplier")) == [new.reference, mid.reference, old.reference]


# The dashboard: three contracts worked out by hand ----------------------------------------------------

@pytest.fixture()
def three_contracts(app):
    """A: Kent-based small charity, £100,000, Kent members 15% and another 10%, apprenticeships and a fund.
    B: a large firm outside Kent, £300,000, nothing committed.
    C: a Kent-based small company, £50,000, a Kent subcontractor at 20%, apprenticeships.
    Totals: £450,000; Kent-based £150,000 (33.3%) in 2 of 3 contracts (66.7%); VCSE £100,000 (22.2%);
    SME £150,000; through Kent members £15,000 + £10,000 = £25,000, through others £10,000."""
    commissioner = StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")
    a = make_contract(OrganisationFactory(org_type="charity", size="small"), value="100000", created_by=commissioner,
                      kent_spend="40000", kent_jobs=3, kent_apprenticeships=1,
                      consortium=[member("Shed", "0.150000", True), member("Far Away", "0.100000", False)],
                      social_value_commitments=[commitment("apprenticeships", "156.00", "weeks"),
                                                commitment("community_fund", "5000.00", "£")],
                      opportunity_fields={"category": "adult-social-care", "localities": ["thanet", "dover"]},
                      category="adult-social-care")
    b = make_contract(OrganisationFactory(org_type="private_company", size="large", postcode=OUTSIDE_KENT,
                                          charity_number=None), value="300000",
                      opportunity_fields={"category": "highways-and-transport", "localities": ["county-wide"]},
                      category="highways-and-transport")
    c = make_contract(OrganisationFactory(org_type="private_company", size="small", charity_number=None),
                      value="50000", created_by=commissioner, kent_spend="20000", kent_jobs=2,
                      consortium=[member("Local Hands", "0.200000", True, role="consortium_member")],
                      social_value_commitments=[commitment("apprenticeships", "52.00", "weeks")],
                      opportunity_fields={"category": "adult-social-care", "localities": ["dover"]},
                      category="adult-social-care")
    return a, b, c


def test_supplier_totals_are_summed_in_the_database(three_contracts):
    totals = kpis.supplier_totals(Filters())
    assert (totals.contracts, totals.value) == (3, Decimal("450000.00"))
    assert (totals.kent_contracts, totals.kent_value) == (2, Decimal("150000.00"))
    assert (totals.vcse_contracts, totals.vcse_value) == (1, Decimal("100000.00"))
    assert (totals.sme_contracts, totals.sme_value) == (2, Decimal("150000.00"))
    assert (totals.kent_spend, totals.kent_jobs, totals.kent_apprenticeships) == (Decimal("60000.00"), 5, 1)


def test_value_through_subcontractors_is_each_contracts_value_times_each_members_share(three_contracts):
    assert kpis.supply_chain_values(Filters()) == (Decimal("25000.00"), Decimal("10000.00"))


def test_social_value_is_summed_by_measure_with_the_contracts_committing(three_contracts):
    totals = {t.measure: (t.unit, t.quantity, t.contracts) for t in kpis.social_value_totals(Filters())}
    assert totals == {"apprenticeships": ("weeks", Decimal("208"), 2), "community_fund": ("£", Decimal("5000"), 1)}


def test_the_filters_narrow_every_contract_figure(three_contracts):
    adult = Filters(category="adult-social-care")
    assert kpis.supplier_totals(adult).value == Decimal("150000.00")
    assert kpis.supply_chain_values(adult) == (Decimal("25000.00"), Decimal("10000.00"))
    dover = Filters(locality="dover")
    assert kpis.supplier_totals(dover).contracts == 2
    assert kpis.supplier_totals(Filters(locality="thanet")).value == Decimal("100000.00")
    assert kpis.supplier_totals(Filters(quarter=this_quarter())).contracts == 3
    assert kpis.supplier_totals(Filters(quarter=this_quarter().previous)).contracts == 0
    assert kpis.social_value_totals(Filters(quarter=this_quarter().previous)) == []


def test_a_contract_counts_in_the_quarter_of_its_award(app):
    make_contract(value="1000", awarded_at=utcnow() - timedelta(days=200))
    make_contract(value="2000")
    assert kpis.supplier_totals(Filters(quarter=this_quarter())).value == Decimal("2000.00")
    old_quarter = Quarter.containing(london(utcnow() - timedelta(days=200)).date())
    assert kpis.supplier_totals(Filters(quarter=old_quarter)).value == Decimal("1000.00")


def test_days_to_award_are_counted_from_publication(app):
    now = utcnow()
    make_contract(awarded_at=now, opportunity_fields={"published_at": now - timedelta(days=45)})
    make_contract(awarded_at=now, opportunity_fields={"published_at": now - timedelta(days=100)})
    make_contract(awarded_at=now, opportunity_fields={"published_at": now - timedelta(days=110)})
    bands = {band.band: (band.contracts, round(band.days)) for band in kpis.days_to_award_bands(Filters())}
    assert bands == {0: (1, 45), 2: (2, 210)}


def test_staff_breakdowns_by_category_and_commissioner(three_contracts):
    categories = {g.name: (g.contracts, g.value, g.kent_value) for g in kpis.category_totals(Filters())}
    assert categories == {"Adult social care": (2, Decimal("150000.00"), Decimal("150000.00")),
                          "Highways and transport": (1, Decimal("300000.00"), Decimal("0.00"))}
    people = [(g.name, g.contracts, g.value) for g in kpis.commissioner_totals(Filters())]
    assert people == [("Not recorded", 1, Decimal("300000.00")), ("Chris Commissioner", 2, Decimal("150000.00"))]


# Bids per opportunity ---------------------------------------------------------------------------------

def bids(opportunity, *statuses: str) -> None:
    for status in statuses:
        db.session.add(Bid(opportunity_id=opportunity.id, organisation_id=OrganisationFactory().id, status=status))
    db.session.commit()


def opportunity(deadline_in_days: int, status: str = "published", **fields):
    fields = {"published_at": utcnow() - timedelta(days=30), **fields}
    found = awarded_opportunity(status=status, submission_deadline=utcnow() + timedelta(days=deadline_in_days),
                                **fields)
    db.session.commit()
    return found


def test_bids_are_counted_only_for_opportunities_past_their_deadline(app):
    bids(opportunity(-1), "submitted", "submitted", "withdrawn", "draft")
    bids(opportunity(-5, status="evaluating"), "opened", "excluded", "compliant")
    bids(opportunity(+3), "submitted", "submitted", "submitted", "submitted")  # still open: never counted
    bids(opportunity(-2))
    bids(opportunity(-2, status="cancelled"), "submitted")
    bids(opportunity(-2, status="draft", published_at=None), "submitted")
    assert kpis.bids_distribution(Filters(), utcnow()) == {2: 1, 3: 1, 0: 1}


def test_the_pipeline_lists_closed_opportunities_not_yet_awarded_with_their_bids(app):
    bids(opportunity(-1, title="Past deadline, clock not run"), "submitted")
    bids(opportunity(-9, status="standstill", title="In standstill"), "successful", "unsuccessful")
    bids(opportunity(+3, title="Still open"), "submitted")
    opportunity(-20, status="awarded", title="Done")
    items = [(item.title, item.state, item.bids) for item in kpis.pipeline(Filters(), utcnow())]
    assert items == [("In standstill", "Standstill", 2), ("Past deadline, clock not run", "Closed", 1)]


# Right to bid -----------------------------------------------------------------------------------------

def proposal(status: str, category: str = "community-and-libraries", locality: str = "thanet",
             submitted_at=None) -> Proposal:
    today = london(utcnow()).date()
    service = CatalogueService(name="Mobile library", annual_cost=Decimal("180000"), locality=locality,
                               category=category, window_opens=today - timedelta(days=300),
                               window_closes=today + timedelta(days=10))
    db.session.add(service)
    db.session.flush()
    found = Proposal(reference=f"RTB-T-{next(_numbers):04d}", service_id=service.id, proposer_type="charity",
                     proposer_name="Friends of the Library", outcomes="More readers", cost_and_savings="Less",
                     staffing="Two", social_value="Volunteers", capacity="Some", financial_resources="Reserves",
                     capability="Years", decision_due=today + timedelta(days=60), status=status,
                     submitted_at=submitted_at or this_quarter().bounds()[0] + timedelta(hours=1))
    db.session.add(found)
    db.session.commit()
    return found


def test_right_to_bid_proposals_are_counted_by_outcome_and_filtered_by_their_service(app):
    proposal("submitted")
    proposal("accepted")
    proposal("accepted", locality="dover")
    proposal("rejected", category="public-health")
    proposal("rejected", submitted_at=utcnow() - timedelta(days=400))
    assert kpis.right_to_bid_counts(Filters()) == {"submitted": 1, "accepted": 2, "rejected": 2}
    assert kpis.right_to_bid_counts(Filters(locality="dover")) == {"accepted": 1}
    assert kpis.right_to_bid_counts(Filters(category="public-health")) == {"rejected": 1}
    assert kpis.right_to_bid_counts(Filters(quarter=this_quarter())) == {"submitted": 1, "accepted": 2,
                                                                         "rejected": 1}
