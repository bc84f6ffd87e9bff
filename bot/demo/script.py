"""Who takes part in the demo conversation and what they answer.

The answers agree with the sample company's planted patterns (icp_engine/sample.py), the way
real stakeholders' experience would agree with their CRM, so the draft's evidence lines up.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.stand_in.slack_api import ADMIN_ID
from bot.store.models import GtmRole


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    handle: str
    real_name: str
    title: str
    role: GtmRole | None = None

    @property
    def dm(self) -> str:
        """The DM channel id the stand-in's conversations.open gives this person."""
        return f"D{self.user_id[1:]}"


OWNER = Person(ADMIN_ID, "alex", "Alex Rivera", "Head of RevOps (ICP owner)")
SAM = Person("U0SAM", "sam", "Sam Okafor", "Account Executive", GtmRole.sales)
CARA = Person("U0CARA", "cara", "Cara Lindqvist", "Customer Success Manager", GtmRole.customer_success)
MO = Person("U0MO", "mo", "Mo Haddad", "Demand Generation", GtmRole.marketing)
CAST = (OWNER, SAM, CARA, MO)
INTERVIEWEES = (SAM, CARA, MO)

GENERAL = "C0GENERAL"
REVOPS = "C0REVOPS"
CHANNELS = {GENERAL: "general", REVOPS: "revops"}

#: The first answers each person gives (to the role's questions in order) before typing "done".
ANSWERS: dict[str, tuple[str, ...]] = {
    SAM.user_id: (
        "Mid-sized software and fintech companies in the US and Canada, 200 to 2,000 people. "
        "They already run Salesforce, so the integration story lands in the first call.",
        "Their reps spend hours a week cleaning pipeline data by hand and forecasts still miss.",
        "A new VP of Sales or RevOps hire, or a board asking for a forecast they can trust.",
        "The VP of Sales decides, the CFO signs, and IT security can block us if SSO is missing.",
    ),
    CARA.user_id: (
        "Software companies with a few hundred employees on Salesforce: they renew early and expand.",
        "Before us they reconciled spreadsheets every Monday; now the forecast call takes ten minutes.",
        "About three weeks, if a RevOps admin owns the rollout and the VP of Sales sponsors it.",
        "Small retail shops and schools churned: under 20 people they never had the data to make it work.",
    ),
    MO.user_id: (
        "Referrals turn into our best pipeline by far; software and fintech convert best.",
        "'Forecasts you can trust' lands well; the AI angle fell flat with operations people.",
        "Partner referrals and the RevOps community Slack groups; very few come from paid search.",
        "They post a RevOps job or adopt Salesforce; that is when they start comparing tools.",
    ),
}
