"""Demo data for `flask seed-demo`: staff in each role, 40 provider organisations, then the commissioning data
(opportunities, questions, right to bid, saved searches: see seed_commissioning.py), the bids (seed_bids.py) and
the evaluations and awards (seed_evaluation.py). Idempotent."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sqlalchemy as sa
from faker import Faker

from marketplace import audit
from marketplace.accounts.models import StaffRole, User
from marketplace.accounts.passwords import hash_password
from marketplace.accounts.roles import ADMINISTRATOR, COMMISSIONER, PROCUREMENT_OFFICER
from marketplace.extensions import db
from marketplace.kent import DISTRICTS, LOCALITY_CHOICES, OUTWARD_CODES, STRADDLING, resolve_kent_status
from marketplace.organisations.choices import MEMBER_OWNER, ORGANISATION_TYPES
from marketplace.organisations.models import Membership, Organisation
from marketplace.organisations.services import name_key
from marketplace.seed_bids import seed_bids
from marketplace.seed_commissioning import Cast, CommissioningSummary, seed_commissioning
from marketplace.seed_evaluation import EvaluationSummary, seed_evaluation
from marketplace.taxonomy import CATEGORIES
from marketplace.timeutil import utcnow

DEMO_PASSWORD = "kent-demo-password"  # nosec B105 # demo accounts only: seed-demo refuses production
SEED = 20261123
ORGANISATION_COUNT = 40
OUTSIDE_KENT_POSTCODES = ("SE1 7PB", "RH1 1AA", "BN1 1AA", "ME4 4AA")

ADMIN_EMAIL = "admin@kent.example"
COMMISSIONER_EMAIL = "commissioner@kent.example"
OFFICER_EMAIL = "procurement@kent.example"
LEAD_EMAIL = "lead@kent.example"
STAFF = (
    (ADMIN_EMAIL, "Alex Administrator", (ADMINISTRATOR,)),
    (COMMISSIONER_EMAIL, "Chris Commissioner", (COMMISSIONER,)),
    (OFFICER_EMAIL, "Pat Procurement", (PROCUREMENT_OFFICER,)),
    (LEAD_EMAIL, "Sam Lead", (COMMISSIONER, PROCUREMENT_OFFICER)),
)

SIZE_BY_TYPE = {
    "voluntary_community": ("micro", "small"), "charity": ("micro", "small", "medium"),
    "social_enterprise": ("micro", "small"), "cooperative_mutual": ("small", "medium"),
    "staff_mutual": ("small", "medium"), "private_company": ("micro", "small", "medium", "large"),
    "sole_trader": ("micro",), "public_body": ("medium", "large"),
}

SUFFIX_BY_TYPE = {
    "voluntary_community": "Community Group", "charity": "Trust", "social_enterprise": "CIC",
    "cooperative_mutual": "Co-operative", "staff_mutual": "Services Mutual", "private_company": "Ltd",
    "sole_trader": "Services", "public_body": "Partnership",
}


@dataclass
class SeedSummary:
    staff_created: int = 0
    organisations_created: int = 0
    provider_logins: list[str] = field(default_factory=list)
    commissioning: CommissioningSummary = field(default_factory=CommissioningSummary)
    evaluation: EvaluationSummary = field(default_factory=EvaluationSummary)

    def describe(self) -> str:
        lines = [
            f"Demo data ready ({self.staff_created} staff and {self.organisations_created} organisations added).",
            *self.commissioning.describe(),
            *self.evaluation.describe(),
            f"Every demo account's password is: {DEMO_PASSWORD}",
            "Staff:",
            *[f"  {email:32} {', '.join(roles)}" for email, _, roles in STAFF],
            "Providers (organisation owners), for example:",
            *[f"  {email}" for email in self.provider_logins[:5]],
        ]
        return "\n".join(lines)


def _single_district_codes() -> dict[str, list[str]]:
    codes: dict[str, list[str]] = {d.slug: [] for d in DISTRICTS}
    for outward, districts in OUTWARD_CODES.items():
        if len(districts) == 1 and outward not in STRADDLING:
            codes[districts[0]].append(outward)
    return codes


def _postcode(rng: random.Random, outward: str) -> str:
    return f"{outward} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def _seed_staff(password_hash: str, summary: SeedSummary) -> None:
    for email, name, roles in STAFF:
        if db.session.execute(sa.select(User.id).filter_by(email=email)).scalar_one_or_none():
            continue
        user = User(email=email, full_name=name, password_hash=password_hash, is_staff=True,
                    email_verified_at=utcnow(), role_rows=[StaffRole(role=r) for r in roles])
        db.session.add(user)
        db.session.flush()
        audit.record("staff.seeded", "user", user.id, actor="seed-demo", details={"roles": list(roles)})
        summary.staff_created += 1


def _organisation_plan(fake: Faker, rng: random.Random) -> list[dict]:
    codes = _single_district_codes()
    types = list(ORGANISATION_TYPES)
    districts = [d.slug for d in DISTRICTS]
    plan = []
    for index in range(ORGANISATION_COUNT):
        org_type = types[index % len(types)]
        outside = index % 10 == 9
        postcode = (OUTSIDE_KENT_POSTCODES[(index // 10) % len(OUTSIDE_KENT_POSTCODES)] if outside
                    else _postcode(rng, rng.choice(codes[districts[index % len(districts)]])))
        plan.append({
            "legal_name": f"{fake.unique.last_name()} {fake.word().title()} {SUFFIX_BY_TYPE[org_type]}",
            "org_type": org_type,
            "size": rng.choice(SIZE_BY_TYPE[org_type]),
            "postcode": postcode,
            "line1": fake.street_address(), "town": fake.city(),
            "owner": (fake.name(), f"provider{index + 1:02d}@example.org"),
            "categories": rng.sample(list(CATEGORIES), 2),
            "localities": [slug for slug, _ in rng.sample(LOCALITY_CHOICES, 2)],
            "company": f"{rng.randint(1, 99999999):08d}" if org_type in ("private_company", "social_enterprise") else None,
            "charity": f"{rng.randint(1000000, 1199999)}" if org_type == "charity" else None,
        })
    return plan


def _seed_organisation(item: dict, password_hash: str) -> bool:
    if db.session.execute(sa.select(Organisation.id).filter_by(name_key=name_key(item["legal_name"]))).first():
        return False
    status = resolve_kent_status(item["postcode"])
    owner_name, owner_email = item["owner"]
    owner = db.session.execute(sa.select(User).filter_by(email=owner_email)).scalar_one_or_none()
    if owner is None:
        owner = User(email=owner_email, full_name=owner_name, password_hash=password_hash,
                     email_verified_at=utcnow())
        db.session.add(owner)
        db.session.flush()
    organisation = Organisation(
        legal_name=item["legal_name"], name_key=name_key(item["legal_name"]), org_type=item["org_type"],
        size=item["size"], companies_house_number=item["company"], charity_number=item["charity"],
        trading_line1=item["line1"], trading_town=item["town"], trading_postcode=item["postcode"],
        operations_line1=item["line1"], operations_town=item["town"], operations_postcode=item["postcode"],
        kent_based=status.kent_based, district=status.district, kent_derivation=status.derivation,
        categories=sorted(item["categories"]), localities=sorted(item["localities"]),
    )
    organisation.memberships.append(Membership(user_id=owner.id, role=MEMBER_OWNER))
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation.seeded", "organisation", organisation.id, actor="seed-demo",
                 details={"legal_name": organisation.legal_name, "derivation": status.derivation})
    return True


def _user(email: str) -> User:
    return db.session.execute(sa.select(User).filter_by(email=email)).scalar_one()


def _cast(provider_emails: list[str]) -> Cast:
    owners = db.session.execute(sa.select(User).where(User.email.in_(provider_emails))).scalars().all()
    by_email = {owner.email: owner for owner in owners}
    return Cast(commissioner=_user(COMMISSIONER_EMAIL), lead=_user(LEAD_EMAIL), officer=_user(OFFICER_EMAIL),
                owners=tuple(by_email[email] for email in provider_emails))


def seed_demo() -> SeedSummary:
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    rng = random.Random(SEED)  # nosec B311 # the same demo data every time, not a secret
    summary = SeedSummary()
    password_hash = hash_password(DEMO_PASSWORD)
    _seed_staff(password_hash, summary)
    for item in _organisation_plan(fake, rng):
        summary.organisations_created += _seed_organisation(item, password_hash)
        summary.provider_logins.append(item["owner"][1])
    summary.commissioning = seed_commissioning(_cast(summary.provider_logins), utcnow())
    seed_bids(_cast(summary.provider_logins), utcnow())
    db.session.commit()
    summary.evaluation = seed_evaluation(_cast(summary.provider_logins), _user(ADMIN_EMAIL), utcnow())
    return summary
