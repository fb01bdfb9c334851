"""Who may do what with an organisation: pure predicates, tested with plain objects (no app, no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from marketplace.organisations.choices import MEMBER_COLLEAGUE, MEMBER_OWNER
from marketplace.organisations.permissions import (
    can_create_organisation,
    can_edit_organisation,
    can_manage_members,
    can_view_organisation,
    is_member,
)

OURS = SimpleNamespace(id=1)
THEIRS = SimpleNamespace(id=2)


def person(*, org_id=None, role=MEMBER_OWNER, staff=False, verified=True, signed_in=True):
    membership = SimpleNamespace(organisation_id=org_id, role=role) if org_id is not None else None
    return SimpleNamespace(is_authenticated=signed_in, is_verified=verified, is_staff=staff, membership=membership)


OWNER = person(org_id=1, role=MEMBER_OWNER)
COLLEAGUE = person(org_id=1, role=MEMBER_COLLEAGUE)
OTHER_OWNER = person(org_id=2, role=MEMBER_OWNER)
NEWCOMER = person()
UNVERIFIED = person(verified=False)
STAFF = person(staff=True)
# Flask-Login's anonymous user has none of our attributes; the predicates must not trust leftovers either.
ANONYMOUS = SimpleNamespace(is_authenticated=False)
SIGNED_OUT_WITH_LEFTOVERS = person(org_id=1, staff=True, signed_in=False)


@pytest.mark.parametrize("user, expected", [
    (OWNER, True), (COLLEAGUE, True), (OTHER_OWNER, False), (NEWCOMER, False), (STAFF, False),
    (ANONYMOUS, False), (SIGNED_OUT_WITH_LEFTOVERS, False), (None, False),
])
def test_only_people_in_the_organisation_are_its_members(user, expected):
    assert is_member(user, OURS) is expected


@pytest.mark.parametrize("user, expected", [
    (OWNER, True), (COLLEAGUE, True), (STAFF, True), (OTHER_OWNER, False), (NEWCOMER, False),
    (ANONYMOUS, False), (SIGNED_OUT_WITH_LEFTOVERS, False), (None, False),
])
def test_members_and_council_staff_may_view_an_organisation_and_nobody_else(user, expected):
    assert can_view_organisation(user, OURS) is expected


@pytest.mark.parametrize("user, expected", [
    (OWNER, True), (COLLEAGUE, True), (STAFF, False), (OTHER_OWNER, False), (NEWCOMER, False),
    (ANONYMOUS, False), (None, False),
])
def test_any_member_may_edit_the_organisation_but_staff_may_not(user, expected):
    assert can_edit_organisation(user, OURS) is expected


@pytest.mark.parametrize("user, expected", [
    (OWNER, True), (COLLEAGUE, False), (STAFF, False), (OTHER_OWNER, False), (NEWCOMER, False),
    (ANONYMOUS, False), (SIGNED_OUT_WITH_LEFTOVERS, False), (None, False),
])
def test_only_the_owner_manages_colleagues(user, expected):
    assert can_manage_members(user, OURS) is expected


def test_an_owner_of_another_organisation_manages_only_their_own():
    assert can_manage_members(OTHER_OWNER, THEIRS)
    assert not can_manage_members(OTHER_OWNER, OURS)


@pytest.mark.parametrize("user, expected", [
    (NEWCOMER, True), (UNVERIFIED, False), (STAFF, False), (OWNER, False), (COLLEAGUE, False),
    (ANONYMOUS, False), (person(signed_in=False), False), (None, False),
])
def test_only_a_verified_provider_without_an_organisation_may_register_one(user, expected):
    assert can_create_organisation(user) is expected
