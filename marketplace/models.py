"""Every table, imported in one place so Alembic sees them all."""

from marketplace.accounts.models import SignInThrottle, StaffRole, User  # noqa: F401
from marketplace.audit import AuditEvent  # noqa: F401
from marketplace.organisations.models import Membership, Organisation, OrganisationInvitation  # noqa: F401
