"""Row values checked against a Create model's declared types and limits, without building a model.

Building a pydantic model per row costs more than everything else an import does to a row, yet
the import service has already checked every value it produces. So each field's declared type
and limits (``str`` with max/min length, ``float``/``int`` with ge/le, ``date``, ``bool``, an
enum, ``list[str]``, ``dict[str, Any]``) become a plain predicate; a row whose values all pass is
exactly what the model would have accepted unchanged. Any other row (a value of another type, out
of range, a field the predicates do not understand) goes through ``model_validate`` itself, so
conversions and error messages stay pydantic's own.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Generic, TypeVar

import annotated_types
from pydantic import BaseModel, ValidationError

__all__ = ["ModelValues", "validation_problems"]

ModelT = TypeVar("ModelT", bound=BaseModel)  # the store's Create models
_SCALARS = (str, float, int, bool, date)
_LIMITS = (annotated_types.MaxLen, annotated_types.MinLen, annotated_types.Ge, annotated_types.Le)


@dataclass(frozen=True)
class _Rule:
    """What one field accepts unchanged: a kind, None or not, and its limits."""

    name: str
    kind: Any  # str, float, int, bool, date, an Enum class, list (of str) or dict (str keys)
    nullable: bool
    min_len: float = 0
    max_len: float = math.inf
    low: float = -math.inf
    high: float = math.inf
    members: frozenset[Any] = frozenset()


def _rule(name: str, annotation: Any, metadata: list[Any]) -> _Rule | None:
    """The field's rule, or None when its type or one of its limits is not understood."""
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [o for o in typing.get_args(annotation) if o is not type(None)]
        if len(options) != 1:
            return None
        annotation, nullable = options[0], True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    members: frozenset[Any] = frozenset()
    if annotation in _SCALARS:
        kind: Any = annotation
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        kind, members = annotation, frozenset(m.value for m in annotation) | frozenset(annotation)
    elif origin is list and args == (str,):
        kind = list
    elif origin is dict and args == (str, Any):
        kind = dict
    else:
        return None
    limits: dict[str, float] = {}
    for meta in metadata:
        if isinstance(meta, annotated_types.MaxLen):
            limits["max_len"] = meta.max_length
        elif isinstance(meta, annotated_types.MinLen):
            limits["min_len"] = meta.min_length
        elif isinstance(meta, annotated_types.Ge):
            limits["low"] = meta.ge  # type: ignore[assignment]
        elif isinstance(meta, annotated_types.Le):
            limits["high"] = meta.le  # type: ignore[assignment]
        elif type(meta).__module__.startswith(("annotated_types", "pydantic")):
            return None  # a constraint not implemented here (Gt, MultipleOf, strict, pattern...)
    if limits.keys() & {"max_len", "min_len"} and kind is not str:
        return None
    if limits.keys() & {"low", "high"} and kind not in (int, float):
        return None
    return _Rule(name, kind, nullable, members=members, **limits)


_MISSING = object()


def _condition(i: int, rule: _Rule) -> str:
    """Python source for "value ``v`` of field number ``i`` breaks its rule" (v is not None)."""
    kind = rule.kind
    if kind is str:
        return f"type(v) is not str or not min_len{i} <= len(v) <= max_len{i}"
    if kind is float or kind is int:
        return f"type(v) is not kind{i} or not low{i} <= v <= high{i}"  # NaN fails too
    if kind is bool or kind is date:
        return f"type(v) is not kind{i}"
    if kind is list:
        return "type(v) is not list or not all(type(item) is str for item in v)"
    if kind is dict:
        return "type(v) is not dict or not all(type(key) is str for key in v)"
    return f"(type(v) is not str and type(v) is not kind{i}) or v not in members{i}"  # an enum


def _compiled(rules: list[_Rule], optional: set[str]) -> Callable[[Mapping[str, Any], frozenset[str]], bool]:
    """The rules as one function with a branch per field, as dataclasses build their __init__.

    A loop over the rules costs several times more per row than the same checks written out.
    Only indexed names go into the source; field names and limits are passed in as globals.
    """
    env: dict[str, Any] = {"MISSING": _MISSING}
    lines = [
        "def passes(values, field_set):",
        "    if not field_set.issuperset(values):",
        "        return False",
    ]
    for i, rule in enumerate(rules):
        env.update(
            {
                f"name{i}": rule.name,
                f"kind{i}": rule.kind,
                f"min_len{i}": rule.min_len,
                f"max_len{i}": rule.max_len,
                f"low{i}": rule.low,
                f"high{i}": rule.high,
                f"members{i}": rule.members,
            }
        )
        lines += [
            f"    v = values.get(name{i}, MISSING)",
            "    if v is MISSING:",
            "        pass" if rule.name in optional else "        return False",
            "    elif v is None:",
            "        pass" if rule.nullable else "        return False",
            f"    elif {_condition(i, rule)}:",
            "        return False",
        ]
    lines.append("    return True")
    exec("\n".join(lines), env)
    return env["passes"]  # type: ignore[no-any-return]


def _constant(value: Any) -> Callable[[], Any]:
    """A factory for a plain default, so that every optional field fills in the same way."""
    return lambda: value


class ModelValues(Generic[ModelT]):
    """Validates plain dicts of field values for ``model``; returns complete field -> value dicts.

    ``fast`` is False when some field's type or limit is not understood: then every row is
    validated by the model itself.
    """

    def __init__(self, model: type[ModelT]) -> None:
        self.model = model
        self.fields = tuple(model.model_fields)
        self._field_set = frozenset(self.fields)
        self._defaults: dict[str, Callable[[], Any]] = {}
        rules = [
            _rule(name, info.annotation, list(info.metadata)) for name, info in model.model_fields.items()
        ]
        self.fast = all(rule is not None for rule in rules)
        for name, info in model.model_fields.items():
            if not info.is_required():
                if info.default_factory is not None:
                    self._defaults[name] = info.default_factory  # type: ignore[assignment]
                else:
                    self._defaults[name] = _constant(info.default)
        self._passes = _compiled([rule for rule in rules if rule is not None], set(self._defaults))

    def passes(self, values: Mapping[str, Any]) -> bool:
        """Whether the model would accept ``values`` as they are (missing optional fields allowed)."""
        return self.fast and self._passes(values, self._field_set)

    def as_is(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Every field's value when the model would accept ``values`` unchanged, else None.

        A dict that already has every field is returned as it is, not copied.
        """
        if not self.passes(values):
            return None
        if len(values) == len(self.fields) and type(values) is dict:
            return values
        complete = dict(values)
        for name, default in self._defaults.items():
            if name not in complete:
                complete[name] = default()
        return complete

    def __call__(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every field's value; raises pydantic's ValidationError for values the model refuses."""
        ready = self.as_is(values)
        if ready is not None:
            return ready
        model = self.model.model_validate(values)
        return {name: getattr(model, name) for name in self.fields}


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) for each of pydantic's complaints, as import errors word them."""
    problems = []
    for item in exc.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        problems.append((name, f"{item['msg']}: {item.get('input')!r}"[:300]))
    return problems
