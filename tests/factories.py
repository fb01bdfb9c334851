"""factory_boy factories bound to the app's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from marketplace.accounts.models import StaffRole, User
from marketplace.extensions import db
from marketplace.kent import resolve_kent_status
from marketplace.organisations.choices import MEMBER_COLLEAGUE, MEMBER_OWNER
from marketplace.organisations.models import Membership, Organisation
from marketplace.timeutil import utcnow

PASSWORD = "correct horse battery"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


def _password_hash(_):
    from marketplace.accounts.passwords import hash_password

    return hash_password(PASSWORD)


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password_hash = factory.LazyAttribute(_password_hash)
    email_verified_at = factory.LazyFunction(utcnow)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@kent.example")
    is_staff = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ("commissioner",):
            self.role_rows.append(StaffRole(role=role))
        if create:
            db.session.commit()


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    class Params:
        postcode = "CT1 2AB"

    legal_name = factory.Sequence(lambda n: f"Test Organisation {n}")
    name_key = factory.LazyAttribute(lambda o: o.legal_name.casefold())
    org_type = "charity"
    size = "small"
    charity_number = factory.Sequence(lambda n: f"{1100000 + n}")
    trading_line1 = "1 High Street"
    trading_town = "Canterbury"
    trading_postcode = factory.LazyAttribute(lambda o: o.postcode)
    operations_line1 = "1 High Street"
    operations_town = "Canterbury"
    operations_postcode = factory.LazyAttribute(lambda o: o.postcode)
    kent_based = factory.LazyAttribute(lambda o: resolve_kent_status(o.postcode).kent_based)
    district = factory.LazyAttribute(lambda o: resolve_kent_status(o.postcode).district)
    kent_derivation = factory.LazyAttribute(lambda o: resolve_kent_status(o.postcode).derivation)
    categories = factory.LazyFunction(list)
    localities = factory.LazyFunction(list)


def provider(organisation: Organisation | None = None, role: str = MEMBER_OWNER, **user_fields) -> User:
    """A verified provider user who belongs to organisation (a new one unless given)."""
    organisation = organisation or OrganisationFactory()
    user = UserFactory(**user_fields)
    db.session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    db.session.commit()
    db.session.refresh(user)
    return user


def colleague(organisation: Organisation, **user_fields) -> User:
    return provider(organisation, role=MEMBER_COLLEAGUE, **user_fields)
