"""Council staff fixtures shared by the commissioning tests (import the ones a module needs)."""

import pytest

from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def request_context(app):
    """Setting up data through the services sends email, which builds links."""
    with app.test_request_context():
        yield


@pytest.fixture()
def author():
    return StaffFactory(roles=["commissioner"], full_name="Chris Commissioner")


@pytest.fixture()
def colleague():
    """Another commissioner."""
    return StaffFactory(roles=["commissioner"], full_name="Casey Colleague")


@pytest.fixture()
def officer():
    return StaffFactory(roles=["procurement_officer"], full_name="Pat Procurement")


@pytest.fixture()
def lead():
    """Holds both roles."""
    return StaffFactory(roles=["commissioner", "procurement_officer"], full_name="Sam Lead")
