"""Every table, imported in one place so Alembic sees them all."""

from marketplace.accounts.models import SignInThrottle, StaffRole, User  # noqa: F401
from marketplace.audit import AuditEvent  # noqa: F401
from marketplace.pagecache import PublicVersion  # noqa: F401
from marketplace.organisations.models import Membership, Organisation, OrganisationInvitation  # noqa: F401
from marketplace.opportunities.models import (  # noqa: F401
    Amendment, Criterion, EvaluationModel, Lot, Opportunity, OpportunityDocument, SavedSearch, Watch,
)
from marketplace.settings.models import Setting  # noqa: F401
from marketplace.clarifications.models import Question  # noqa: F401
from marketplace.right_to_bid.models import CatalogueService, Proposal  # noqa: F401
from marketplace.bids.models import (  # noqa: F401
    Bid, BidAnswer, BidDocument, BidSubmission, ConsortiumMember, PriceLine, SocialValueCommitment,
)
from marketplace.evaluation.models import (  # noqa: F401
    ComplianceCheck, ConflictDeclaration, ConflictsAssessment, Evaluation, ModeratedScore, PanelMember, Score,
)
from marketplace.awards.models import Award, Challenge, Contract, PriceReview  # noqa: F401
from marketplace.reports.models import ReportRender  # noqa: F401
