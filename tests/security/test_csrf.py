"""Every POST route refuses a request that does not carry the session's CSRF token, even from a signed-in person
who may use it: no token, a made-up token, or a token from another person's session. The refusal is the
service's 400 page and nothing changes."""

from __future__ import annotations

import pytest

from tests.security.policy import POLICY
from tests.security.routes import CSRF_MESSAGE, ROUTES, Answer, csrf_token, routes_with
from tests.security.world import ANONYMOUS, World, audit_events


def forged_tokens(world: World, actor: str) -> dict[str, dict]:
    """The form data of each forged request: no token, a made-up one, and a real one from another session."""
    elsewhere = world.client(actor)
    return {"no token": {}, "a made-up token": {"csrf_token": "IjAwMDAwMDAwIg.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            "another session's token": {"csrf_token": csrf_token(elsewhere, actor)}}


@pytest.mark.parametrize("endpoint", routes_with("POST"))
def test_a_post_without_the_sessions_csrf_token_is_refused(world: World, endpoint):
    if endpoint not in POLICY:
        pytest.skip("a route without a policy: the authorization matrix fails for it")
    actor = POLICY[endpoint][0].poster
    client = world.client(actor)
    csrf_token(client, actor)  # the session has a token of its own: the forged requests do not carry it
    before = audit_events()
    for forgery, data in forged_tokens(world, actor).items():
        answer = Answer.of(client.post(world.url(ROUTES[endpoint], POLICY[endpoint][0].scene),
                                       data={"confirm": "yes", **data}))
        assert answer.status == 400 and CSRF_MESSAGE in answer.text, \
            f"{endpoint} as {actor} with {forgery}: {answer}, expected the 400 page for a forged form"
    assert audit_events() == before


def test_a_post_with_the_sessions_token_is_not_taken_for_a_forgery(world: World):
    """The check above can fail: the same request with the session's own token gets past it."""
    client = world.client(ANONYMOUS)
    answer = Answer.of(client.post("/sign-in", data={"csrf_token": csrf_token(client, ANONYMOUS),
                                                     "email": "nobody@example.org", "password": "wrong"}))

    assert answer.status == 200 and CSRF_MESSAGE not in answer.text
