"""Errors answer in the service's own layout, never a bare or framework page."""

import pytest
from flask import abort

from tests.factories import StaffFactory, provider


@pytest.fixture()
def app_overrides():
    return {"MAX_CONTENT_LENGTH": 1024}


@pytest.fixture()
def failing_app(app):
    @app.get("/__boom")
    def boom():
        raise RuntimeError("unexpected")

    @app.get("/__abort/<int:code>")
    def aborting(code):
        abort(code)

    return app


def _assert_service_page(response, status, text):
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert "Kent Commissioning Marketplace" in body
    assert text in body


@pytest.mark.parametrize("code, text", [
    (400, "Sorry, there is a problem with your request"),
    (403, "You do not have permission to see this page"),
    (404, "Page not found"),
    (413, "too large"),
    (429, "Too many requests"),
])
def test_http_errors_use_the_service_layout(failing_app, code, text):
    _assert_service_page(failing_app.test_client().get(f"/__abort/{code}"), code, text)


def test_an_unexpected_error_answers_500_with_the_service_page(failing_app):
    _assert_service_page(failing_app.test_client().get("/__boom"), 500, "Sorry, there is a problem with the service")


def test_unknown_address_answers_404_page(client):
    _assert_service_page(client.get("/no-such-page"), 404, "If you typed the web address")


def test_a_body_over_the_upload_limit_answers_413_with_the_service_page(client):
    token = client.csrf_token("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": token, "email": "a@example.org", "password": "x" * 5000})
    _assert_service_page(response, 413, "too large")


def test_a_commissioner_gets_the_service_403_page_on_admin_pages(client, as_user):
    as_user(StaffFactory(roles=["commissioner"]))
    _assert_service_page(client.get("/admin/staff"), 403, "You do not have permission")


def test_a_provider_gets_403_on_staff_pages(client, as_user):
    as_user(provider())
    assert client.get("/admin/audit").status_code == 403


def test_anonymous_users_are_sent_to_sign_in_for_private_pages(client):
    response = client.get("/admin/staff")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
