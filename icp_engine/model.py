"""The ICP as a plain, versioned, serialisable object: a scorecard.

An ICP is data, not code: owners edit it as YAML, the bot stores it as JSON, and the scoring
engine reads it. It is a short list of characteristics (one attribute, or a pair for an
interaction), each with bins carrying centred integer points (0 = like the average account),
plus disqualifiers and tiers. Validation happens here so that every other part can trust its
shape, and errors name the bin that is wrong ("characteristics[0].bins[2]: op 'between' needs two
values"). Version-1 documents (a flat `criteria` list) still load: their criteria are grouped
into characteristics by the attributes they test.
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

SCHEMA_VERSION = 2
LEGACY_SCHEMA_VERSIONS = frozenset({1})

Target = Literal["win", "value", "retention"]
TARGETS: dict[str, str] = {
    "win": "win rate of closed deals",
    "value": "expected won value (win × deal value)",
    "retention": "kept and expanding customers",
}
MAX_CHARACTERISTICS = 10  # what learning picks at most by default (here: the CLI shows it without scipy)

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

# 50 is the average account (0 points); A needs about 1.7x its odds, B anything better than it.
DEFAULT_TIERS: dict[str, int | float] = {"A": 70, "B": 55}
NO_TIER = "?"  # too little of the ICP's weight is known to place the account in a tier
DEFAULT_TIER_LABELS: dict[str, str] = {
    "A": "Best match",
    "B": "Good fit",
    "C": "Not a fit",
    NO_TIER: "Not enough data",
}
FALLBACK_TIER = "C"
DEFAULT_MIN_CONFIDENCE = 0.5


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


Bin = Criterion  # one row of a characteristic: a condition (or a pair of them) and its points


class Characteristic(BaseModel):
    """One attribute, or a pair of attributes (an interaction), and the bins that carry points.

    Points are centred: a value in no bin, or unknown, scores 0 (like the average account).
    Bins of a single-valued attribute should not overlap; when they do (hand-written ICPs, or list
    attributes such as a tech stack where an account has several items), matched points add up.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    attributes: list[str] = Field(min_length=1, max_length=2)
    bins: list[Criterion] = Field(min_length=1)
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_attribute(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if "attribute" in data:
            if "attributes" in data:
                raise ValueError("give 'attribute' (one) or 'attributes' (a pair), not both")
            data["attributes"] = [data.pop("attribute")]
        attrs = data.get("attributes")
        bins = data.get("bins")
        if isinstance(attrs, list) and len(attrs) == 1 and isinstance(bins, list):
            # A bin of a single-attribute characteristic may leave its attribute out (YAML stays short).
            data["bins"] = [
                {"attribute": attrs[0], **b}
                if isinstance(b, Mapping) and "attribute" not in b and "all_of" not in b
                else b
                for b in bins
            ]
        return data

    @field_validator("attributes")
    @classmethod
    def _clean_attributes(cls, v: list[str]) -> list[str]:
        cleaned = [a.strip() if isinstance(a, str) else a for a in v]
        if any(not a for a in cleaned):
            raise ValueError("an attribute name is empty")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a pair needs two different attributes")
        return cleaned

    @model_validator(mode="after")
    def _bins_test_own_attributes(self) -> Characteristic:
        own = set(self.attributes)
        for i, b in enumerate(self.bins):
            if any(c.op == "missing" for c in b.conditions):
                raise ValueError(
                    f"bins[{i}]: a bin cannot score an unknown value (op 'missing'); an unknown "
                    "attribute always scores 0, like an average account"
                )
            other = [a for a in b.attributes if a not in own]
            if other:
                raise ValueError(
                    f"bins[{i}] tests {other[0]!r}, which is not an attribute of this characteristic "
                    f"({' × '.join(self.attributes)})"
                )
        return self

    @property
    def attribute(self) -> str | None:
        """The attribute of a single-attribute characteristic; None for a pair."""
        return self.attributes[0] if len(self.attributes) == 1 else None

    @property
    def name(self) -> str:
        return self.label or " × ".join(self.attributes)

    @property
    def weight(self) -> float:
        """How much this characteristic can move a score either way: its largest |points|."""
        return max(abs(float(b.points)) for b in self.bins)

    def to_dict(self) -> dict[str, Any]:
        """Short form: `attribute` for one, bins without the repeated attribute or empty evidence."""
        data = self.model_dump(mode="json", exclude_none=True)
        attrs = data.pop("attributes")
        head: dict[str, Any] = {"attribute": attrs[0]} if len(attrs) == 1 else {"attributes": attrs}
        bins = []
        for b in data.pop("bins"):
            if len(attrs) == 1 and b.get("attribute") == attrs[0]:
                b.pop("attribute")
            if not b.get("evidence"):
                b.pop("evidence", None)
            if "all_of" in b and not b.get("values"):
                b.pop("values", None)
            bins.append(b)
        return {**head, **data, "bins": bins}


class Calibration(BaseModel):
    """Win probability of a 0-point (average) account, measured on the deals the ICP was learned from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_rate: float = Field(gt=0.0, lt=1.0)
    deals: int = Field(ge=0)


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
    target: Target = "win"
    characteristics: list[Characteristic] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    tiers: dict[str, int | float] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    tier_labels: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TIER_LABELS))
    min_confidence: float = Field(default=DEFAULT_MIN_CONFIDENCE, ge=0.0, le=1.0)
    calibration: Calibration | None = None
    evidence: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _upgrade_criteria(cls, data: Any) -> Any:
        """Accept a flat `criteria` list (schema 1, hand-written ICPs, LLM proposals): group it."""
        if not isinstance(data, Mapping):
            return data
        old_policy = data.get("missing") in ("neutral", "no_match")  # schema 1's unknown-value policy
        legacy = data.get("schema_version") in LEGACY_SCHEMA_VERSIONS or old_policy
        if "criteria" not in data and not legacy:
            return data
        data = dict(data)
        if old_policy:
            del data["missing"]  # unknown now always scores 0
        if data.get("schema_version") in LEGACY_SCHEMA_VERSIONS:
            data["schema_version"] = SCHEMA_VERSION
        if "criteria" not in data:
            return data
        if "characteristics" in data:
            raise ValueError("give 'characteristics' or (the older form) 'criteria', not both")
        criteria = data.pop("criteria")
        if not isinstance(criteria, list):
            raise ValueError("'criteria' must be a list")
        data["characteristics"] = group_criteria(criteria)
        return data

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
            if name == NO_TIER:
                raise ValueError(f"tier '{NO_TIER}' means 'not enough data'; it takes no threshold")
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

    @property
    def criteria(self) -> list[Criterion]:
        """Every bin of every characteristic, in order: the flat view scoring lines use."""
        return [b for ch in self.characteristics for b in ch.bins]

    def characteristic_of(self) -> list[int]:
        """For each entry of `criteria`, the index of its characteristic."""
        return [i for i, ch in enumerate(self.characteristics) for _ in ch.bins]

    def ordered_tiers(self) -> list[tuple[str, int | float]]:
        """Tiers from the highest threshold down; ties are impossible (validated)."""
        return sorted(self.tiers.items(), key=lambda kv: -kv[1])

    def tier_label(self, tier: str) -> str:
        return self.tier_labels.get(tier, DEFAULT_TIER_LABELS.get(tier, tier))

    # --- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["characteristics"] = [ch.to_dict() for ch in self.characteristics]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_yaml(self) -> str:
        """Readable YAML: defaults left out, short value lists inline. Loads back to an equal ICP."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if self.characteristics:
            data["characteristics"] = [ch.to_dict() for ch in self.characteristics]
        head = {"schema_version": self.schema_version, "name": self.name}
        if self.version is not None:
            head["version"] = self.version
        data = {**head, "target": self.target, **data}
        data.setdefault("tiers", dict(self.tiers))
        return yaml.dump(data, Dumper=_IcpDumper, sort_keys=False, allow_unicode=True, width=100)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "ICP") -> ICP:
        if data is None:
            raise ICPError(f"{source}: the document is empty; an ICP needs at least a 'name'")
        if not isinstance(data, Mapping):
            raise ICPError(
                f"{source}: expected a mapping with 'name' and 'characteristics', got {type(data).__name__}"
            )
        problems = _criteria_errors(data)
        if problems:
            # Report the criteria by the positions their author wrote, and the rest of the
            # document's problems with them (not only the first bad criterion).
            rest = {k: v for k, v in data.items() if k != "criteria"}
            try:
                cls.model_validate(rest)
            except ValidationError as exc:
                problems += _error_lines(exc)
            raise ICPError(_error_report(problems, source))
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


def group_criteria(criteria: Iterable[Any]) -> list[dict[str, Any]]:
    """Group flat criteria (schema 1) into characteristics by the attributes each one tests.

    Criteria on the same attribute (or the same pair) become the bins of one characteristic, in
    the order their first criterion appears; a criterion of three or more attributes cannot be a
    pair, so it is refused with its position.
    """
    groups: dict[tuple[str, ...], list[Any]] = {}
    for i, raw in enumerate(criteria):
        crit = raw if isinstance(raw, Criterion) else _criterion_or_error(raw, i)
        attrs = crit.attributes
        if len(attrs) > 2:
            raise ValueError(
                f"criteria[{i}] tests {len(attrs)} attributes; a characteristic is one attribute or a pair"
            )
        groups.setdefault(attrs, []).append(crit)
    return [{"attributes": list(attrs), "bins": bins} for attrs, bins in groups.items()]


def _criterion_or_error(raw: Any, i: int) -> Criterion:
    try:
        return Criterion.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_loc(first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field"
        raise ValueError(f"criteria[{i}]{'.' + where if where else ''}: {msg}") from None


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
    """Turn pydantic's error list into lines like "characteristics[0].bins[2]: op 'between' needs two values"."""
    return _error_report(_error_lines(exc), source)


def _error_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for err in exc.errors():
        where = _format_loc(err["loc"])
        if prefix:
            where = prefix + ("." + where if where else "")
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "literal_error" and where.endswith(".op"):
            msg = f"unknown op {err.get('input')!r}; use one of: {', '.join(OP_SYMBOLS)}"
        lines.append(f"{where}: {msg}" if where else msg)
    return lines


def _criteria_errors(data: Mapping[str, Any]) -> list[str]:
    """Every problem of a schema-1 document's `criteria`, named criteria[i] as its author wrote them."""
    criteria = data.get("criteria")
    if not isinstance(criteria, list):
        return []
    lines: list[str] = []
    for i, raw in enumerate(criteria):
        try:
            crit = Criterion.model_validate(raw)
        except ValidationError as exc:
            lines += _error_lines(exc, f"criteria[{i}]")
            continue
        if len(crit.attributes) > 2:
            lines.append(
                f"criteria[{i}]: tests {len(crit.attributes)} attributes; a characteristic is one attribute or a pair"
            )
    return lines


def _error_report(lines: list[str], source: str) -> str:
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
