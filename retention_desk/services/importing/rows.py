"""One CSV row to one account: pure conversion, with every problem named by column and reason.

No I/O here: the importer feeds header and rows in, gets account values (or the row's problems) out, so the
rules for booleans, numbers, blanks and value maps are tested without a file or a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from retention_desk.domain.contact import normalise_email, normalise_phone
from retention_desk.services.importing.fields import (
    TEXT_FIELDS,
    field_parsers,
    parse_default,
    parse_number,
)
from retention_desk.services.importing.mapping import (
    ImportFailed,
    ImportMapping,
    MappingError,
)

DAYS_PER_MONTH = 30.4375  # the same month the churn features measure tenure in
TRUE_WORDS = frozenset({"true", "yes"})
FALSE_WORDS = frozenset({"false", "no"})
DECLARED_TRUE = TRUE_WORDS | {"1", "y"}
DECLARED_FALSE = FALSE_WORDS | {"0", "n"}
# Fields that cannot be empty on an account; an empty cell is a bad row unless [defaults] fills it.
REQUIRED_FIELDS = ("account_no", "contract_type", "monthly_charge", "currency", "status")
PROTECTED_KEY = "_protected"
_KINDS = (("number", "numbers"), ("boolean", "booleans"), ("text", "text"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe"})


@dataclass(frozen=True)
class RowProblem:
    column: str
    value: str
    reason: str

    def describe(self) -> str:
        where = f"column {self.column!r}" if self.column else "the row"
        shown = f" ({self.value!r})" if self.value else ""
        return f"{where}{shown}: {self.reason}"


@dataclass(frozen=True)
class BadRow:
    """A row that cannot become an account, with its line number in the file."""

    line: int
    problems: tuple[RowProblem, ...]

    def describe(self) -> str:
        return f"line {self.line}: " + "; ".join(p.describe() for p in self.problems)


@dataclass(frozen=True)
class AccountRow:
    """A converted row: account columns, extra attributes and the churn label (None when not known)."""

    line: int
    account_no: str
    fields: dict[str, Any]
    extra: dict[str, Any]
    churn_label: bool | None


def snake_case(name: str) -> str:
    """A readable identifier for a column name: "Total day minutes" and "TotalDayMinutes" -> total_day_minutes."""
    text = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])", "_", text)
    key = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if key and key[0].isdigit():
        key = "c_" + key
    return key


def extra_value(raw: str, *, kind: str = "auto", decimal: str = ".") -> Any:
    """An extra attribute's value: None for blank, bool for yes/no words, numbers as numbers, else the text.

    ``kind`` is ``auto``, ``number`` (anything else is an error), ``boolean`` (1/0 and y/n also mean yes/no;
    anything else is an error) or ``text``.
    A 1/0 column is only a boolean when the mapping says so: in a count column 0 and 1 are numbers like 2.
    """
    text = raw.strip()
    if text == "":
        return None
    if kind == "text":
        return text
    if kind == "number":
        number = parse_number(text, decimal)
        if number is None:
            raise ValueError("is not a number" + (" (write decimals with a comma)" if decimal == "," else ""))
        return number
    folded = text.casefold()
    if kind == "boolean":
        if folded in DECLARED_TRUE:
            return True
        if folded in DECLARED_FALSE:
            return False
        raise ValueError("is not yes or no (True/False, Yes/No, 1/0)")
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    number = parse_number(text, decimal)
    return text if number is None else number


# --- account fields -------------------------------------------------------------------------------------------


def derived_fields(fields: dict[str, Any], phone_region: str) -> dict[str, Any]:
    """The search keys the desk looks accounts up by, kept in step with the fields they come from."""
    out: dict[str, Any] = {}
    if "first_name" in fields or "last_name" in fields:
        first, last = fields.get("first_name") or "", fields.get("last_name") or ""
        out["name_search"] = f"{first} {last}".strip().lower()
        out["surname_search"] = last.lower()
    if "email" in fields:
        out["email_normalised"] = normalise_email(fields["email"])
    if "phone" in fields:
        out["phone_normalised"] = normalise_phone(fields["phone"], phone_region) if fields["phone"] else None
    return out


# --- the converter ----------------------------------------------------------------------------------------------


class RowConverter:
    """Turns the rows of one file into accounts; built from the mapping and the file's header."""

    def __init__(self, mapping: ImportMapping, header: Sequence[str], *, file_stem: str, today: date) -> None:
        self.mapping = mapping
        self.header = list(header)
        self.file_stem = file_stem
        self.today = today
        index = _header_index(header)
        _check_referenced(mapping, index)
        self.parsers = field_parsers(
            date_format=mapping.csv.date_format, decimal=mapping.csv.decimal, phone_region=mapping.phone_region
        )
        self.defaults = {key: parse_default(key, value, self.parsers) for key, value in mapping.defaults.items()}
        self.field_columns = [(key, column, index[column]) for key, column in mapping.columns.items()]
        self.label_index = index[mapping.label.column] if mapping.label else None
        tenure = mapping.tenure_months or mapping.tenure_days
        self.tenure_index = index[tenure] if tenure else None
        self.extra_columns, self.protected_columns = _extra_layout(mapping, header)
        if mapping.account_no_from_line:
            sample = mapping.account_no_from_line.format(line=10**7, file_stem=file_stem)
            if len(sample) > TEXT_FIELDS["account_no"]:
                raise MappingError(
                    f"{mapping.origin}: account.account_no_from_line gives account numbers like {sample!r}, "
                    f"longer than {TEXT_FIELDS['account_no']} characters."
                )

    def written_fields(self) -> tuple[str, ...]:
        """The account columns this import sets (on update, every other column keeps its value)."""
        keys = set(self.defaults) | set(self.mapping.columns) | {"account_no"}
        if self.tenure_index is not None:
            keys.add("customer_since")
        probe = {key: "" for key in keys}
        return tuple(sorted(keys | set(derived_fields(probe, self.mapping.phone_region))))

    def convert(self, line: int, cells: Sequence[str]) -> AccountRow | BadRow:
        if len(cells) != len(self.header):
            reason = f"has {len(cells)} fields where the header has {len(self.header)}"
            return BadRow(line, (RowProblem("", "", reason),))
        problems = [
            RowProblem(self.header[i], cell.replace("\x00", "\\0")[:40], "holds a control character (such as NUL)")
            for i, cell in enumerate(cells)
            if _CONTROL.search(cell)
        ]
        if problems:  # nothing of such a row is stored (PostgreSQL refuses NUL in text)
            return BadRow(line, tuple(problems))
        fields = self._fields(line, cells, problems)
        extra = self._extra(cells, self.extra_columns, problems)
        protected = self._extra(cells, self.protected_columns, problems)
        if self.protected_columns:
            extra[PROTECTED_KEY] = protected
        label = self._label(cells, problems)
        if problems:
            return BadRow(line, tuple(problems))
        fields.update(derived_fields(fields, self.mapping.phone_region))
        return AccountRow(line, fields["account_no"], fields, extra, label)

    def _fields(self, line: int, cells: Sequence[str], problems: list[RowProblem]) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.defaults)
        if self.mapping.account_no_from_line:
            fields["account_no"] = self.mapping.account_no_from_line.format(line=line, file_stem=self.file_stem)
        for key, column, i in self.field_columns:
            raw = cells[i].strip()
            text = self.mapping.values.get(key, {}).get(raw, raw)
            if text == "":
                if key in REQUIRED_FIELDS and key not in self.defaults:
                    problems.append(RowProblem(column, "", _empty_reason(key)))
                elif key not in self.defaults:
                    fields[key] = "" if key in ("first_name", "last_name") else None
                continue
            try:
                fields[key] = self.parsers[key](text)
            except ValueError as exc:
                problems.append(RowProblem(column, raw, str(exc)))
        if self.tenure_index is not None:
            self._tenure(cells, fields, problems)
        return fields

    def _tenure(self, cells: Sequence[str], fields: dict[str, Any], problems: list[RowProblem]) -> None:
        in_months = self.mapping.tenure_months is not None
        column = self.mapping.tenure_months or self.mapping.tenure_days or ""
        raw = cells[self.tenure_index].strip()
        if raw == "":
            fields["customer_since"] = self.defaults.get("customer_since")
            return
        number = parse_number(raw, self.mapping.csv.decimal)
        if number is None or number < 0 or number > 1500 * (1 if in_months else 31):
            unit = "months" if in_months else "days"
            problems.append(RowProblem(column, raw, f"is not a number of {unit}"))
            return
        days = round(number * DAYS_PER_MONTH) if in_months else round(number)
        fields["customer_since"] = self.today - timedelta(days=days)

    def _extra(self, cells: Sequence[str], layout: list[tuple[str, int, str]], problems: list[RowProblem]) -> dict:
        out: dict[str, Any] = {}
        for key, i, kind in layout:
            try:
                out[key] = extra_value(cells[i], kind=kind, decimal=self.mapping.csv.decimal)
            except ValueError as exc:
                problems.append(RowProblem(self.header[i], cells[i].strip(), str(exc)))
        return out

    def _label(self, cells: Sequence[str], problems: list[RowProblem]) -> bool | None:
        spec = self.mapping.label
        if spec is None or self.label_index is None:
            return None
        raw = cells[self.label_index].strip()
        folded = raw.casefold()
        if folded == "":
            return None
        if folded in spec.true:
            return True
        if folded in spec.false:
            return False
        problems.append(RowProblem(spec.column, raw, f"is not a churn label the mapping knows ({spec.spelled})"))
        return None


def _empty_reason(key: str) -> str:
    if key == "account_no":
        return "is empty; every account needs an account number"
    return f"is empty; {key} is required (give [defaults] {key} = ... to fill empty cells)"


def _header_index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in index and name != "":
            raise ImportFailed(f"The header names column {name!r} twice (columns {index[name] + 1} and {i + 1}).")
        index.setdefault(name, i)
    return index


def _check_referenced(mapping: ImportMapping, index: dict[str, int]) -> None:
    for key, column in mapping.referenced_columns().items():
        if column not in index:
            shown = ", ".join(repr(name) for name in list(index)[:40])
            raise MappingError(
                f"{mapping.origin}: {key} names column {column!r}, which is not in the file's header "
                f"(names must match exactly, spaces included); the header has: {shown}."
            )


def _extra_layout(mapping: ImportMapping, header: Sequence[str]) -> tuple[list, list]:
    """(extra, protected) columns as (key, index, kind), with keys checked for clashes."""
    spec = mapping.extra
    used = set(mapping.columns.values()) | {c for c in (mapping.tenure_months, mapping.tenure_days) if c}
    if mapping.label:
        used.add(mapping.label.column)
    protected = set(spec.protected)
    wanted = set(spec.include) if spec.include is not None else None
    extra, kept_protected, owner = [], [], {}
    for i, column in enumerate(header):
        is_protected = column in protected
        if not is_protected and (
            column in used or column in spec.exclude or (wanted is not None and column not in wanted)
        ):
            continue
        key = spec.rename.get(column) or snake_case(column) or f"column_{i + 1}"
        group = "_protected" if is_protected else ""
        if (group, key) in owner:
            raise MappingError(
                f"{mapping.origin}: columns {owner[(group, key)]!r} and {column!r} both become the extra attribute "
                f"{key!r}; give one another name under [extra.rename]."
            )
        owner[(group, key)] = column
        kind = next((k for k, cols in _KINDS if column in getattr(spec, cols)), "auto")
        (kept_protected if is_protected else extra).append((key, i, kind))
    return extra, kept_protected
