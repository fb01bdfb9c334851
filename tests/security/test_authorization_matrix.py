"""The authorization matrix: every route in the URL map, for every kind of person, against the declared policy
(tests/security/policy.py). A route without a policy fails here, by name.

GET: each allowed person gets the page; each refused person is refused, with 404 where the policy hides the
object (another organisation's, a sealed bid, an evaluation). POST: each refused person's request, with a valid
CSRF token, is refused the same way and changes nothing (no audit event is written).
"""

from __future__ import annotations

import pytest

from tests.security.policy import POLICY, Policy
from tests.security.routes import ROUTES, Answer, csrf_token, routes_with
from tests.security.world import ACTORS, ANONYMOUS, World, audit_events


def _cases(method: str) -> list:
    return [pytest.param(endpoint, n, id=f"{endpoint}[{policy.scene}]" if policy else endpoint)
            for endpoint in routes_with(method)
            for n, policy in enumerate(POLICY.get(endpoint, (None,)))]


def policy_of(endpoint: str, n: int) -> Policy:
    if endpoint not in POLICY:
        pytest.fail(f"The route {endpoint} ({ROUTES[endpoint].rule}) has no authorization policy. Declare who may "
                    f"use it in tests/security/policy.py.")
    return POLICY[endpoint][n]


def refusal_problem(policy: Policy, actor: str, answer: Answer) -> str | None:
    """Why this answer is not a proper refusal for this person, or None when it is one."""
    if policy.must_hide_from(actor):
        return None if answer.status == 404 else "should be 404 (hidden)"
    if actor == ANONYMOUS:
        return None if answer.to_sign_in or answer.status in (403, 404) else "should be sent to sign in"
    return None if answer.status in (403, 404) else "should be refused (403 or 404)"


def expectation_problem(policy: Policy, actor: str, answer: Answer) -> str | None:
    if actor in policy.allowed:
        return None if answer.allowed else "should be allowed"
    return refusal_problem(policy, actor, answer)


def report(endpoint: str, policy: Policy, problems: list[str]) -> str:
    return (f"{endpoint} ({ROUTES[endpoint].rule}, scene {policy.scene!r}, allowed: "
            f"{', '.join(sorted(policy.allowed)) or 'nobody'}):\n  " + "\n  ".join(problems))


def test_every_policy_names_a_route_that_exists():
    assert sorted(set(POLICY) - set(ROUTES)) == [], "policies for routes that no longer exist"


def test_a_route_without_a_policy_fails_the_matrix_by_name(monkeypatch):
    monkeypatch.delitem(POLICY, "pages.cookies")

    with pytest.raises(pytest.fail.Exception, match=r"pages\.cookies \(/cookies-and-privacy\) has no authorization"):
        policy_of("pages.cookies", 0)


@pytest.mark.parametrize(("endpoint", "n"), _cases("GET"))
def test_each_person_gets_exactly_the_pages_the_policy_allows(world: World, endpoint, n):
    policy = policy_of(endpoint, n)
    problems = []
    for actor in ACTORS:
        answer = Answer.of(world.client(actor).get(world.url(ROUTES[endpoint], policy.scene)))
        if (problem := expectation_problem(policy, actor, answer)) is not None:
            problems.append(f"{actor}: {answer}, {problem}")
    assert not problems, report(endpoint, policy, problems)


@pytest.mark.parametrize(("endpoint", "n"), _cases("POST"))
def test_a_refused_persons_post_is_refused_and_changes_nothing(world: World, endpoint, n):
    policy = policy_of(endpoint, n)
    before, problems = audit_events(), []
    for actor in [a for a in ACTORS if a not in policy.posters]:
        client = world.client(actor)
        url = world.url(ROUTES[endpoint], policy.scene)
        answer = Answer.of(client.post(url, data={"csrf_token": csrf_token(client, actor)}))
        if (problem := refusal_problem(policy, actor, answer)) is not None:
            problems.append(f"{actor}: {answer}, {problem}")
    assert not problems, report(endpoint, policy, problems)
    assert audit_events() == before, f"a refused POST to {endpoint} was recorded as a change"
