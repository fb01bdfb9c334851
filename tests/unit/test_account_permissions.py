"""Role gates in marketplace/accounts/permissions.py, on plain objects: no app, no database."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from marketplace.accounts import permissions as perms


def person(*roles: str, signed_in: bool = True, staff: bool | None = None) -> SimpleNamespace:
    return SimpleNamespace(is_authenticated=signed_in, roles=frozenset(roles),
                           is_staff=bool(roles) if staff is None else staff)


PEOPLE = {
    "anonymous": SimpleNamespace(is_authenticated=False),
    # A session that is no longer signed in keeps no powers, whatever the object still says.
    "signed-out administrator": person("administrator", signed_in=False),
    "provider": person(),
    "commissioner": person("commissioner"),
    "procurement officer": person("procurement_officer"),
    "administrator": person("administrator"),
    "commissioner and administrator": person("commissioner", "administrator"),
    "staff with no roles left": person(staff=True),
}

# predicate: the people it allows (everyone else is refused)
ALLOWED = {
    perms.can_administer: {"administrator", "commissioner and administrator"},
    perms.can_commission: {"commissioner", "commissioner and administrator"},
    perms.can_run_procurement: {"procurement officer"},
    perms.can_read_audit_log: {"administrator", "procurement officer", "commissioner and administrator"},
    perms.is_provider: {"provider"},
    perms.is_staff: {"commissioner", "procurement officer", "administrator", "commissioner and administrator"},
}


@pytest.mark.parametrize("predicate", ALLOWED, ids=lambda predicate: predicate.__name__)
@pytest.mark.parametrize("who", PEOPLE)
def test_each_gate_allows_exactly_the_roles_it_names(predicate, who):
    assert predicate(PEOPLE[who]) is (who in ALLOWED[predicate])


@pytest.mark.parametrize("role", ["administrator", "commissioner", "procurement_officer"])
def test_has_role_needs_a_signed_in_user_holding_that_exact_role(role):
    assert perms.has_role(person(role), role)
    assert not perms.has_role(person(role, signed_in=False), role)
    assert not perms.has_role(person(role.upper()), role)
    assert not perms.has_role(person(), role)


def test_an_object_without_login_attributes_is_refused_everything():
    assert not any(predicate(object()) for predicate in ALLOWED)
