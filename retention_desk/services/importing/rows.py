"""One CSV row to one account: pure conversion, with every problem named by column and reason.

No I/O here: the importer feeds header and rows in, gets account values (or the row's problems) out, so the
rules for booleans, numbers, blanks and value maps are tested without a file or a database.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from retention_desk.domain.contact import normalise_email, normalise_phone
from retention_desk.services.importing.mapping import (
    CHOICE_FIELDS,
    DATE_FIELDS,
    TEXT_FIELDS,
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
MAX_MONEY = Decimal("9999999999.99")
PROTECTED_KEY = "_protected"
_KINDS = (("number", "numbers"), ("boolean", "booleans"), ("text", "text"))
_NUMBER = {
    sep: re.compile(rf"[+-]?(?:[0-9]+(?:{re.escape(sep)}[0-9]*)?|{re.escape(sep)}[0-9]+)(?:[eE][+-]?[0-9]+)?")
    for sep in ".,"
}
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]")
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


def parse_number(text: str, decimal: str = ".") -> int | float | None:
    """A number as written in the file, or None if the text is not one (leading zeros keep codes as text)."""
    if text.isdigit() and text.isascii():  # the common case, without a regular expression
        return int(text) if len(text) == 1 or text[0] != "0" else None
    if not _NUMBER[decimal].fullmatch(text) or _LEADING_ZERO.match(text):  # "0150" is a code, not 150
        return None
    if decimal in text or "e" in text.lower():
        number = float(text.replace(decimal, "."))
        return number if math.isfinite(number) else None
    return int(text)


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


def _parse_text(field: str) -> Callable[[str], str]:
    limit = TEXT_FIELDS[field]

    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return text

    return parse


def _parse_choice(field: str) -> Callable[[str], str]:
    allowed = CHOICE_FIELDS[field]

    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"is not one of {', '.join(allowed)} (map it under [values.{field}])")
        return text

    return parse


def _parse_money(text: str, decimal: str = ".") -> Decimal:
    number = parse_number(text.replace(" ", ""), decimal)
    if number is None:
        raise ValueError("is not an amount of money")
    amount = Decimal(str(number))
    if amount < 0:
        raise ValueError("is negative")
    if amount > MAX_MONEY:
        raise ValueError("is too large")
    return amount.quantize(Decimal("0.01"))


def _parse_currency(text: str) -> str:
    if len(text) != 3 or not text.isalpha():
        raise ValueError("is not a three-letter currency code such as NOK")
    return text.upper()


def _parse_birth_year(text: str) -> int:
    year = parse_number(text)
    if not isinstance(year, int) or not 1900 <= year <= date.today().year:
        raise ValueError("is not a year of birth")
    return year


def _parse_date(date_format: str) -> Callable[[str], date]:
    def parse(text: str) -> date:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise ValueError(f"is not a date written like {date(2026, 1, 31).strftime(date_format)}") from None

    return parse


def field_parsers(mapping: ImportMapping) -> dict[str, Callable[[str], Any]]:
    """Text -> stored value, per account field; raises ValueError with the reason."""
    parsers: dict[str, Callable[[str], Any]] = {key: _parse_text(key) for key in TEXT_FIELDS}
    parsers.update({key: _parse_choice(key) for key in CHOICE_FIELDS})
    parsers.update({key: _parse_date(mapping.csv.date_format) for key in DATE_FIELDS})
    parsers["monthly_charge"] = lambda text: _parse_money(text, mapping.csv.decimal)
    parsers["currency"] = _parse_currency
    parsers["birth_year"] = _parse_birth_year

    def email(text: str) -> str:
        if normalise_email(text) is None or " " in text:
            raise ValueError("is not an e-mail address")
        return _parse_text("email")(text)

    def phone(text: str) -> str:
        if normalise_phone(text, mapping.phone_region) is None:
            raise ValueError(f"is not a phone number (read with country {mapping.phone_region})")
        return _parse_text("phone")(text)

    parsers["email"] = email
    parsers["phone"] = phone
    return parsers


def parse_default(key: str, value: Any, mapping: ImportMapping | None = None) -> Any:
    """A [defaults] value as stored; TOML dates and numbers are accepted as they are."""
    if key in DATE_FIELDS and isinstance(value, date) and not isinstance(value, datetime):
        return value
    if key in DATE_FIELDS and isinstance(value, str):
        return _parse_date("%Y-%m-%d")(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be a text or a number, not {value!r}")
    text = str(value)
    if key == "monthly_charge":
        return _parse_money(text)
    if key == "birth_year":
        return _parse_birth_year(text)
    return field_parsers(mapping or ImportMapping(columns={}))[key](text)


def check_default(key: str, value: Any) -> str | None:
    """The problem with a [defaults] value, or None."""
    try:
        parse_default(key, value)
    except ValueError as exc:
        return str(exc)
    return None


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
        self.parsers = field_parsers(mapping)
        self.defaults = {key: parse_default(key, value, mapping) for key, value in mapping.defaults.items()}
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
        problems: list[RowProblem] = []
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
