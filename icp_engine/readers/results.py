"""The errors and typed rows every reading step produces and every caller of the readers consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Generic, Literal, TypeVar

Stage = Literal["won", "lost", "open"]


class CsvFormatError(ValueError):
    """The file as a whole cannot be read; the message names the file and says what to fix."""


@dataclass(frozen=True)
class RowError:
    """One bad value or record; ``line`` is the physical line where the record starts."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"


@dataclass
class CsvTable:
    """A decoded CSV file: header and (line, values) rows; values are whitespace-stripped strings."""

    file: str
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class AccountRow:
    """An account; ``attributes`` holds mapped canonical fields (except id and name) and custom columns."""

    line: int
    account_id: str | None
    name: str | None
    domain: str | None
    attributes: dict[str, str]


@dataclass(frozen=True)
class DealRow:
    """A deal; ``stage_raw`` keeps the CRM's own wording, ``attributes`` the unmapped columns."""

    line: int
    deal_id: str
    account_id: str | None
    account_name: str | None
    stage: Stage
    stage_raw: str
    amount: float | None
    created_date: date | None
    close_date: date | None
    attributes: dict[str, str]


@dataclass(frozen=True)
class HealthRow:
    """Customer health for one account.

    ``nps`` is read as written, in -100..100: an account-level NPS score, or a single survey response
    on the 0..10 scale; :attr:`ReadResult.nps_scale` says which one the column holds.
    """

    line: int
    account_id: str | None
    account_name: str | None
    arr: float | None
    acv: float | None
    tenure_months: float | None
    customer_since: date | None
    churned: bool | None
    churn_date: date | None
    nps: float | None
    health_score: float | None
    expansion_arr: float | None
    referrals: float | None
    attributes: dict[str, str]


RowT = TypeVar("RowT")


@dataclass
class ReadResult(Generic[RowT]):
    """Rows without errors, the row errors, findings for the user, and how the file was read.

    ``columns`` is the field -> column mapping used. ``nps_scale`` is set for health files only:
    "response" when every NPS value is an integer in 0..10, otherwise "score".
    """

    file: str
    rows: list[RowT]
    errors: list[RowError]
    findings: list[str]
    columns: dict[str, str]
    encoding: str
    delimiter: str
    nps_scale: Literal["score", "response"] | None = None


@dataclass
class JoinResult(Generic[RowT]):
    """Each row with its account (None when it names none or an unknown one), errors and findings."""

    pairs: list[tuple[RowT, AccountRow | None]]
    errors: list[RowError]
    findings: list[str]
