"""Organisation use cases called directly, on a real (migrated) database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.accounts.services import EmailTaken, LinkProblem
from marketplace.audit import AuditEvent, verify_database
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.organisations import services
from marketplace.organisations.forms import normalise_company_number
from marketplace.organisations.models import Membership, Organisation, OrganisationInvitation
from marketplace.organisations.services import Address, OrganisationDetails
from tests.factories import OrganisationFactory, StaffFactory, UserFactory, colleague, provider


def details(**overrides) -> OrganisationDetails:
    fields = dict(
        legal_name="Dover Harbour Arts", org_type="charity", size="small", companies_house_number=None,
        charity_number="1123456", trading=Address("1 Marine Parade", None, "Dover", "CT16 1AA"),
        operations=Address("1 Marine Parade", None, "Dover", "CT16 1AA"), district_choice=None,
        categories=["public-health", "adult-social-care", "public-health"], localities=["dover"],
    )
    fields.update(overrides)
    return OrganisationDetails(**fields)


def at(postcode: str) -> Address:
    return Address("2 Elsewhere Lane", "Unit 3", "Somewhere", postcode)


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def actions() -> list[str]:
    return list(db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture()
def request_context(app):
    """Invitations build absolute links with url_for, which needs a request (or SERVER_NAME)."""
    with app.test_request_context():
        yield


# Registering --------------------------------------------------------------------------------------

def test_registering_makes_the_user_owner_and_records_the_derivation(app):
    user = UserFactory()
    organisation = services.create_organisation(user, details())

    db.session.expire_all()
    assert (organisation.kent_based, organisation.district) == (True, "dover")
    assert organisation.kent_derivation == "From postcode CT16 1AA: outward code CT16 is in Dover."
    assert organisation.name_key == "dover harbour arts"
    assert organisation.categories == ["adult-social-care", "public-health"]  # sorted, duplicates dropped
    assert organisation.operations_line2 is None
    assert [(m.user_id, m.role) for m in organisation.memberships] == [(user.id, "owner")]
    assert actions() == ["organisation.registered"]
    assert verify_database().ok


@pytest.mark.parametrize("postcode, choice, kent_based, district", [
    ("ME4 4AA", None, False, None),
    ("ME4 4AA", "maidstone", False, None),  # a choice cannot put Medway into Kent
    ("EC1A 1BB", None, False, None),
    ("TN8 5AA", "sevenoaks", True, "sevenoaks"),
    ("TN8 5AA", "outside-kent", False, None),
    ("CT4 6AA", "folkestone-hythe", True, "folkestone-hythe"),
    ("CT1 2AB", "outside-kent", True, "canterbury"),  # a choice is ignored where the postcode decides
])
def test_kent_status_comes_from_the_operations_postcode_and_any_choice_needed(app, postcode, choice, kent_based,
                                                                               district):
    organisation = services.create_organisation(UserFactory(), details(operations=at(postcode),
                                                                       district_choice=choice))
    assert (organisation.kent_based, organisation.district) == (kent_based, district)
    assert organisation.operations_line2 == "Unit 3"


@pytest.mark.parametrize("postcode, choices", [
    ("TN3 0AA", ["tunbridge-wells", "sevenoaks", "outside-kent"]),
    ("ME5 9AA", ["tonbridge-malling", "maidstone", "outside-kent"]),
    ("CT3 1AA", ["canterbury", "dover"]),
])
def test_a_postcode_that_cannot_decide_asks_for_a_choice_and_saves_nothing(app, postcode, choices):
    with pytest.raises(services.DistrictChoiceNeeded) as raised:
        services.create_organisation(UserFactory(), details(operations=at(postcode)))
    assert [value for value, _ in raised.value.choices] == choices
    assert raised.value.field == "district_choice"
    db.session.rollback()
    assert count(Organisation) == 0
    assert count(AuditEvent) == 0


@pytest.mark.parametrize("choice", ["canterbury", "medway", "", "OUTSIDE-KENT"])
def test_a_choice_not_offered_for_the_postcode_is_refused(app, choice):
    with pytest.raises(services.DistrictChoiceNeeded) as raised:
        services.create_organisation(UserFactory(), details(operations=at("TN3 0AA"), district_choice=choice))
    assert raised.value.field == "district_choice"
    assert count(Organisation) == 0


@pytest.mark.parametrize("make_user", [
    lambda: UserFactory(email_verified_at=None),
    lambda: StaffFactory(roles=["commissioner"]),
    lambda: provider(),
], ids=["unverified", "staff", "already-a-member"])
def test_only_a_verified_provider_without_an_organisation_can_register(app, make_user):
    user = make_user()
    before = count(Organisation)
    with pytest.raises(DomainError):
        services.create_organisation(user, details())
    assert count(Organisation) == before
    assert "organisation.registered" not in actions()


@pytest.mark.parametrize("typed", ["Dover Harbour Arts", "DOVER HARBOUR ARTS", " dover   harbour\tarts "])
def test_one_registration_per_legal_name(app, typed):
    services.create_organisation(UserFactory(), details())
    with pytest.raises(DomainError) as raised:
        services.create_organisation(UserFactory(), details(legal_name=typed, charity_number="1123457"))
    assert raised.value.field == "legal_name"
    assert count(Organisation) == 1


def test_one_registration_per_companies_house_number(app):
    services.create_organisation(UserFactory(), details(org_type="private_company", charity_number=None,
                                                        companies_house_number="01234567"))
    with pytest.raises(DomainError) as raised:
        services.create_organisation(UserFactory(), details(legal_name="Other Ltd", org_type="private_company",
                                                            charity_number=None, companies_house_number="01234567"))
    assert raised.value.field == "companies_house_number"
    assert count(Organisation) == 1


@pytest.mark.parametrize("raw, expected", [
    ("1234567", "01234567"), ("123456", "00123456"), (" 0123 4567 ", "01234567"), ("sc123456", "SC123456"),
    ("123", "123"), ("12345", "12345"), ("", None), (None, None),
])
def test_company_numbers_get_back_their_dropped_leading_zeros_but_short_ones_are_left_to_fail(raw, expected):
    assert normalise_company_number(raw) == expected


@pytest.mark.parametrize("raw, key", [("Kent  Care\tTrust ", "kent care trust"), ("STRASSE Straße", "strasse strasse")])
def test_the_name_key_ignores_case_and_spacing(raw, key):
    assert services.name_key(raw) == key


# Editing -------------------------------------------------------------------------------------------

def test_editing_re_derives_kent_status_and_records_before_and_after(app):
    user = UserFactory()
    organisation = services.create_organisation(user, details())
    services.update_organisation(user, organisation, details(operations=at("TN17 2AA"),
                                                             district_choice="tunbridge-wells"))
    db.session.expire_all()
    assert (organisation.district, organisation.operations_postcode) == ("tunbridge-wells", "TN17 2AA")
    event = db.session.execute(sa.select(AuditEvent).filter_by(action="organisation.updated")).scalar_one()
    assert event.details["before"]["district"] == "dover"
    assert event.details["after"]["district"] == "tunbridge-wells"
    assert event.details["after"]["derivation"].endswith("the organisation chose Tunbridge Wells.")
    assert verify_database().ok


def test_an_edit_that_needs_a_choice_changes_nothing(app):
    user = UserFactory()
    organisation = services.create_organisation(user, details())
    with pytest.raises(services.DistrictChoiceNeeded):
        services.update_organisation(user, organisation, details(legal_name="Renamed", operations=at("BR8 7AA")))
    db.session.rollback()
    db.session.expire_all()
    assert (organisation.legal_name, organisation.district) == ("Dover Harbour Arts", "dover")
    assert actions() == ["organisation.registered"]


def test_district_choices_are_offered_only_where_the_postcode_cannot_decide():
    assert services.district_choices("CT1 2AB") is None
    assert services.district_choices("ME4 4AA") is None
    assert services.district_choices("not a postcode") is None
    assert services.district_choices(None) is None
    assert services.district_choices("da1 1aa") == [("dartford", "Dartford"), ("outside-kent", "Outside Kent")]


# Colleagues ----------------------------------------------------------------------------------------

@pytest.fixture()
def owned():
    organisation = OrganisationFactory(legal_name="Swale Scouts")
    return organisation, provider(organisation, email="owner@example.org")


def test_an_invitation_is_stored_audited_and_emailed(app, request_context, mailbox, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, " Friend@Example.org ")
    assert (invitation.email, invitation.is_open) == ("friend@example.org", True)
    assert services.open_invitations(organisation) == [invitation]
    assert "/organisation/join/" in mailbox.last_body("friend@example.org")
    assert actions() == ["organisation.colleague_invited"]


def test_only_the_owner_can_invite(app, request_context, mailbox, owned):
    organisation, _ = owned
    with pytest.raises(DomainError):
        services.invite_colleague(colleague(organisation), organisation, "friend@example.org")
    with pytest.raises(DomainError):
        services.invite_colleague(provider(), organisation, "friend@example.org")
    assert count(OrganisationInvitation) == 0
    assert mailbox.messages == []


@pytest.mark.parametrize("make_person", [lambda: provider(email="busy@example.org"),
                                         lambda: StaffFactory(email="busy@example.org")])
def test_people_who_cannot_join_are_not_invited(app, request_context, owned, make_person):
    organisation, owner = owned
    make_person()
    with pytest.raises(DomainError) as raised:
        services.invite_colleague(owner, organisation, "BUSY@example.org")
    assert raised.value.field == "email"
    assert count(OrganisationInvitation) == 0


def _token(invitation) -> str:
    from marketplace.accounts import tokens

    return tokens.make_token(tokens.ORG_INVITE, invitation.id, services._invitation_fingerprint(invitation))


def test_joining_with_a_new_account_verifies_the_email_and_uses_up_the_invitation(app, request_context, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "newbie@example.org")
    token = _token(invitation)
    user = services.join_with_new_account(token, "Nia Newbie", "a long and unusual passphrase")
    assert user.email_verified_at is not None
    assert (user.membership.organisation_id, user.membership.role) == (organisation.id, "member")
    assert invitation.accepted_at is not None
    assert services.open_invitations(organisation) == []
    with pytest.raises(LinkProblem):
        services.open_invitation(token)


def test_a_new_account_cannot_take_an_address_already_registered(app, request_context, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "known@example.org")
    UserFactory(email="known@example.org")
    with pytest.raises(EmailTaken):
        services.join_with_new_account(_token(invitation), "Someone", "a long and unusual passphrase")
    assert count(Membership) == 1


def test_accepting_needs_the_invited_address(app, request_context, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "intended@example.org")
    with pytest.raises(DomainError, match="This invitation was sent to intended@example.org"):
        services.accept_invitation(UserFactory(email="other@example.org"), _token(invitation))
    assert invitation.is_open


def test_someone_who_joined_another_organisation_meanwhile_cannot_accept(app, request_context, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "fickle@example.org")
    fickle = provider(email="fickle@example.org")
    with pytest.raises(DomainError, match="already belongs to an organisation"):
        services.accept_invitation(fickle, _token(invitation))
    db.session.rollback()
    assert fickle.membership.organisation_id != organisation.id
    assert db.session.get(OrganisationInvitation, invitation.id).is_open


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_a_garbled_token_is_a_link_problem(app, token):
    with pytest.raises(LinkProblem):
        services.open_invitation(token)


def test_an_expired_invitation_says_so(app, request_context, owned, monkeypatch):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "late@example.org")
    token = _token(invitation)
    monkeypatch.setitem(app.config, "INVITATION_MAX_AGE", -1)
    with pytest.raises(LinkProblem) as raised:
        services.open_invitation(token)
    assert raised.value.expired


def test_a_cancelled_invitation_cannot_be_used_or_cancelled_twice(app, request_context, owned):
    organisation, owner = owned
    invitation = services.invite_colleague(owner, organisation, "maybe@example.org")
    token = _token(invitation)
    services.cancel_invitation(owner, organisation, invitation.id)
    with pytest.raises(LinkProblem):
        services.open_invitation(token)
    with pytest.raises(DomainError):
        services.cancel_invitation(owner, organisation, invitation.id)
    assert actions() == ["organisation.colleague_invited", "organisation.invitation_cancelled"]


def test_an_invitation_of_another_organisation_cannot_be_cancelled(app, request_context, owned):
    organisation, owner = owned
    other = OrganisationFactory()
    theirs = services.invite_colleague(provider(other), other, "theirs@example.org")
    with pytest.raises(DomainError):
        services.cancel_invitation(owner, organisation, theirs.id)
    assert db.session.get(OrganisationInvitation, theirs.id).is_open


def test_the_owner_removes_a_member_and_the_account_stays(app, owned):
    organisation, owner = owned
    member = colleague(organisation)
    services.remove_member(owner, organisation, member.membership.id)
    db.session.expire_all()
    assert member.membership is None
    assert db.session.get(User, member.id) is not None
    assert actions() == ["organisation.member_removed"]


def test_members_cannot_be_removed_by_a_colleague_or_from_another_organisation_or_the_owner_themselves(app, owned):
    organisation, owner = owned
    member, outsider = colleague(organisation), provider()
    for actor, membership_id in ((member, owner.membership.id), (owner, outsider.membership.id),
                                 (owner, owner.membership.id), (owner, 999999)):
        with pytest.raises(DomainError):
            services.remove_member(actor, organisation, membership_id)
    assert count(Membership) == 3
    assert actions() == []


def test_the_provider_directory_lists_organisations_by_legal_name(app):
    for name in ("Zebra Crossing CIC", "Acorn Trust", "Meadow Co-operative"):
        OrganisationFactory(legal_name=name, name_key=name.casefold())
    names = db.session.execute(services.organisations_query()).scalars()
    assert [o.legal_name for o in names] == ["Acorn Trust", "Meadow Co-operative", "Zebra Crossing CIC"]
