"""Absolute links for emails and feeds (marketplace/links.py): built from BASE_URL when it is set, in a request, a
command or a job alike; from the request's host when it is not; refused outside a request without it."""

from __future__ import annotations

import pytest
from flask import has_request_context, url_for

from marketplace import jobs
from marketplace.accounts import services as accounts
from marketplace.links import absolute_url, links_from
from tests.factories import UserFactory

BASE = "https://marketplace.kent.example"
WITH_BASE_URL = pytest.mark.parametrize("app_overrides", [{"BASE_URL": BASE}])


@jobs.job("tests.reset_password_email")
def reset_password_email(email: str) -> None:
    """Work that emails a link, as the worker runs it: in an application context with no request."""
    assert not has_request_context()
    accounts.request_password_reset(email)


@WITH_BASE_URL
def test_an_email_sent_by_the_job_worker_links_to_base_url(app, mailbox, monkeypatch):
    user = UserFactory()
    monkeypatch.setattr(jobs, "_worker_app", app)  # the worker's own app, as `flask jobs-worker` makes it

    jobs.run("tests.reset_password_email", user.email)

    assert mailbox.link_in(user.email, "/reset-password/").startswith(f"{BASE}/reset-password/")


@WITH_BASE_URL
def test_outside_a_request_a_link_is_built_from_base_url(app):
    assert not has_request_context()
    assert absolute_url("opportunities.detail", opportunity_id=7, _anchor="questions") == \
        f"{BASE}/opportunities/7#questions"


def test_without_base_url_a_link_outside_a_request_is_refused_naming_the_setting(app):
    with pytest.raises(RuntimeError, match="set BASE_URL"):
        absolute_url("opportunities.detail", opportunity_id=7)


def test_in_a_request_without_base_url_a_link_follows_the_request_host(app):
    with app.test_request_context("/", base_url="http://portal.example:8080"):
        assert absolute_url("opportunities.detail", opportunity_id=7) == "http://portal.example:8080/opportunities/7"


@WITH_BASE_URL
def test_with_base_url_a_request_at_another_host_and_a_job_build_the_same_link(app):
    outside = absolute_url("opportunities.detail", opportunity_id=7)
    with app.test_request_context("/", base_url="http://10.0.0.5:8000"):
        inside = absolute_url("opportunities.detail", opportunity_id=7)

    assert inside == outside == f"{BASE}/opportunities/7"


@WITH_BASE_URL
def test_with_base_url_a_link_equals_url_for_in_a_request_at_that_address(app):
    values = {"category": ["public-health", "housing"], "q": "day care & respite", "page": 2}
    with app.test_request_context("/", base_url=BASE):
        expected = url_for("opportunities.search", _external=True, **values)

    assert absolute_url("opportunities.search", **values) == expected


@pytest.mark.parametrize("app_overrides", [{"BASE_URL": f"{BASE}/market/"}])
def test_a_base_url_with_a_path_keeps_its_path(app):
    assert absolute_url("opportunities.detail", opportunity_id=7) == f"{BASE}/market/opportunities/7"


@WITH_BASE_URL
def test_a_command_s_own_address_wins_over_base_url_inside_its_block_only(app):
    with links_from("https://staging.kent.example"):
        during = absolute_url("pages.home")

    assert during == "https://staging.kent.example/"
    assert absolute_url("pages.home") == f"{BASE}/"
