"""Choosing the column for each field: --map overrides first, then aliases, with clear errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from icp_engine.readers.aliases import _key
from icp_engine.readers.results import CsvFormatError, CsvTable


def parse_map_options(items: Iterable[str]) -> dict[str, str]:
    """Parse CLI ``--map field=column`` options; ``field=`` (empty) means "do not map this field"."""
    mapping: dict[str, str] = {}
    for item in items:
        field_name, sep, column = item.partition("=")
        if not sep or not field_name.strip():
            raise ValueError(f"--map expects field=column, got '{item}'")
        mapping[field_name.strip()] = column.strip()
    return mapping


def _columns_text(table: CsvTable) -> str:
    return ", ".join(f"'{c}'" for c in table.header)


def resolve_columns(
    table: CsvTable,
    fields: Mapping[str, Sequence[str]],
    overrides: Mapping[str, str] | None = None,
    *,
    required: Sequence[str | tuple[str, ...]] = (),
) -> dict[str, str]:
    """Map each field to one column: overrides first, then the field name and its aliases in order.

    A required entry that is a tuple is satisfied by any of its fields. An override with an empty
    column switches the field off. Unknown fields, missing columns, a column name matching several
    columns, and missing required fields raise CsvFormatError.
    """
    by_key: dict[str, list[str]] = {}
    for column in table.header:
        by_key.setdefault(_key(column), []).append(column)
    field_by_key = {_key(f): f for f in fields}
    mapping: dict[str, str] = {}
    disabled: set[str] = set()
    for given_field, given_column in (overrides or {}).items():
        field_name = field_by_key.get(_key(given_field))
        if field_name is None:
            raise CsvFormatError(
                f"{table.file}: --map {given_field}={given_column}: unknown field '{given_field}'; "
                f"valid fields: {', '.join(fields)}"
            )
        wanted = given_column.strip()
        if not wanted:
            disabled.add(field_name)
            continue
        matches = [wanted] if wanted in table.header else by_key.get(_key(wanted), [])
        if len(matches) != 1:
            problem = f"no column '{wanted}'" if not matches else f"'{wanted}' matches several columns"
            raise CsvFormatError(
                f"{table.file}: --map {field_name}={wanted}: {problem}; "
                f"the file's columns are: {_columns_text(table)}"
            )
        mapping[field_name] = matches[0]
    used = set(mapping.values())
    for field_name, aliases in fields.items():
        if field_name in mapping or field_name in disabled:
            continue
        for alias in (field_name, *aliases):
            found = [c for c in by_key.get(_key(alias), []) if c not in used]
            if len(found) > 1:
                listed = ", ".join(f"'{c}'" for c in found)
                raise CsvFormatError(
                    f"{table.file}: columns {listed} all look like '{field_name}'; "
                    f"choose one with --map {field_name}=<column>"
                )
            if found:
                mapping[field_name] = found[0]
                used.add(found[0])
                break
    for requirement in required:
        options = (requirement,) if isinstance(requirement, str) else tuple(requirement)
        if any(option in mapping for option in options):
            continue
        looked = ", ".join(dict.fromkeys(a for option in options for a in (option, *fields[option])))
        wanted_fields = " or ".join(f"'{option}'" for option in options)
        raise CsvFormatError(
            f"{table.file}: no column for {wanted_fields} (looked for: {looked}); "
            f"use --map {options[0]}=<column>. The file's columns are: {_columns_text(table)}"
        )
    return {f: mapping[f] for f in fields if f in mapping}
