"""CRM records: accounts, deals and customer health, one row per CRM id per workspace.

Canonical attributes (the ones the engine normalises) are typed columns; anything else from the
CRM export is kept as it is in ``custom_attributes`` (JSON). ``content_hash`` is a digest of the
imported content, so a re-import can tell added, updated and unchanged rows apart cheaply.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models.base import CRM_ID, NAME, Timestamped, workspace_fk
from bot.store.types import enum_column

HASH_LENGTH = 32


class DealStage(StrEnum):
    """The outcome of a deal as far as ICP learning cares."""

    won = "won"
    lost = "lost"
    open = "open"


def _json_field(*, default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=sa.JSON, nullable=False)


class CrmTable(SQLModel):
    """Columns every imported CRM table has besides its content."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = workspace_fk()
    content_hash: str = Field(max_length=HASH_LENGTH)
    import_run_id: int | None = Field(default=None, foreign_key="import_run.id", ondelete="SET NULL")


class AccountBase(SQLModel):
    crm_id: str = Field(min_length=1, max_length=CRM_ID)
    name: str = Field(max_length=NAME)
    domain: str | None = Field(default=None, max_length=255)
    industry: str | None = Field(default=None, max_length=128)
    employees: int | None = Field(default=None, ge=0)
    annual_revenue: float | None = Field(default=None, ge=0)
    country: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=64)
    tech_stack: list[str] = _json_field(default_factory=list)
    custom_attributes: dict[str, Any] = _json_field()


class AccountCreate(AccountBase):
    pass


class Account(AccountBase, CrmTable, Timestamped, table=True):
    """A company in the CRM."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("workspace_id", "crm_id"),
        # The account-lookup cache asks "how many, last changed when" per workspace on every miss.
        Index("ix_account_workspace_id_updated_at", "workspace_id", "updated_at"),
    )


class DealBase(SQLModel):
    crm_id: str = Field(min_length=1, max_length=CRM_ID)
    account_crm_id: str | None = Field(default=None, max_length=CRM_ID)
    name: str | None = Field(default=None, max_length=NAME)
    stage: DealStage = Field(sa_type=enum_column(DealStage))
    amount: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, max_length=8)
    created_on: date | None = None
    closed_on: date | None = None
    custom_attributes: dict[str, Any] = _json_field()


class DealCreate(DealBase):
    pass


class Deal(DealBase, CrmTable, Timestamped, table=True):
    """An opportunity: won, lost or open, with its value and dates."""

    __tablename__ = "deal"
    __table_args__ = (
        UniqueConstraint("workspace_id", "crm_id"),
        Index("ix_deal_workspace_id_account_crm_id", "workspace_id", "account_crm_id"),
    )


class CustomerHealthBase(SQLModel):
    crm_id: str = Field(min_length=1, max_length=CRM_ID, description="The account's CRM id.")
    arr: float | None = Field(default=None, ge=0)
    acv: float | None = Field(default=None, ge=0)
    tenure_months: float | None = Field(default=None, ge=0)
    churned: bool | None = None
    churned_on: date | None = None
    nps: int | None = Field(default=None, ge=-100, le=100)
    health_score: float | None = None
    expansion_arr: float | None = None
    referrals: int | None = Field(default=None, ge=0)
    as_of: date | None = None
    custom_attributes: dict[str, Any] = _json_field()


class CustomerHealthCreate(CustomerHealthBase):
    pass


class CustomerHealth(CustomerHealthBase, CrmTable, Timestamped, table=True):
    """How a customer account is doing: revenue, tenure, churn, NPS, health."""

    __tablename__ = "customer_health"
    __table_args__ = (UniqueConstraint("workspace_id", "crm_id"),)
