"""Organisation pages over HTTP: registration, Kent status, validation, who may see what, colleagues."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from marketplace.audit import AuditEvent, verify_database
from marketplace.extensions import db
from marketplace.organisations.models import Membership, Organisation, OrganisationInvitation
from marketplace.accounts.models import User
from tests.factories import PASSWORD, OrganisationFactory, StaffFactory, UserFactory, colleague, provider

NEW = "/organisation/new"


def form_data(**overrides) -> dict:
    """A complete, valid registration; overrides replace (or, when None, remove) fields."""
    data = {
        "legal_name": "Canterbury Community Transport",
        "org_type": "charity",
        "size": "small",
        "companies_house_number": "",
        "charity_number": "1123456",
        "trading_line1": "1 High Street",
        "trading_line2": "",
        "trading_town": "Canterbury",
        "trading_postcode": "ct1 2ab",
        "same_address": "y",
        "operations_line1": "",
        "operations_line2": "",
        "operations_town": "",
        "operations_postcode": "",
        "categories": ["adult-social-care", "public-health"],
        "localities": ["canterbury", "county-wide"],
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def operations_at(postcode: str, **overrides) -> dict:
    """Form data with a separate operations address at postcode."""
    return form_data(same_address=None, operations_line1="Unit 4, The Works", operations_town="Somewhere",
                     operations_postcode=postcode, **overrides)


def text(response) -> str:
    return response.get_data(as_text=True)


def organisations() -> list[Organisation]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Organisation).order_by(Organisation.id)).scalars())


def events(action: str | None = None) -> list[AuditEvent]:
    statement = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return list(db.session.execute(statement).scalars())


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_each_request_sees_the_user_signed_in_for_it(client, as_user):
    as_user(UserFactory(full_name="Alice Apple"))
    assert "Alice Apple" in text(client.get("/account"))
    as_user(UserFactory(full_name="Bob Banana"))
    page = text(client.get("/account"))
    assert "Bob Banana" in page and "Alice Apple" not in page


@pytest.fixture()
def newcomer(as_user):
    """A signed-in, verified provider user with no organisation yet."""
    user = UserFactory(email="newcomer@example.org")
    as_user(user)
    return user


# 1. Registration and the derived Kent status ------------------------------------------------------

def test_registering_stores_a_normalised_postcode_and_derives_kent_status_from_it(client, newcomer):
    response = client.submit(NEW, form_data())

    assert response.status_code == 302
    [organisation] = organisations()
    assert response.headers["Location"].endswith(f"/organisation/{organisation.id}")
    assert organisation.trading_postcode == organisation.operations_postcode == "CT1 2AB"
    assert organisation.kent_based is True
    assert organisation.district == "canterbury"
    assert organisation.kent_derivation == "From postcode CT1 2AB: outward code CT1 is in Canterbury."
    assert organisation.categories == ["adult-social-care", "public-health"]
    assert organisation.localities == ["canterbury", "county-wide"]

    page = text(client.get(response.headers["Location"]))
    assert "Your organisation is registered" in page
    assert "Kent-based: Canterbury" in page
    assert "From postcode CT1 2AB: outward code CT1 is in Canterbury." in page


def test_the_person_who_registers_becomes_the_owner(client, newcomer):
    client.submit(NEW, form_data())
    [organisation] = organisations()
    [membership] = organisation.memberships
    assert (membership.user_id, membership.role) == (newcomer.id, "owner")


def test_registration_writes_an_audit_event_in_the_same_transaction(client, newcomer):
    client.submit(NEW, form_data())
    [organisation] = organisations()
    [event] = events("organisation.registered")
    assert event.object_id == str(organisation.id)
    assert event.actor_id == newcomer.id
    assert event.details["district"] == "canterbury"
    assert event.details["derivation"] == organisation.kent_derivation
    assert verify_database().ok


@pytest.mark.parametrize("postcode, stored, derivation", [
    ("me4 4aa", "ME4 4AA",
     "From postcode ME4 4AA: outward code ME4 is in Medway, a separate unitary council, so outside Kent."),
    ("SW1A1AA", "SW1A 1AA", "From postcode SW1A 1AA: outside Kent."),
])
def test_medway_and_london_postcodes_are_outside_kent(client, newcomer, postcode, stored, derivation):
    response = client.submit(NEW, operations_at(postcode))

    assert response.status_code == 302
    [organisation] = organisations()
    assert organisation.operations_postcode == stored
    assert organisation.trading_postcode == "CT1 2AB"  # Kent status follows operations, not trading
    assert (organisation.kent_based, organisation.district) == (False, None)
    assert organisation.kent_derivation == derivation
    page = text(client.get(response.headers["Location"]))
    assert "Outside Kent" in page
    assert html.escape(derivation) in page


def test_the_same_address_box_copies_the_trading_address_into_the_operations_address(client, newcomer):
    client.submit(NEW, form_data(trading_line2="Second floor", operations_line1="Ignored Road",
                                 operations_postcode="ME4 4AA"))
    [organisation] = organisations()
    assert (organisation.operations_line1, organisation.operations_line2, organisation.operations_town,
            organisation.operations_postcode) == ("1 High Street", "Second floor", "Canterbury", "CT1 2AB")
    assert organisation.district == "canterbury"


def test_without_the_same_address_box_the_operations_address_is_kept_separately(client, newcomer):
    client.submit(NEW, operations_at("ct9 1aa"))
    [organisation] = organisations()
    assert (organisation.trading_postcode, organisation.operations_postcode) == ("CT1 2AB", "CT9 1AA")
    assert (organisation.operations_line1, organisation.operations_town) == ("Unit 4, The Works", "Somewhere")
    assert organisation.district == "thanet"


def _straddling_form(**overrides) -> dict:
    fields = {"legal_name": "Weald Youth Trust", "trading_line2": "Suite 2", "companies_house_number": "1234567",
              **overrides}
    return operations_at("tn3 0aa", **fields)


def test_a_straddling_postcode_asks_which_council_area_and_keeps_every_value_typed(client, newcomer):
    response = client.submit(NEW, _straddling_form())

    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Which council area are your operations in?" in page
    assert "Postcode area TN3 covers more than one council area" in page
    for value in ("tunbridge-wells", "sevenoaks", "outside-kent"):
        assert f'name="district_choice" type="radio" value="{value}"' in page
    for value in ("Weald Youth Trust", "Suite 2", "1 High Street", "Canterbury", "Unit 4, The Works",
                  "Somewhere", "TN3 0AA", "CT1 2AB", "01234567", "1123456"):
        assert f'value="{value}"' in page, value
    assert 'value="charity" checked' in page
    assert 'value="small" checked' in page
    assert 'value="adult-social-care" checked' in page
    assert 'value="county-wide" checked' in page
    assert organisations() == []
    assert events() == []


@pytest.mark.parametrize("choice, kent_based, district, chose", [
    ("tunbridge-wells", True, "tunbridge-wells", "the organisation chose Tunbridge Wells."),
    ("sevenoaks", True, "sevenoaks", "the organisation chose Sevenoaks."),
    ("outside-kent", False, None, "the organisation chose outside Kent."),
])
def test_a_straddling_postcode_is_saved_with_the_area_chosen(client, newcomer, choice, kent_based, district,
                                                             chose):
    client.submit(NEW, _straddling_form())
    response = client.submit(NEW, _straddling_form(district_choice=choice))

    assert response.status_code == 302
    [organisation] = organisations()
    assert (organisation.kent_based, organisation.district) == (kent_based, district)
    assert organisation.kent_derivation == (
        f"From postcode TN3 0AA: outward code TN3 crosses the county boundary; {chose}")
    assert organisation.kent_derivation in html.unescape(text(client.get(response.headers["Location"])))


@pytest.mark.parametrize("tampered", ["canterbury", "medway", "<script>", "x" * 500])
def test_a_tampered_council_area_gives_a_field_error_not_a_server_error(client, newcomer, tampered):
    response = client.submit(NEW, _straddling_form(district_choice=tampered))

    page = text(response)
    assert response.status_code == 200
    assert "Select one of the areas shown" in page
    assert 'id="district_choice-error"' in page
    assert "<script>" not in page.split("<main", 1)[1]
    assert organisations() == []


def test_a_straddling_question_stays_on_screen_when_other_fields_are_wrong(client, newcomer):
    response = client.submit(NEW, _straddling_form(legal_name="", district_choice="sevenoaks"))
    page = text(response)
    assert response.status_code == 200
    assert "Enter your organisation&#39;s legal name" in page or "Enter your organisation's legal name" in page
    assert "Which council area are your operations in?" in page
    assert 'value="sevenoaks" checked' in page
    assert organisations() == []


def test_a_postcode_over_several_kent_districts_offers_only_those_districts(client, newcomer):
    response = client.submit(NEW, operations_at("CT3 1AA"))
    page = text(response)
    assert response.status_code == 200
    assert 'value="canterbury"' in page and 'value="dover"' in page
    assert 'name="district_choice" type="radio" value="outside-kent"' not in page

    client.submit(NEW, operations_at("CT3 1AA", district_choice="dover"))
    [organisation] = organisations()
    assert (organisation.kent_based, organisation.district) == (True, "dover")
    assert "covers more than one Kent district" in organisation.kent_derivation


def test_a_seven_digit_company_number_is_padded_to_eight(client, newcomer):
    client.submit(NEW, form_data(org_type="private_company", charity_number="", companies_house_number="1234567"))
    [organisation] = organisations()
    assert organisation.companies_house_number == "01234567"


@pytest.mark.parametrize("typed, stored", [("sc 123456", "SC123456"), ("oc123456", "OC123456"),
                                           ("01234567", "01234567")])
def test_company_numbers_are_stored_upper_case_without_spaces(client, newcomer, typed, stored):
    client.submit(NEW, form_data(org_type="private_company", companies_house_number=typed))
    [organisation] = organisations()
    assert organisation.companies_house_number == stored


@pytest.mark.parametrize("legal_name", ["Cymdeithas Gymunedol Ŵyl Ddewi", "Café Zoë & Søn Ltd", "東京 Trading"])
def test_unicode_legal_names_are_kept_intact(client, newcomer, legal_name):
    response = client.submit(NEW, form_data(legal_name=legal_name))
    assert response.status_code == 302
    [organisation] = organisations()
    assert organisation.legal_name == legal_name
    assert html.escape(legal_name) in text(client.get(response.headers["Location"]))


def test_html_in_a_legal_name_is_shown_escaped(client, newcomer):
    name = '<script>alert("x")</script> Trust'
    response = client.submit(NEW, form_data(legal_name=name))
    [organisation] = organisations()
    assert organisation.legal_name == name
    page = text(client.get(response.headers["Location"]))
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page


# 2. Bad input: 200, the GOV.UK error summary, the field message, what was typed, and nothing created -------

BAD_INPUT = [
    ("legal_name", {"legal_name": ""}, "Enter your organisation's legal name"),
    ("legal_name", {"legal_name": "   "}, "Enter your organisation's legal name"),
    ("legal_name", {"legal_name": "L" * 161}, "Legal name must be 160 characters or fewer"),
    ("legal_name", {"legal_name": "Bad\x07Name"}, "Legal name must not contain control characters"),
    ("org_type", {"org_type": None}, "Select the type of organisation"),
    ("org_type", {"org_type": "cartel"}, "Not a valid choice"),
    ("size", {"size": None}, "Select the size of your organisation"),
    ("size", {"size": "enormous"}, "Not a valid choice"),
    ("trading_line1", {"trading_line1": ""}, "Enter the first line of the trading address"),
    ("trading_line1", {"trading_line1": "A" * 121}, "Address line 1 must be 120 characters or fewer"),
    ("trading_line2", {"trading_line2": "A" * 121}, "Address line 2 (optional) must be 120 characters or fewer"),
    ("trading_town", {"trading_town": ""}, "Enter the town or city of the trading address"),
    ("trading_town", {"trading_town": "T" * 121}, "Town or city must be 120 characters or fewer"),
    ("trading_postcode", {"trading_postcode": ""}, "Enter the postcode of the trading address"),
    ("trading_postcode", {"trading_postcode": "NOT A PC"}, "Enter a real postcode, like CT1 2AB"),
    ("trading_postcode", {"trading_postcode": "CT1 2CI"}, "Enter a real postcode, like CT1 2AB"),
    ("operations_line1", {"same_address": None}, "Enter the first line of the operations address"),
    ("operations_town", {"same_address": None, "operations_line1": "x"},
     "Enter the town or city of the operations address"),
    ("operations_postcode", {"same_address": None, "operations_line1": "x", "operations_town": "y"},
     "Enter the postcode of the operations address"),
    ("operations_postcode", {"same_address": None, "operations_line1": "x", "operations_town": "y",
                             "operations_postcode": "12345"}, "Enter a real postcode, like CT1 2AB"),
    ("operations_line1", {"same_address": None, "operations_line1": "A" * 121, "operations_town": "y",
                          "operations_postcode": "CT1 1AA"}, "Address line 1 must be 120 characters or fewer"),
    ("companies_house_number", {"org_type": "private_company", "companies_house_number": "123"},
     "Enter a Companies House number in the correct format"),
    ("companies_house_number", {"companies_house_number": "ABCDEFGH"},
     "Enter a Companies House number in the correct format"),
    ("companies_house_number", {"companies_house_number": "123456789"},
     "Enter a Companies House number in the correct format"),
    ("companies_house_number", {"org_type": "private_company", "companies_house_number": ""},
     "Enter your Companies House number: private companies are registered"),
    ("charity_number", {"charity_number": ""}, "Enter your charity number"),
    ("charity_number", {"charity_number": "12AB"}, "Enter a charity number in the correct format"),
    ("charity_number", {"org_type": "sole_trader", "charity_number": "12345"},
     "Enter a charity number in the correct format"),
    ("categories", {"categories": ["adult-social-care", "arms-dealing"]}, "Select from the options shown"),
    ("localities", {"localities": ["medway"]}, "Select from the options shown"),
]


@pytest.mark.parametrize("field, overrides, message", BAD_INPUT,
                         ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_INPUT)])
def test_bad_input_is_refused_with_a_message_next_to_the_field(client, newcomer, field, overrides, message):
    data = form_data(**overrides)
    response = client.submit(NEW, data)

    page = html.unescape(text(response))
    assert response.status_code == 200
    assert "<title>Error: Register your organisation" in page
    assert "There is a problem" in page
    assert f'href="#{field}"' in page
    assert message in page.split('class="govuk-error-summary"', 1)[1]
    assert f'id="{field}-error"' in page
    # What was typed is still there (legal name shown unless it was the field at fault).
    if data.get("legal_name", "").strip() and "\x07" not in data["legal_name"]:
        assert f'value="{data["legal_name"]}"' in page
    assert organisations() == []
    assert events() == []


def test_a_refused_form_keeps_what_was_typed_in_every_field(client, newcomer):
    data = operations_at("ct9 1aa", legal_name="", trading_line2="Flat 3", size="medium",
                         companies_house_number="ab123456")
    page = text(client.submit(NEW, data))
    for value in ("Flat 3", "1 High Street", "Canterbury", "CT1 2AB", "Unit 4, The Works", "Somewhere",
                  "CT9 1AA", "AB123456", "1123456"):
        assert f'value="{value}"' in page, value
    assert 'value="medium" checked' in page
    assert 'value="public-health" checked' in page


@pytest.mark.parametrize("taken_name, typed_name", [
    ("Kent Care Trust", "Kent Care Trust"),
    ("Kent Care Trust", "kent CARE trust"),
    ("Kent Care Trust", "  Kent   Care\tTrust "),
])
def test_a_legal_name_already_registered_is_refused(client, newcomer, taken_name, typed_name):
    OrganisationFactory(legal_name=taken_name, name_key=taken_name.casefold())
    response = client.submit(NEW, form_data(legal_name=typed_name))

    page = text(response)
    assert response.status_code == 200
    assert "An organisation with this legal name is already registered" in page
    assert 'id="legal_name-error"' in page
    assert len(organisations()) == 1
    assert newcomer.membership is None


def test_a_companies_house_number_already_registered_is_refused(client, newcomer):
    OrganisationFactory(org_type="private_company", companies_house_number="01234567")
    response = client.submit(NEW, form_data(org_type="private_company", companies_house_number="1234567"))

    page = text(response)
    assert response.status_code == 200
    assert "An organisation with this Companies House number is already registered" in page
    assert 'id="companies_house_number-error"' in page
    assert len(organisations()) == 1


def test_a_form_without_the_csrf_token_is_refused_and_creates_nothing(client, newcomer):
    response = client.post(NEW, data=form_data())
    assert response.status_code == 400
    assert organisations() == []


# 3. Who may do what ------------------------------------------------------------------------------

def test_an_unverified_user_cannot_register_an_organisation(client, as_user):
    as_user(UserFactory(email_verified_at=None))
    assert client.get(NEW).status_code == 403
    token = client.csrf_token("/organisation")
    assert client.post(NEW, data={**form_data(), "csrf_token": token}).status_code == 403
    page = text(client.get("/organisation"))
    assert "Confirm your email address before you register an organisation" in page
    assert organisations() == []


def test_a_verified_user_without_an_organisation_is_offered_registration(client, newcomer):
    response = client.get("/organisation")
    assert response.status_code == 200
    assert 'href="/organisation/new"' in text(response)
    assert client.get(NEW).status_code == 200


def test_a_user_who_already_has_an_organisation_cannot_register_another(client, as_user):
    user = provider()
    as_user(user)
    assert client.get(NEW).status_code == 403
    response = client.get("/organisation")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisation/{user.membership.organisation_id}")


def test_staff_cannot_register_an_organisation(client, as_user):
    as_user(StaffFactory(roles=["administrator"]))
    assert client.get(NEW).status_code == 403
    assert client.get("/organisation").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.fixture()
def two_organisations():
    ours, theirs = OrganisationFactory(legal_name="Ours"), OrganisationFactory(legal_name="Theirs")
    me = provider(ours)
    their_owner = provider(theirs)
    their_colleague = colleague(theirs)
    invitation = OrganisationInvitation(organisation_id=theirs.id, email="pending@example.org",
                                        invited_by_id=their_owner.id)
    db.session.add(invitation)
    db.session.commit()
    return me, theirs, their_colleague, invitation


@pytest.mark.parametrize("method, path", [
    ("get", "/organisation/{org}"),
    ("get", "/organisation/{org}/edit"),
    ("post", "/organisation/{org}/edit"),
    ("get", "/organisation/{org}/members"),
    ("post", "/organisation/{org}/members"),
    ("post", "/organisation/{org}/members/{membership}/remove"),
    ("post", "/organisation/{org}/invitations/{invitation}/cancel"),
])
def test_another_organisations_pages_answer_404(client, as_user, two_organisations, method, path):
    me, theirs, their_colleague, invitation = two_organisations
    as_user(me)
    url = path.format(org=theirs.id, membership=their_colleague.membership.id, invitation=invitation.id)
    token = client.csrf_token(f"/organisation/{me.membership.organisation_id}/members")
    response = getattr(client, method)(url, data={"csrf_token": token, **form_data(legal_name="Hijacked")})

    assert response.status_code == 404
    assert "Page not found" in text(response)
    db.session.expire_all()
    assert db.session.get(Organisation, theirs.id).legal_name == "Theirs"
    assert db.session.get(Membership, their_colleague.membership.id) is not None
    assert db.session.get(OrganisationInvitation, invitation.id).cancelled_at is None


def test_an_unknown_organisation_answers_404(client, as_user):
    as_user(provider())
    assert client.get("/organisation/99999").status_code == 404


def test_staff_can_view_any_organisation_page_but_not_change_it(client, as_user):
    organisation = OrganisationFactory(legal_name="Thanet Food Bank", postcode="CT9 1AA")
    as_user(StaffFactory(roles=["commissioner"]))
    response = client.get(f"/organisation/{organisation.id}")
    page = text(response)
    assert response.status_code == 200
    assert "Thanet Food Bank" in page and "Kent-based: Thanet" in page
    assert "Change your organisation" not in page
    assert client.get(f"/organisation/{organisation.id}/edit").status_code == 403


@pytest.fixture()
def twenty_five_providers():
    for number in range(1, 26):
        OrganisationFactory(legal_name=f"Provider {number:02d}", name_key=f"provider {number:02d}")


def test_staff_see_the_provider_directory_one_page_at_a_time(client, as_user, twenty_five_providers):
    as_user(StaffFactory(roles=["procurement_officer"]))
    first = text(client.get("/admin/providers"))
    assert "25 registered organisations" in first
    assert "Provider 01" in first and "Provider 20" in first and "Provider 21" not in first
    assert 'href="/admin/providers?page=2"' in first

    response = client.get("/admin/providers?page=2")
    second = text(response)
    assert response.status_code == 200
    assert all(f"Provider {n}" in second for n in range(21, 26))
    assert "Provider 01" not in second and "Provider 20" not in second


def test_the_provider_directory_answers_an_empty_page_past_the_end(client, as_user, twenty_five_providers):
    as_user(StaffFactory(roles=["commissioner"]))
    response = client.get("/admin/providers?page=9")
    assert response.status_code == 200
    assert "Provider" not in text(response).split("<tbody", 1)[1].split("</tbody>", 1)[0]


def test_the_provider_directory_query_count_does_not_grow_with_the_rows(client, as_user, app):
    as_user(StaffFactory(roles=["commissioner"]))

    def queries_for_page() -> int:
        statements = []

        def count(*args):
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/admin/providers").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    for number in range(2):
        provider(OrganisationFactory(legal_name=f"Few {number}", name_key=f"few {number}"))
    few = queries_for_page()
    for number in range(18):
        provider(OrganisationFactory(legal_name=f"Many {number}", name_key=f"many {number}"))
    assert queries_for_page() == few


@pytest.mark.parametrize("make_user", [provider, lambda: UserFactory()])
def test_providers_cannot_see_the_provider_directory(client, as_user, make_user):
    as_user(make_user())
    assert client.get("/admin/providers").status_code == 403


# 4. Editing -------------------------------------------------------------------------------------

def _edit_data(organisation: Organisation, **overrides) -> dict:
    return form_data(**{"legal_name": organisation.legal_name, "charity_number": organisation.charity_number,
                        **overrides})


@pytest.mark.parametrize("role", ["owner", "member"])
def test_any_member_can_edit_the_organisation(client, as_user, role):
    organisation = OrganisationFactory(legal_name="Old Name")
    as_user(provider(organisation, role=role))
    edit = f"/organisation/{organisation.id}/edit"
    page = text(client.get(edit))
    assert 'value="Old Name"' in page

    response = client.submit(edit, _edit_data(organisation, legal_name="New Name", size="medium"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (organisation.legal_name, organisation.name_key, organisation.size) == ("New Name", "new name", "medium")
    assert "Your organisation&#39;s details are saved" in text(client.get(response.headers["Location"]))


def test_a_changed_postcode_re_derives_kent_status_and_the_audit_event_records_before_and_after(client, as_user):
    organisation = OrganisationFactory(legal_name="Movers", postcode="CT1 2AB")
    user = provider(organisation)
    as_user(user)
    response = client.submit(f"/organisation/{organisation.id}/edit",
                             _edit_data(organisation, trading_postcode="me4 4aa"))

    assert response.status_code == 302
    db.session.expire_all()
    assert (organisation.operations_postcode, organisation.kent_based, organisation.district) == (
        "ME4 4AA", False, None)
    assert "Medway" in organisation.kent_derivation
    [event] = events("organisation.updated")
    assert event.actor_id == user.id
    assert event.details["before"] == {"legal_name": "Movers", "kent_based": True, "district": "canterbury",
                                       "derivation": "From postcode CT1 2AB: outward code CT1 is in Canterbury."}
    assert event.details["after"]["kent_based"] is False
    assert event.details["after"]["derivation"] == organisation.kent_derivation
    assert verify_database().ok


def test_editing_an_organisation_that_chose_outside_kent_does_not_ask_again(client, as_user):
    organisation = OrganisationFactory(legal_name="Border Folk", postcode="CT1 2AB")
    as_user(provider(organisation))
    edit = f"/organisation/{organisation.id}/edit"
    client.submit(edit, _edit_data(organisation, trading_postcode="TN3 0AA", district_choice="outside-kent"))
    db.session.expire_all()
    assert (organisation.kent_based, organisation.operations_postcode) == (False, "TN3 0AA")

    page = text(client.get(edit))
    assert 'value="outside-kent" checked' in page
    # A browser sends back the radio that is checked on the page.
    response = client.submit(edit, _edit_data(organisation, legal_name="Border Folk CIC",
                                              trading_postcode="TN3 0AA", district_choice="outside-kent"))
    assert response.status_code == 302
    db.session.expire_all()
    assert (organisation.legal_name, organisation.kent_based) == ("Border Folk CIC", False)


def test_an_edit_with_bad_input_changes_nothing(client, as_user):
    organisation = OrganisationFactory(legal_name="Steady")
    as_user(provider(organisation))
    response = client.submit(f"/organisation/{organisation.id}/edit",
                             _edit_data(organisation, legal_name="Renamed", trading_postcode="nonsense"))
    assert response.status_code == 200
    assert "Enter a real postcode" in text(response)
    db.session.expire_all()
    assert organisation.legal_name == "Steady"
    assert events("organisation.updated") == []


def test_an_edit_may_keep_its_own_name_and_company_number(client, as_user):
    organisation = OrganisationFactory(legal_name="Same Ltd", org_type="private_company",
                                       companies_house_number="01234567")
    as_user(provider(organisation))
    response = client.submit(f"/organisation/{organisation.id}/edit",
                             _edit_data(organisation, legal_name="SAME LTD", org_type="private_company",
                                        companies_house_number="1234567"))
    assert response.status_code == 302


def test_an_edit_cannot_take_another_organisations_name(client, as_user):
    OrganisationFactory(legal_name="Taken Trust", name_key="taken trust")
    organisation = OrganisationFactory(legal_name="Mine")
    as_user(provider(organisation))
    response = client.submit(f"/organisation/{organisation.id}/edit",
                             _edit_data(organisation, legal_name="taken trust"))
    assert response.status_code == 200
    assert "already registered" in text(response)
    db.session.expire_all()
    assert organisation.legal_name == "Mine"


# 5. Colleagues ----------------------------------------------------------------------------------

@pytest.fixture()
def owned():
    """An organisation with its owner (not signed in)."""
    organisation = OrganisationFactory(legal_name="Herne Bay Lunch Club")
    owner = provider(organisation, email="owner@example.org", full_name="Olive Owner")
    return organisation, owner


def invite(client, organisation, email: str):
    members = f"/organisation/{organisation.id}/members"
    return client.submit(members, {"email": email})


def test_the_owner_invites_a_colleague_by_email(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    response = invite(client, organisation, "  New.Person@Example.org ")

    assert response.status_code == 302
    assert "We have sent an invitation" in text(client.get(response.headers["Location"]))
    [invitation] = db.session.execute(sa.select(OrganisationInvitation)).scalars().all()
    assert (invitation.email, invitation.organisation_id, invitation.invited_by_id) == (
        "new.person@example.org", organisation.id, owner.id)
    [message] = mailbox.to("new.person@example.org")
    assert "Herne Bay Lunch Club" in message["Subject"]
    body = mailbox.last_body("new.person@example.org")
    assert "Olive Owner has invited you to join Herne Bay Lunch Club" in body
    assert path_of(mailbox.link_in("new.person@example.org", "/organisation/join/")).startswith(
        "/organisation/join/")
    assert events("organisation.colleague_invited")[0].details == {"email": "new.person@example.org"}


def test_a_person_without_an_account_joins_through_the_emailed_link(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "newbie@example.org")
    link = path_of(mailbox.link_in("newbie@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})

    page = text(client.get(link))
    assert "Join Herne Bay Lunch Club" in page
    assert "Create your account to join" in page
    response = client.submit(link, {"full_name": "Nia Newbie", "password": "a long and unusual passphrase"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/organisation/{organisation.id}")
    user = db.session.execute(sa.select(User).filter_by(email="newbie@example.org")).scalar_one()
    assert user.full_name == "Nia Newbie"
    assert user.email_verified_at is not None
    assert (user.membership.organisation_id, user.membership.role) == (organisation.id, "member")
    # Signed in as the new member.
    assert "You have joined Herne Bay Lunch Club" in text(client.get(response.headers["Location"]))
    assert [e.action for e in events()][-2:] == ["user.registered", "organisation.member_joined"]


@pytest.mark.parametrize("data, message", [
    ({"full_name": "   ", "password": "a long and unusual passphrase"}, "Enter your full name"),
    ({"full_name": "Nia Newbie", "password": "short"}, "Password must be 12 characters or more"),
])
def test_joining_with_a_new_account_needs_a_name_and_a_good_password(client, as_user, mailbox, owned, data,
                                                                     message):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "newbie@example.org")
    link = path_of(mailbox.link_in("newbie@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})

    response = client.submit(link, data)
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.execute(sa.select(User).filter_by(email="newbie@example.org")).first() is None


def test_an_invitation_link_works_once(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "once@example.org")
    link = path_of(mailbox.link_in("once@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.submit(link, {"full_name": "Only Once", "password": "a long and unusual passphrase"})
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})

    response = client.get(link)
    assert response.status_code == 400
    assert "already been used or was cancelled" in text(response)
    token = client.csrf_token("/sign-in")
    again = client.post(link, data={"csrf_token": token, "full_name": "Twice", "password": "another long passphrase"})
    assert again.status_code == 400
    assert db.session.execute(sa.select(sa.func.count()).select_from(User).filter_by(
        email="once@example.org")).scalar_one() == 1


@pytest.mark.parametrize("link", ["/organisation/join/not-a-token", "/organisation/join/abc.def.ghi"])
def test_a_garbled_invitation_link_says_so(client, link):
    response = client.get(link)
    assert response.status_code == 400
    assert "This invitation link is not valid" in text(response)


def test_a_person_with_an_account_signs_in_then_accepts_with_a_button(client, as_user, mailbox, owned):
    organisation, owner = owned
    existing = UserFactory(email="existing@example.org")
    as_user(owner)
    invite(client, organisation, "existing@example.org")
    link = path_of(mailbox.link_in("existing@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})

    page = text(client.get(link))
    assert "You already have an account" in page
    assert 'name="password"' not in page
    sign_in = f"/sign-in?next={link}"
    response = client.submit(sign_in, {"email": "existing@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == link

    page = text(client.get(link))
    assert re.search(r"<button[^>]*>\s*Join Herne Bay Lunch Club\s*</button>", page)
    response = client.submit(link, {})
    assert response.status_code == 302
    db.session.expire_all()
    assert existing.membership.organisation_id == organisation.id
    assert existing.membership.role == "member"


def test_a_signed_out_person_with_an_account_cannot_join_by_posting_a_new_password(client, as_user, mailbox,
                                                                                   owned):
    organisation, owner = owned
    existing = UserFactory(email="existing@example.org")
    as_user(owner)
    invite(client, organisation, "existing@example.org")
    link = path_of(mailbox.link_in("existing@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})

    response = client.submit(link, {"full_name": "Impostor", "password": "a long and unusual passphrase"},
                             page_url="/sign-in")
    assert response.status_code == 400
    db.session.expire_all()
    assert existing.membership is None
    assert existing.full_name != "Impostor"


def test_accepting_while_signed_in_as_a_different_address_is_refused_clearly(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "intended@example.org")
    link = path_of(mailbox.link_in("intended@example.org", "/organisation/join/"))
    stranger = UserFactory(email="stranger@example.org")
    as_user(stranger)

    response = client.submit(link, {})
    page = text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "This invitation was sent to intended@example.org. Sign in with that address to accept it." in page
    db.session.expire_all()
    assert stranger.membership is None
    assert db.session.execute(sa.select(OrganisationInvitation)).scalar_one().accepted_at is None


@pytest.mark.parametrize("make_person", [
    lambda: provider(email="taken@example.org"),
    lambda: StaffFactory(email="taken@example.org"),
])
def test_inviting_someone_who_already_belongs_elsewhere_gives_a_field_error(client, as_user, mailbox, owned,
                                                                           make_person):
    organisation, owner = owned
    make_person()
    as_user(owner)
    response = invite(client, organisation, "taken@example.org")

    page = text(response)
    assert response.status_code == 200
    assert 'id="email-error"' in page
    assert "already belongs to an organisation" in page
    assert 'value="taken@example.org"' in page
    assert db.session.execute(sa.select(OrganisationInvitation)).first() is None
    assert mailbox.to("taken@example.org") == []


@pytest.mark.parametrize("email, message", [("", "Enter your email address"),
                                            ("not-an-email", "Enter an email address in the correct format")])
def test_an_invitation_needs_a_real_email_address(client, as_user, owned, email, message):
    organisation, owner = owned
    as_user(owner)
    response = invite(client, organisation, email)
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.execute(sa.select(OrganisationInvitation)).first() is None


@pytest.mark.parametrize("data", [{"email": "friend@example.org"}, {"email": ""}])
def test_a_member_who_is_not_the_owner_cannot_invite(client, as_user, mailbox, owned, data):
    organisation, _ = owned
    as_user(colleague(organisation))
    members = f"/organisation/{organisation.id}/members"
    page = text(client.get(members))
    assert "Invite a colleague" not in page
    assert client.submit(members, data).status_code == 403
    assert db.session.execute(sa.select(OrganisationInvitation)).first() is None
    assert mailbox.messages == []


def test_a_member_who_is_not_the_owner_cannot_remove_anyone(client, as_user, owned):
    organisation, owner = owned
    other = colleague(organisation)
    as_user(colleague(organisation))
    members = f"/organisation/{organisation.id}/members"
    for membership_id in (other.membership.id, owner.membership.id):
        response = client.submit(f"{members}/{membership_id}/remove", {}, page_url=members)
        assert response.status_code == 403
    db.session.expire_all()
    assert len(organisation.memberships) == 3


def test_the_owner_removes_a_member(client, as_user, owned):
    organisation, owner = owned
    leaving = colleague(organisation, email="leaving@example.org", full_name="Lee Leaving")
    membership_id = leaving.membership.id
    as_user(owner)
    members = f"/organisation/{organisation.id}/members"
    assert "Remove Lee Leaving" in text(client.get(members))

    response = client.submit(f"{members}/{membership_id}/remove", {}, page_url=members)
    assert response.status_code == 302
    assert "That person has been removed" in text(client.get(members))
    db.session.expire_all()
    assert db.session.get(Membership, membership_id) is None
    assert db.session.get(User, leaving.id) is not None  # the account stays
    [event] = events("organisation.member_removed")
    assert event.details == {"user_id": leaving.id, "email": "leaving@example.org"}
    assert event.actor_id == owner.id


def test_the_owner_cannot_remove_themselves(client, as_user, owned):
    organisation, owner = owned
    as_user(owner)
    members = f"/organisation/{organisation.id}/members"
    assert f"Remove {owner.full_name}" not in text(client.get(members))
    response = client.submit(f"{members}/{owner.membership.id}/remove", {}, page_url=members)
    assert response.status_code == 302
    assert "You cannot remove yourself" in text(client.get(members))
    db.session.expire_all()
    assert owner.membership is not None
    assert events("organisation.member_removed") == []


def test_a_cancelled_invitation_link_stops_working(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "maybe@example.org")
    link = path_of(mailbox.link_in("maybe@example.org", "/organisation/join/"))
    invitation = db.session.execute(sa.select(OrganisationInvitation)).scalar_one()
    members = f"/organisation/{organisation.id}/members"
    assert "maybe@example.org" in text(client.get(members))

    response = client.submit(f"/organisation/{organisation.id}/invitations/{invitation.id}/cancel", {},
                             page_url=members)
    assert response.status_code == 302
    assert "The invitation is cancelled" in text(client.get(members))
    db.session.expire_all()
    assert invitation.cancelled_at is not None
    assert events("organisation.invitation_cancelled")[0].details == {"email": "maybe@example.org"}

    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    response = client.get(link)
    assert response.status_code == 400
    assert "already been used or was cancelled" in text(response)
    assert db.session.execute(sa.select(User).filter_by(email="maybe@example.org")).first() is None


def test_the_audit_chain_stays_intact_across_the_colleague_journey(client, as_user, mailbox, owned):
    organisation, owner = owned
    as_user(owner)
    invite(client, organisation, "chain@example.org")
    link = path_of(mailbox.link_in("chain@example.org", "/organisation/join/"))
    client.post("/sign-out", data={"csrf_token": client.csrf_token("/")})
    client.submit(link, {"full_name": "Chain Link", "password": "a long and unusual passphrase"})
    report = verify_database()
    assert report.ok and report.checked == len(events()) >= 3
