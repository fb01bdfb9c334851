"""Right-to-bid rules and permissions, without the app: windows, eligibility, staff groups, the catalogue, decisions
and when they are due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.right_to_bid import permissions, rules

D = date


# Windows ------------------------------------------------------------------------------------------------

CURRENT = (D(2027, 4, 1), D(2027, 6, 30))
NEXT = (D(2028, 4, 1), D(2028, 6, 30))


@pytest.mark.parametrize("today, windows, expected", [
    (D(2027, 3, 31), [CURRENT], rules.WindowStatus(rules.UPCOMING, *CURRENT)),
    (D(2027, 4, 1), [CURRENT], rules.WindowStatus(rules.OPEN, *CURRENT)),
    (D(2027, 5, 15), [CURRENT], rules.WindowStatus(rules.OPEN, *CURRENT)),
    (D(2027, 6, 30), [CURRENT], rules.WindowStatus(rules.OPEN, *CURRENT)),
    (D(2027, 7, 1), [CURRENT], rules.WindowStatus(rules.NONE_SCHEDULED)),
    (D(2027, 7, 1), [CURRENT, NEXT], rules.WindowStatus(rules.UPCOMING, *NEXT)),
    (D(2028, 4, 1), [CURRENT, NEXT], rules.WindowStatus(rules.OPEN, *NEXT)),
    (D(2028, 7, 1), [CURRENT, NEXT], rules.WindowStatus(rules.NONE_SCHEDULED)),
    (D(2027, 7, 1), [CURRENT, (None, None)], rules.WindowStatus(rules.NONE_SCHEDULED)),
    (D(2027, 7, 1), [CURRENT, (D(2028, 4, 1), None)], rules.WindowStatus(rules.NONE_SCHEDULED)),
    (D(2027, 3, 1), [NEXT, CURRENT], rules.WindowStatus(rules.UPCOMING, *CURRENT)),
])
def test_a_window_is_open_from_its_first_day_to_its_last_and_otherwise_the_next_one_is_named(today, windows, expected):
    assert rules.window_status(today, windows) == expected


@pytest.mark.parametrize("status, summary, refusal", [
    (rules.WindowStatus(rules.OPEN, *CURRENT), "Open until 30 June 2027", None),
    (rules.WindowStatus(rules.UPCOMING, *NEXT), "Opens 1 April 2028, closes 30 June 2028",
     "Expressions of interest for this service are not being accepted now. The next window opens on "
     "1 April 2028 and closes on 30 June 2028."),
    (rules.WindowStatus(rules.NONE_SCHEDULED), "Closed: no window scheduled",
     "Expressions of interest for this service are not being accepted now. No window is scheduled yet: "
     "check the catalogue again later."),
])
def test_outside_a_window_the_refusal_gives_the_next_windows_dates_or_says_none_is_scheduled(status, summary, refusal):
    assert rules.window_summary(status) == summary
    assert rules.window_refusal(status) == refusal


# Who may propose -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("org_type, expected", [
    (None, ["staff_group"]),
    ("charity", ["charity", "staff_group", "provider"]),
    ("voluntary_community", ["voluntary_community", "staff_group", "provider"]),
    ("social_enterprise", ["voluntary_community", "staff_group", "provider"]),
    ("cooperative_mutual", ["voluntary_community", "staff_group", "provider"]),
    ("public_body", ["parish_council", "staff_group", "provider"]),
    ("private_company", ["staff_group", "provider"]),
    ("sole_trader", ["staff_group", "provider"]),
])
def test_each_kind_of_body_needs_a_fitting_organisation_and_a_staff_group_needs_none(org_type, expected):
    assert rules.eligible_proposer_types(org_type) == expected


@pytest.mark.parametrize("proposer_type, org_type, message", [
    ("charity", "private_company", "Your organisation is not registered as a charity: choose another option"),
    ("parish_council", "charity",
     "Your organisation is not registered as a parish or town council: choose another option"),
    ("provider", None, "Register your organisation before proposing on its behalf, or propose as a group of "
                       "council employees"),
    ("nonsense", "charity", "Select who is making the proposal"),
    ("", None, "Select who is making the proposal"),
])
def test_an_ineligible_proposer_is_told_why(proposer_type, org_type, message):
    assert rules.eligibility_refusal(proposer_type, org_type) == message


ANNE = ("Anne Smith", "Library assistant")
BOB = ("Bob Jones", "Branch manager")
EFFECT = "Nobody else's job changes."
TOO_FEW = (rules.STAFF_MEMBERS_FIELD, "List at least two council employees, with the name and job title of each")
NO_EFFECT = ("effect_on_employees", "Describe the effect of the proposal on other council employees")


@pytest.mark.parametrize("members, effect, problems", [
    ([ANNE, BOB], EFFECT, []),
    ([ANNE, BOB, ("", "")], EFFECT, []),
    ([ANNE], EFFECT, [TOO_FEW]),
    ([ANNE, ("Bob Jones", "")], EFFECT, [TOO_FEW]),
    ([ANNE, ("  ", "Manager")], EFFECT, [TOO_FEW]),
    ([], "", [TOO_FEW, NO_EFFECT]),
    ([ANNE, BOB], "   ", [NO_EFFECT]),
    ([ANNE, BOB], None, [NO_EFFECT]),
])
def test_a_staff_group_names_two_employees_and_says_how_other_employees_are_affected(members, effect, problems):
    assert rules.staff_group_problems(members, effect) == problems


# The catalogue ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cost, opens, closes, next_opens, next_closes, problems", [
    (Decimal("1"), D(2027, 4, 1), D(2027, 4, 2), None, None, []),
    (Decimal("1"), D(2027, 4, 1), D(2027, 6, 30), D(2027, 7, 1), D(2027, 9, 30), []),
    (Decimal("0"), D(2027, 4, 1), D(2027, 6, 30), None, None,
     [("annual_cost", "Current annual cost must be more than £0")]),
    (Decimal("-5"), D(2027, 4, 1), D(2027, 6, 30), None, None,
     [("annual_cost", "Current annual cost must be more than £0")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 4, 1), None, None,
     [("window_closes", "The window must close after it opens")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 3, 1), None, None,
     [("window_closes", "The window must close after it opens")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 6, 30), D(2027, 7, 1), None,
     [("next_window_closes", "Enter both dates of the next window, or neither")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 6, 30), None, D(2027, 9, 1),
     [("next_window_opens", "Enter both dates of the next window, or neither")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 6, 30), D(2027, 6, 30), D(2027, 9, 1),
     [("next_window_opens", "The next window must open after the current window closes")]),
    (Decimal("1"), D(2027, 4, 1), D(2027, 6, 30), D(2027, 9, 1), D(2027, 8, 1),
     [("next_window_closes", "The next window must close after it opens")]),
    (None, None, None, None, None, []),  # missing values are the form's to report
])
def test_a_catalogue_entry_costs_something_and_its_windows_close_after_they_open(cost, opens, closes, next_opens,
                                                                                  next_closes, problems):
    assert rules.catalogue_problems(cost, opens, closes, next_opens, next_closes) == problems


# Decisions ----------------------------------------------------------------------------------------------

REASONS = "The proposal meets every requirement."


@pytest.mark.parametrize("decision, ground, reasons, modification, agreed, lead, problems", [
    ("accepted", None, REASONS, None, False, True, []),
    ("accepted_modified", None, REASONS, "Run it from two sites, not three.", True, True, []),
    ("rejected", "frivolous_vexatious", REASONS, None, False, False, []),
    ("rejected", "other", REASONS, None, False, False, []),
    (None, None, REASONS, None, False, True, [("decision", "Select whether to accept or reject the proposal")]),
    ("maybe", None, REASONS, None, False, True, [("decision", "Select whether to accept or reject the proposal")]),
    (None, None, "", None, False, False, [("decision", "Select whether to accept or reject the proposal"),
                                          ("reasons", "Enter the reasons for the decision: they are published")]),
    ("accepted", None, "", None, False, True, [("reasons", "Enter the reasons for the decision: they are published")]),
    ("accepted", None, REASONS, None, False, False,
     [("lead_commissioner", "Select the commissioner who will lead the procurement")]),
    ("accepted_modified", None, REASONS, "", True, True,
     [("modification", "Describe the modification the proposer agreed")]),
    ("accepted_modified", None, REASONS, "Two sites.", False, True,
     [("modification_agreed", "Confirm the proposer has agreed the modification")]),
    ("rejected", None, REASONS, None, False, False, [("ground", "Select the ground for rejecting the proposal")]),
    ("rejected", "made_up", "  ", None, False, False,
     [("ground", "Select the ground for rejecting the proposal"),
      ("reasons", "Enter the reasons for the decision: they are published")]),
])
def test_every_decision_has_reasons_a_rejection_a_ground_and_a_modification_the_proposers_agreement(
        decision, ground, reasons, modification, agreed, lead, problems):
    assert rules.decision_problems(decision, ground, reasons, modification, agreed, lead) == problems


@pytest.mark.parametrize("submitted, days, due", [
    (D(2027, 1, 1), 90, D(2027, 4, 1)),
    (D(2027, 12, 15), 30, D(2028, 1, 14)),
    (D(2028, 2, 28), 1, D(2028, 2, 29)),
])
def test_a_decision_is_due_the_set_number_of_days_after_submission(submitted, days, due):
    assert rules.decision_due(submitted, days) == due


@pytest.mark.parametrize("today, status, label, overdue", [
    (D(2027, 3, 1), "submitted", "31 days left", False),
    (D(2027, 3, 31), "submitted", "1 day left", False),
    (D(2027, 4, 1), "submitted", "Due today", False),
    (D(2027, 4, 2), "submitted", "Overdue by 1 day", True),
    (D(2027, 4, 11), "submitted", "Overdue by 10 days", True),
    (D(2027, 4, 11), "accepted", "Overdue by 10 days", False),
])
def test_days_left_count_down_to_the_due_date_and_only_an_undecided_proposal_is_overdue(today, status, label,
                                                                                        overdue):
    due = D(2027, 4, 1)
    assert rules.time_left_label(due, today) == label
    assert rules.is_overdue(due, today, status) is overdue


# Permissions --------------------------------------------------------------------------------------------

@dataclass
class Org:
    org_type: str = "charity"


@dataclass
class Member:
    organisation_id: int
    organisation: Org = field(default_factory=Org)


@dataclass
class Person:
    id: int
    roles: frozenset = frozenset()
    membership: Member | None = None
    is_authenticated: bool = True


@dataclass
class Proposal:
    submitted_by_id: int | None = 1
    organisation_id: int | None = 10
    status: str = "submitted"


ANONYMOUS = Person(0, is_authenticated=False)
SUBMITTER = Person(1, membership=Member(10))
COLLEAGUE = Person(2, membership=Member(10))
OTHER_PROVIDER = Person(3, membership=Member(11))
OFFICER = Person(4, roles=frozenset({"procurement_officer"}))
COMMISSIONER = Person(5, roles=frozenset({"commissioner"}))
OFFICER_WHO_PROPOSED = Person(1, roles=frozenset({"procurement_officer"}))


@pytest.mark.parametrize("user, view, decide", [
    (ANONYMOUS, False, False),
    (SUBMITTER, True, False),
    (COLLEAGUE, True, False),
    (OTHER_PROVIDER, False, False),
    (OFFICER, True, True),
    (COMMISSIONER, False, False),
    (OFFICER_WHO_PROPOSED, True, False),
])
def test_the_proposer_and_procurement_officers_see_a_proposal_and_only_an_officer_who_did_not_make_it_decides(
        user, view, decide):
    proposal = Proposal()
    assert permissions.can_view_proposal(user, proposal) is view
    assert permissions.can_decide(user, proposal) is decide


def test_a_decided_proposal_cannot_be_decided_again():
    assert permissions.can_decide(OFFICER, Proposal(status="rejected")) is False


def test_a_staff_group_proposal_is_seen_only_by_the_person_who_sent_it():
    proposal = Proposal(submitted_by_id=1, organisation_id=None)
    assert permissions.can_view_proposal(SUBMITTER, proposal)
    assert not permissions.can_view_proposal(COLLEAGUE, proposal)


@pytest.mark.parametrize("user, manage, propose", [
    (ANONYMOUS, False, False), (SUBMITTER, False, True), (OFFICER, True, True), (COMMISSIONER, False, True),
])
def test_procurement_officers_keep_the_catalogue_and_anyone_signed_in_may_propose(user, manage, propose):
    assert permissions.can_manage_catalogue(user) is manage
    assert permissions.can_see_decision_queue(user) is manage
    assert permissions.can_propose(user) is propose


@pytest.mark.parametrize("module", ["rules.py", "permissions.py"])
def test_the_rules_and_permissions_import_nothing_from_flask_or_the_database(module):
    from tests.unit.test_pure_imports import PACKAGE, violations

    assert violations(Path(PACKAGE / "right_to_bid" / module)) == []
