"""Every table of the SQL store, importable from one place (Alembic's env reads ``metadata`` here)."""

from bot.store.models.base import NAMING_CONVENTION, metadata
from bot.store.models.checkins import ReviewCheckin
from bot.store.models.crm import (
    Account,
    AccountCreate,
    CustomerHealth,
    CustomerHealthCreate,
    Deal,
    DealCreate,
    DealStage,
)
from bot.store.models.icp import (
    DEFAULT_SEGMENT,
    IcpStatus,
    IcpVersion,
    IcpVersionCreate,
    Persona,
    PersonaCreate,
)
from bot.store.models.interviews import (
    ACTIVE_INTERVIEW_STATES,
    Answer,
    AnswerCreate,
    Interview,
    InterviewCreate,
    InterviewQuestion,
    InterviewState,
    QuestionCreate,
)
from bot.store.models.ops import (
    AuditEntry,
    Cadence,
    ImportKind,
    ImportRun,
    ImportRunCreate,
    ImportStatus,
    ReminderCreate,
    ReminderUpdate,
    ReviewReminder,
)
from bot.store.models.owners import IcpOwner, WorkspaceInstaller, WorkspaceUninstalled
from bot.store.models.privacy import PostedQuote
from bot.store.models.sync import CrmConnection, CrmScoreWritten, CrmSyncRun, SyncStatus
from bot.store.models.tenancy import (
    GtmRole,
    Stakeholder,
    StakeholderCreate,
    StakeholderUpdate,
    Workspace,
    WorkspaceCreate,
)

__all__ = [
    "ACTIVE_INTERVIEW_STATES",
    "DEFAULT_SEGMENT",
    "NAMING_CONVENTION",
    "Account",
    "AccountCreate",
    "Answer",
    "AnswerCreate",
    "AuditEntry",
    "Cadence",
    "CrmConnection",
    "CrmScoreWritten",
    "CrmSyncRun",
    "CustomerHealth",
    "CustomerHealthCreate",
    "Deal",
    "DealCreate",
    "DealStage",
    "GtmRole",
    "IcpOwner",
    "IcpStatus",
    "IcpVersion",
    "IcpVersionCreate",
    "ImportKind",
    "ImportRun",
    "ImportRunCreate",
    "ImportStatus",
    "Interview",
    "InterviewCreate",
    "InterviewQuestion",
    "InterviewState",
    "Persona",
    "PersonaCreate",
    "PostedQuote",
    "QuestionCreate",
    "ReminderCreate",
    "ReminderUpdate",
    "ReviewCheckin",
    "ReviewReminder",
    "Stakeholder",
    "StakeholderCreate",
    "StakeholderUpdate",
    "SyncStatus",
    "Workspace",
    "WorkspaceCreate",
    "WorkspaceInstaller",
    "WorkspaceUninstalled",
    "metadata",
]
