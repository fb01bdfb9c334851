"""Every setting with its default, type and meaning (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    kind: type
    default: object
    hint: str
    minimum: object = None
    maximum: object = None


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("procurement_threshold", "Procurement threshold for services (£, including VAT)", Decimal,
                Decimal("214904"), "Below it an opportunity may be reserved to Kent-established suppliers.",
                Decimal("0"), Decimal("100000000")),
    SettingSpec("minimum_tender_period_days", "Shortest time from publication to the submission deadline (days)",
                int, 25, "Deadlines sooner than this after publication are refused.", 1, 365),
    SettingSpec("minimum_clarification_gap_days", "Shortest time between the clarification and submission deadlines (days)",
                int, 5, "So that bidders can use the last answers.", 0, 60),
    SettingSpec("right_to_bid_decision_days", "Time to decide a right-to-bid expression of interest (days)",
                int, 90, "Shown to procurement officers as days left.", 1, 365),
    SettingSpec("amendment_extension_days", "Deadline extension when an amendment changes what bidders must do (days)",
                int, 7, "The least extra time given after such an amendment.", 0, 90),
    SettingSpec("contract_register_threshold", "Contract register threshold (£)", Decimal, Decimal("5000"),
                "Contracts worth this much or more appear on the public contract register.", Decimal("0"),
                Decimal("1000000")),
    SettingSpec("abnormally_low_mean_pct", "Abnormally low: % under the mean of the other compliant bids", int, 40,
                "A bid this far below the mean must be explained before approval.", 1, 99),
    SettingSpec("abnormally_low_next_pct", "Abnormally low: % under the next lowest bid", int, 30,
                "A bid this far below the next lowest must be explained before approval.", 1, 99),
    SettingSpec("moderation_spread_pct", "Moderation: evaluators' scores this far apart are flagged (% of the scale)",
                int, 40, "40% flags scores 2 or more points apart on a 0 to 5 scale.", 1, 100),
    SettingSpec("ocds_ocid_prefix", "Open contracting data: ocid prefix", str, "ocds-kcc000",
                "The prefix registered with the Open Contracting Partnership; every ocid is this prefix, a hyphen "
                "and the opportunity reference. Changing it changes every published ocid."),
)

BY_KEY = {spec.key: spec for spec in SPECS}
