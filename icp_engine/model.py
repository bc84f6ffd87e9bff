"""The ICP as a plain, versioned, serialisable object.

An ICP is data, not code: owners edit it as YAML, the bot stores it as JSON, and the scoring
engine reads it. Validation happens here so that every other part can trust its shape, and
errors name the criterion that is wrong ("criteria[2]: op 'between' needs two values").
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCHEMA_VERSION = 1

Op = Literal[
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains_any",
    "contains_all",
    "exists",
    "missing",
]
Scalar = bool | int | float | str

NUMERIC_OPS: frozenset[str] = frozenset({"gt", "gte", "lt", "lte", "between"})
SET_OPS: frozenset[str] = frozenset({"eq", "ne", "in", "not_in"})
LIST_OPS: frozenset[str] = frozenset({"contains_any", "contains_all"})
PRESENCE_OPS: frozenset[str] = frozenset({"exists", "missing"})

OP_SYMBOLS: dict[str, str] = {
    "eq": "=",
    "ne": "≠",
    "in": "in",
    "not_in": "not in",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": "between",
    "contains_any": "has any of",
    "contains_all": "has all of",
    "exists": "is known",
    "missing": "is unknown",
}

DEFAULT_TIERS: dict[str, int | float] = {"A": 70, "B": 40}
DEFAULT_TIER_LABELS: dict[str, str] = {"A": "Best match", "B": "Good fit", "C": "Not a fit"}
FALLBACK_TIER = "C"

MissingPolicy = Literal["neutral", "no_match"]


class ICPError(ValueError):
    """An ICP document that cannot be used; the message says where and why."""


def _value_count_error(op: str, values: list[Scalar]) -> str | None:
    bad = [v for v in values if isinstance(v, float) and not math.isfinite(v)]
    if bad:
        return f"values must be finite numbers, got {bad[0]}"
    n = len(values)
    if op in PRESENCE_OPS:
        return None if n == 0 else f"op '{op}' takes no values"
    if op == "between":
        if n != 2:
            return "op 'between' needs two values [low, high]"
        low, high = values
        if (
            not isinstance(low, int | float)
            or isinstance(low, bool)
            or not isinstance(high, int | float)
            or isinstance(high, bool)
        ):
            return "op 'between' needs two numbers"
        if low > high:
            return f"op 'between' needs low <= high, got [{low}, {high}]"
        return None
    if op in NUMERIC_OPS:
        if n != 1:
            return f"op '{op}' needs exactly one value"
        if not isinstance(values[0], int | float) or isinstance(values[0], bool):
            return f"op '{op}' needs a number, got {values[0]!r}"
        return None
    if op in {"eq", "ne"}:
        return None if n == 1 else f"op '{op}' needs exactly one value"
    return None if n >= 1 else f"op '{op}' needs at least one value"


class Condition(BaseModel):
    """One test of one attribute; the building block of criteria and disqualifiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str = Field(min_length=1)
    op: Op
    values: list[Scalar] = Field(default_factory=list)

    @field_validator("attribute")
    @classmethod
    def _strip_attribute(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("attribute is empty")
        return v

    @model_validator(mode="after")
    def _check_values(self) -> Condition:
        problem = _value_count_error(self.op, self.values)
        if problem:
            raise ValueError(problem)
        return self

    def describe(self) -> str:
        """Human wording, e.g. "employees between 200 and 2,000"."""
        return describe_condition(self.attribute, self.op, self.values)


class Criterion(BaseModel):
    """A scored criterion: a simple condition, or a compound `all_of` for interactions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str | None = None
    op: Op | None = None
    values: list[Scalar] = Field(default_factory=list)
    all_of: list[Condition] | None = None
    points: int | float
    label: str | None = None
    evidence: list[str] = Field(default_factory=list)
    rationale: str | None = None

    @field_validator("points")
    @classmethod
    def _finite_points(cls, v: int | float) -> int | float:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"points must be a finite number, got {v}")
        return v

    @model_validator(mode="after")
    def _check_shape(self) -> Criterion:
        if self.all_of is not None:
            if self.attribute is not None or self.op is not None or self.values:
                raise ValueError("a compound criterion has 'all_of' and no attribute/op/values of its own")
            if len(self.all_of) < 2:
                raise ValueError("'all_of' needs at least two conditions")
            return self
        if self.attribute is None or self.op is None:
            raise ValueError("a criterion needs 'attribute' and 'op' (or 'all_of' for a compound one)")
        if not self.attribute.strip():
            raise ValueError("attribute is empty")
        problem = _value_count_error(self.op, self.values)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions that must all hold (one for a simple criterion)."""
        if self.all_of is not None:
            return tuple(self.all_of)
        assert self.attribute is not None and self.op is not None
        return (Condition(attribute=self.attribute, op=self.op, values=self.values),)

    @property
    def attributes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.conditions:
            seen.setdefault(c.attribute, None)
        return tuple(seen)

    def describe(self) -> str:
        if self.label:
            return self.label
        return " and ".join(c.describe() for c in self.conditions)


class Disqualifier(BaseModel):
    """A negative-ICP rule: any match puts the account in the fallback tier, whatever it scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str = Field(min_length=1)
    op: Op
    values: list[Scalar] = Field(default_factory=list)
    reason: str = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list)

    @field_validator("attribute")
    @classmethod
    def _strip_attribute(cls, v: str) -> str:
        return Condition._strip_attribute(v)

    @model_validator(mode="after")
    def _check_values(self) -> Disqualifier:
        problem = _value_count_error(self.op, self.values)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def condition(self) -> Condition:
        return Condition(attribute=self.attribute, op=self.op, values=self.values)


class ICP(BaseModel):
    """One version of an Ideal Customer Profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    name: str = Field(min_length=1)
    version: int | None = None
    description: str | None = None
    criteria: list[Criterion] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    tiers: dict[str, int | float] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    tier_labels: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TIER_LABELS))
    missing: MissingPolicy = "neutral"
    evidence: dict[str, str] = Field(default_factory=dict)

    @field_validator("tiers")
    @classmethod
    def _check_tiers(cls, tiers: dict[str, int | float]) -> dict[str, int | float]:
        if not tiers:
            raise ValueError("at least one tier threshold is needed, e.g. {A: 70, B: 40}")
        for name, threshold in tiers.items():
            if not name.strip():
                raise ValueError("a tier name is empty")
            if name == FALLBACK_TIER:
                raise ValueError(
                    f"tier '{FALLBACK_TIER}' is the fallback (below every threshold); do not set it"
                )
            if not 0 <= threshold <= 100:
                raise ValueError(f"tier '{name}' threshold {threshold} is outside 0..100")
        thresholds = list(tiers.values())
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("two tiers share the same threshold")
        return tiers

    @model_validator(mode="after")
    def _check_schema(self) -> ICP:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is not supported (expected {SCHEMA_VERSION})"
            )
        return self

    def ordered_tiers(self) -> list[tuple[str, int | float]]:
        """Tiers from the highest threshold down; ties are impossible (validated)."""
        return sorted(self.tiers.items(), key=lambda kv: -kv[1])

    def tier_label(self, tier: str) -> str:
        return self.tier_labels.get(tier, DEFAULT_TIER_LABELS.get(tier, tier))

    # --- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_yaml(self) -> str:
        """Readable YAML: defaults left out, short value lists inline. Loads back to an equal ICP."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        data = {"schema_version": self.schema_version, **data}
        data.setdefault("tiers", dict(self.tiers))
        data.setdefault("missing", self.missing)
        return yaml.dump(data, Dumper=_IcpDumper, sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "ICP") -> ICP:
        if data is None:
            raise ICPError(f"{source}: the document is empty; an ICP needs at least a 'name'")
        if not isinstance(data, Mapping):
            raise ICPError(
                f"{source}: expected a mapping with 'name' and 'criteria', got {type(data).__name__}"
            )
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ICPError(format_validation_error(exc, source)) from None

    @classmethod
    def from_json(cls, text: str, *, source: str = "ICP") -> ICP:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ICPError(
                f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "ICP") -> ICP:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ICPError(f"{source}: not valid YAML{where}: {problem}") from None
        return cls.from_dict(data, source=source)


class _IcpDumper(yaml.SafeDumper):
    def represent_list(self, data: Iterable[Any]) -> yaml.SequenceNode:  # only lists are registered
        flow = all(not isinstance(x, dict | list) for x in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    def represent_str(self, data: str) -> yaml.ScalarNode:
        # YAML folds NEL and Unicode line separators into newlines unless they are escaped.
        style = '"' if any(ch in data for ch in "\x85\u2028\u2029") else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_IcpDumper.add_representer(list, _IcpDumper.represent_list)
_IcpDumper.add_representer(str, _IcpDumper.represent_str)


def load_icp(path: str | Path) -> ICP:
    """Load an ICP from a .yaml/.yml/.json file, with errors that name the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ICPError(f"{p}: file not found") from None
    except UnicodeDecodeError:
        raise ICPError(f"{p}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ICPError(f"{p}: cannot read ({exc.strerror})") from None
    if p.suffix.lower() == ".json":
        return ICP.from_json(text, source=str(p))
    return ICP.from_yaml(text, source=str(p))


def save_icp(icp: ICP, path: str | Path) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half an ICP."""
    p = Path(path)
    text = icp.to_json() if p.suffix.lower() == ".json" else icp.to_yaml()
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a folder, not a file")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Turn pydantic's error list into lines like "criteria[2]: op 'between' needs two values"."""
    lines = []
    for err in exc.errors():
        where = _format_loc(err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "literal_error" and where.endswith(".op"):
            msg = f"unknown op {err.get('input')!r}; use one of: {', '.join(OP_SYMBOLS)}"
        lines.append(f"{where}: {msg}" if where else msg)
    unique = list(dict.fromkeys(lines))
    head = f"{source}: invalid ICP"
    return head + (": " + unique[0] if len(unique) == 1 else ":\n  " + "\n  ".join(unique))


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "union[", "bool", "int", "float", "str")):
            continue  # pydantic's validator and union-member labels, not user-facing fields
        else:
            out += ("." if out else "") + str(part)
    return out


def format_value(v: Any) -> str:
    """Render a value the way a person writes it: 2,000 not 2000.0; lists comma-separated."""
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v != v:
        return "unknown"
    if isinstance(v, int | float):
        if float(v).is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, list | tuple | set | frozenset):
        items = sorted(v, key=str) if isinstance(v, set | frozenset) else list(v)
        return ", ".join(format_value(x) for x in items) if items else "none"
    return str(v)


def describe_condition(attribute: str, op: str, values: list[Scalar]) -> str:
    if op in PRESENCE_OPS:
        return f"{attribute} {OP_SYMBOLS[op]}"
    if op == "between":
        return f"{attribute} between {format_value(values[0])} and {format_value(values[1])}"
    if op in {"eq", "ne", "gt", "gte", "lt", "lte"}:
        return f"{attribute} {OP_SYMBOLS[op]} {format_value(values[0])}"
    return f"{attribute} {OP_SYMBOLS[op]} {format_value(values)}"
