"""The opportunity lifecycle (pure): every action from every state, who may take it, the cancel reason, and
`closed` following from the clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product

import pytest

from marketplace.opportunities import lifecycle as lc
from marketplace.opportunities.lifecycle import TransitionRefused, available_actions, effective_state, next_state

ALL_ROLES = frozenset({lc.COMMISSIONER, lc.PROCUREMENT_OFFICER, lc.ADMINISTRATOR, lc.CLOCK})

# action -> (states it starts from, the state it leads to)
EXPECTED = {
    "submit_for_approval": ({lc.DRAFT}, lc.AWAITING_APPROVAL),
    "return_to_draft": ({lc.AWAITING_APPROVAL}, lc.DRAFT),
    "approve": ({lc.AWAITING_APPROVAL}, lc.PUBLISHED),
    "close": ({lc.PUBLISHED}, lc.CLOSED),
    "start_evaluation": ({lc.CLOSED}, lc.EVALUATING),
    "recommend_award": ({lc.EVALUATING}, lc.AWARD_RECOMMENDED),
    "approve_award": ({lc.AWARD_RECOMMENDED}, lc.STANDSTILL),
    "return_award": ({lc.AWARD_RECOMMENDED, lc.STANDSTILL}, lc.EVALUATING),
    "confirm_award": ({lc.STANDSTILL}, lc.AWARDED),
    "cancel": (set(lc.STATES) - {lc.AWARDED, lc.CANCELLED}, lc.CANCELLED),
}

# action -> the roles that may take it
WHO = {
    "submit_for_approval": {lc.COMMISSIONER},
    "return_to_draft": {lc.COMMISSIONER, lc.PROCUREMENT_OFFICER},
    "approve": {lc.PROCUREMENT_OFFICER},
    "close": {lc.CLOCK},
    "start_evaluation": {lc.PROCUREMENT_OFFICER},
    "recommend_award": {lc.PROCUREMENT_OFFICER},
    "approve_award": {lc.PROCUREMENT_OFFICER, lc.ADMINISTRATOR},
    "return_award": {lc.PROCUREMENT_OFFICER, lc.ADMINISTRATOR},
    "confirm_award": {lc.PROCUREMENT_OFFICER},
    "cancel": {lc.COMMISSIONER, lc.PROCUREMENT_OFFICER},
}

REASON = "The service is being brought back in house"


def test_the_tables_in_this_test_cover_every_transition():
    assert set(EXPECTED) == set(WHO) == set(lc.BY_ACTION)


@pytest.mark.parametrize(("state", "action"), list(product(lc.STATES, EXPECTED)))
def test_each_action_is_allowed_from_exactly_its_source_states(state, action):
    sources, target = EXPECTED[action]
    if state in sources:
        assert next_state(state, action, ALL_ROLES, reason=REASON) == target
    else:
        with pytest.raises(TransitionRefused, match=f"You cannot {lc.BY_ACTION[action].label.lower()}"):
            next_state(state, action, ALL_ROLES, reason=REASON)


@pytest.mark.parametrize(("action", "role"), list(product(EXPECTED, sorted(ALL_ROLES))))
def test_each_action_is_allowed_only_to_its_roles(action, role):
    state = sorted(EXPECTED[action][0])[0]
    if role in WHO[action]:
        assert next_state(state, action, {role}, reason=REASON) == EXPECTED[action][1]
    else:
        with pytest.raises(TransitionRefused, match="^Only an? "):
            next_state(state, action, {role}, reason=REASON)


@pytest.mark.parametrize("action", list(EXPECTED))
def test_nobody_without_a_role_can_take_any_action(action):
    with pytest.raises(TransitionRefused):
        next_state(sorted(EXPECTED[action][0])[0], action, frozenset(), reason=REASON)


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_cancelling_needs_a_reason_that_bidders_and_the_public_will_see(reason):
    with pytest.raises(TransitionRefused, match="Give the reason for cancelling"):
        next_state(lc.PUBLISHED, "cancel", {lc.PROCUREMENT_OFFICER}, reason=reason)


def test_an_awarded_opportunity_cannot_be_cancelled():
    with pytest.raises(TransitionRefused, match="awarded"):
        next_state(lc.AWARDED, "cancel", {lc.PROCUREMENT_OFFICER}, reason=REASON)


def test_an_unknown_action_is_refused():
    with pytest.raises(TransitionRefused, match="Unknown action"):
        next_state(lc.DRAFT, "publish_now", ALL_ROLES)


def test_the_refusal_says_what_the_state_is_in_words():
    with pytest.raises(TransitionRefused) as refused:
        next_state(lc.AWAITING_APPROVAL, "submit_for_approval", {lc.COMMISSIONER})
    assert refused.value.message == "You cannot send for approval an opportunity that is awaiting approval."


DEADLINE = datetime(2027, 4, 7, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("now", "expected"), [
    (DEADLINE - timedelta(days=1), lc.PUBLISHED),
    (DEADLINE - timedelta(microseconds=1), lc.PUBLISHED),
    (DEADLINE, lc.CLOSED),
    (DEADLINE + timedelta(seconds=1), lc.CLOSED),
])
def test_a_published_opportunity_closes_when_the_clock_reaches_its_deadline(now, expected):
    assert effective_state(lc.PUBLISHED, DEADLINE, now) == expected


@pytest.mark.parametrize("state", sorted(set(lc.STATES) - {lc.PUBLISHED}))
def test_the_clock_changes_only_published_opportunities(state):
    assert effective_state(state, DEADLINE, DEADLINE + timedelta(days=30)) == state


def test_a_published_opportunity_without_a_deadline_stays_published():
    assert effective_state(lc.PUBLISHED, None, DEADLINE) == lc.PUBLISHED


@pytest.mark.parametrize(("state", "roles", "expected"), [
    (lc.DRAFT, {lc.COMMISSIONER}, ["submit_for_approval", "cancel"]),
    (lc.DRAFT, {lc.PROCUREMENT_OFFICER}, ["cancel"]),
    (lc.AWAITING_APPROVAL, {lc.PROCUREMENT_OFFICER}, ["return_to_draft", "approve", "cancel"]),
    (lc.AWAITING_APPROVAL, {lc.COMMISSIONER}, ["return_to_draft", "cancel"]),
    (lc.PUBLISHED, {lc.CLOCK}, ["close"]),
    (lc.AWARDED, ALL_ROLES, []),
    (lc.CANCELLED, ALL_ROLES, []),
])
def test_available_actions_are_those_the_roles_may_take_from_the_state(state, roles, expected):
    assert [t.action for t in available_actions(state, roles)] == expected


def test_an_administrator_may_approve_an_award_but_a_commissioner_is_told_who_can():
    assert next_state(lc.AWARD_RECOMMENDED, "approve_award", {lc.ADMINISTRATOR}) == lc.STANDSTILL
    with pytest.raises(TransitionRefused) as refused:
        next_state(lc.AWARD_RECOMMENDED, "approve_award", {lc.COMMISSIONER})
    assert refused.value.message == ("Only an administrator or procurement officer can approve award and start "
                                     "standstill.")


@pytest.mark.parametrize("state", [lc.AWARD_RECOMMENDED, lc.STANDSTILL])
def test_a_returned_recommendation_or_an_upheld_challenge_sends_the_opportunity_back_to_evaluation(state):
    assert next_state(state, "return_award", {lc.PROCUREMENT_OFFICER}) == lc.EVALUATING


def test_every_state_has_words_for_people():
    assert set(lc.STATE_LABELS) == set(lc.STATES)
