"""axe-core (WCAG 2.2 A and AA) on the contract register, a contract and the spend dashboard, in a real headless
Chromium, for the public and for council staff; with the filters' error messages too. Screenshots of each page
are left in /tmp for a person to look at."""

from __future__ import annotations

import pytest

from tests.contract_builders import OUTSIDE_KENT, commitment, make_contract, member
from tests.factories import OrganisationFactory, StaffFactory

PAGES = {
    "register": ("/contracts", "Contract register", False),
    "register-filtered": ("/contracts?q=befriending&supplier=sme&sort=value-high", "Contract register", False),
    "register-errors": ("/contracts?value_from=lots&category=nonsense", "Contract register", True),
    "contract": ("/contracts/{contract}", "Befriending in Thanet", False),
    "dashboard": ("/spending", "Spending dashboard", False),
    "dashboard-errors": ("/spending?quarter=2026-Q9&locality=medway", "Spending dashboard", True),
}


@pytest.fixture()
def data(app) -> dict:
    commissioner = StaffFactory(roles=["commissioner", "procurement_officer"], full_name="Cora Commissioner")
    kent = OrganisationFactory(legal_name="Margate Community Meals", companies_house_number="09876543")
    away = OrganisationFactory(legal_name="Lewisham Lunches Ltd", postcode=OUTSIDE_KENT, org_type="private_company",
                               size="large", charity_number=None)
    contract = make_contract(kent, value="120000", created_by=commissioner, title="Befriending in Thanet",
                             kent_share="0.40", kent_spend="48000", kent_jobs=3, kent_apprenticeships=1,
                             consortium=[member("Margate Men's Shed", "0.150000", True)],
                             social_value_commitments=[commitment("apprenticeships", "156.00", "weeks")])
    make_contract(away, value="80000", created_by=commissioner, title="Meals on wheels in Dartford")
    return {"ids": {"contract": contract.id}, "staff": commissioner}


@pytest.mark.parametrize("name", list(PAGES))
def test_transparency_page_has_no_axe_violations_for_the_public(name, page, data, axe_check):
    path, title, with_errors = PAGES[name]
    response = page.goto(path.format(**data["ids"]))
    assert response.status == 200
    assert title in page.locator("h1").inner_text()
    assert page.locator(".govuk-error-summary").is_visible() == with_errors
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=f"/tmp/e2e-transparency-{name}.png", full_page=True)
    axe_check(page)


def test_the_dashboard_with_the_staff_figures_has_no_axe_violations(page, data, sign_in, axe_check):
    sign_in(page, data["staff"].email, next="/spending")
    assert page.get_by_role("heading", name="For council staff only").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/e2e-transparency-dashboard-staff.png", full_page=True)
    axe_check(page)
