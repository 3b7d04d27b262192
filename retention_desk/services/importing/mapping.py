"""The mapping file that tells the importer which CSV column holds which account field (docs/importing.md).

Checked once, before any row is read, so a typo fails with the mapping key named instead of a thousand bad rows.
"""

from __future__ import annotations

import codecs
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retention_desk.services.importing.fields import ACCOUNT_FIELDS, CHOICE_FIELDS, check_default
from retention_desk.services.seed_files import seed_dir


class ImportFailed(ValueError):
    """The import cannot start or cannot go on; the message is one sentence for the operator."""


class MappingError(ImportFailed):
    """The mapping file is missing or wrong; the message names the mapping key."""


ACCOUNT_OPTIONS = ("account_no_from_line", "tenure_months", "tenure_days", "phone_region")
SECTIONS = ("csv", "account", "defaults", "values", "label", "extra")
CSV_KEYS = ("delimiter", "encoding", "header_row", "decimal", "date_format")
EXTRA_KEYS = ("include", "exclude", "rename", "numbers", "booleans", "text", "protected")
DEFAULT_TRUE = ("true", "yes", "y", "1")
DEFAULT_FALSE = ("false", "no", "n", "0")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1  # the header's line number; lines above it are skipped
    decimal: str = "."
    date_format: str = "%Y-%m-%d"


@dataclass(frozen=True)
class LabelSpec:
    """The churn label column and the spellings of its two values (compared without case)."""

    column: str
    true: frozenset[str]
    false: frozenset[str]
    spelled: str = ""  # the spellings as the mapping writes them, for messages


@dataclass(frozen=True)
class ExtraSpec:
    include: tuple[str, ...] | None = None  # None: every column not mapped to an account field
    exclude: frozenset[str] = frozenset()
    rename: Mapping[str, str] = field(default_factory=dict)
    numbers: frozenset[str] = frozenset()  # columns that must hold numbers (anything else is a bad row)
    booleans: frozenset[str] = frozenset()  # columns that must hold yes/no; their 1/0 mean yes/no too
    text: frozenset[str] = frozenset()  # columns kept as text even when they look like numbers
    protected: tuple[str, ...] = ()  # kept under extra["_protected"] for measurement, never model features


@dataclass(frozen=True)
class ImportMapping:
    """A validated mapping: account field -> CSV column, defaults, value maps, label and extras."""

    columns: Mapping[str, str]
    csv: CsvOptions = CsvOptions()
    account_no_from_line: str | None = None
    tenure_months: str | None = None
    tenure_days: str | None = None
    phone_region: str = "NO"
    defaults: Mapping[str, Any] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    label: LabelSpec | None = None
    extra: ExtraSpec = ExtraSpec()
    origin: str = "mapping"

    def referenced_columns(self) -> dict[str, str]:
        """Every CSV column the mapping names, keyed by the mapping key that names it (for header checks)."""
        named = {f"account.{key}": column for key, column in self.columns.items()}
        for key in ("tenure_months", "tenure_days"):
            if getattr(self, key):
                named[f"account.{key}"] = getattr(self, key)
        if self.label:
            named["label.column"] = self.label.column
        for key in ("include", "exclude", "numbers", "booleans", "text", "protected"):
            for column in sorted(getattr(self.extra, key) or ()):
                named.setdefault(f"extra.{key} ({column!r})", column)
        for column in self.extra.rename:
            named.setdefault(f"extra.rename ({column!r})", column)
        return named


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping file; a bare name such as ``ibm-telco-churn`` finds a shipped mapping."""
    path = resolve_mapping_path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.stem for p in (seed_dir() / "mappings").glob("*.toml")))
        raise MappingError(f"The mapping file {path} does not exist (shipped mappings: {shipped}).") from None
    except IsADirectoryError:
        raise MappingError(f"The mapping file {path} is a folder, not a file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"The mapping file {path} is not valid TOML: {exc}.") from None
    return parse_mapping(data, origin=str(path))


def resolve_mapping_path(path: str | Path) -> Path:
    candidate = Path(path)
    if not candidate.exists() and candidate.parent == Path("."):
        shipped = seed_dir() / "mappings" / f"{candidate.stem}.toml"
        if shipped.is_file():
            return shipped
    return candidate


def parse_mapping(data: Mapping[str, Any], *, origin: str = "mapping") -> ImportMapping:
    """Validate a parsed mapping; every error names the key as written in the file."""

    def fail(key: str, problem: str) -> MappingError:
        return MappingError(f"{origin}: {key} {problem}.")

    _no_unknown_keys(data, SECTIONS, "", fail)
    account = _table(data, "account", fail)
    _no_unknown_keys(account, (*ACCOUNT_FIELDS, *ACCOUNT_OPTIONS), "account.", fail)
    columns = {key: _text(account, key, "account.", fail) for key in ACCOUNT_FIELDS if key in account}
    options = {key: _text(account, key, "account.", fail) for key in ACCOUNT_OPTIONS if key in account}
    mapping = ImportMapping(
        columns=columns,
        csv=_csv_options(_table(data, "csv", fail), fail),
        account_no_from_line=options.get("account_no_from_line"),
        tenure_months=options.get("tenure_months"),
        tenure_days=options.get("tenure_days"),
        phone_region=options.get("phone_region", "NO").upper(),
        defaults=_defaults(_table(data, "defaults", fail), fail),
        values=_value_maps(_table(data, "values", fail), fail),
        label=_label(_table(data, "label", fail), fail),
        extra=_extra(_table(data, "extra", fail), fail),
        origin=origin,
    )
    _check_consistency(mapping, fail)
    return mapping


def _check_consistency(mapping: ImportMapping, fail: Any) -> None:
    has_id_column = "account_no" in mapping.columns
    if has_id_column == bool(mapping.account_no_from_line):
        raise fail("account.account_no", "or account.account_no_from_line must be given (exactly one of the two)")
    if mapping.account_no_from_line:
        _check_id_template(mapping.account_no_from_line, fail)
    tenure = [key for key in ("tenure_months", "tenure_days") if getattr(mapping, key)]
    if "customer_since" in mapping.columns:
        tenure.append("customer_since")
    if len(tenure) > 1:
        raise fail("account." + tenure[0], f"and account.{tenure[1]} both set the customer-since date; keep one")
    if len(mapping.phone_region) != 2 or not mapping.phone_region.isalpha():
        raise fail("account.phone_region", "must be a two-letter country code such as NO or SE")
    mapped = set(mapping.columns.values()) | {c for c in (mapping.tenure_months, mapping.tenure_days) if c}
    for column in mapping.extra.protected:
        if column in mapped:
            raise fail("extra.protected", f"names {column!r}, which is mapped to an account field")


def _check_id_template(template: str, fail: Any) -> None:
    key = "account.account_no_from_line"
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        template.format(line=1, file_stem="file")
    except (ValueError, IndexError, KeyError) as exc:
        raise fail(
            key, f"is not a valid template ({exc}); use {{line}} and {{file_stem}}, e.g. 'X-{{line:06d}}'"
        ) from None
    if "line" not in names:
        raise fail(key, "must contain {line} (the line number keeps the ids unique and stable)")
    if names - {"line", "file_stem"}:
        raise fail(key, f"may use only {{line}} and {{file_stem}}, not {{{sorted(names - {'line', 'file_stem'})[0]}}}")


def _no_unknown_keys(table: Mapping[str, Any], known: tuple[str, ...], prefix: str, fail: Any) -> None:
    for key in table:
        if key not in known:
            what = "section" if not prefix else "key"
            raise fail(f"{prefix}{key}", f"is not a known {what} (known: {', '.join(known)})")


def _table(data: Mapping[str, Any], key: str, fail: Any) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise fail(key, "must be a table, e.g. [" + key + "]")
    return value


def _text(table: Mapping[str, Any], key: str, prefix: str, fail: Any) -> str:
    value = table[key]
    if not isinstance(value, str) or value == "":
        raise fail(prefix + key, f"must be a non-empty text (a CSV column name), not {value!r}")
    return value


def _string_list(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(key, "must be a list of texts")
    return tuple(value)


def _csv_options(table: dict[str, Any], fail: Any) -> CsvOptions:
    _no_unknown_keys(table, CSV_KEYS, "csv.", fail)
    options = CsvOptions(**table)
    if not isinstance(options.delimiter, str) or len(options.delimiter) != 1:
        raise fail("csv.delimiter", f"must be one character, not {options.delimiter!r}")
    if options.decimal not in (".", ","):
        raise fail("csv.decimal", f'must be "." or ",", not {options.decimal!r}')
    if options.decimal == options.delimiter:
        raise fail("csv.decimal", "cannot be the same character as csv.delimiter")
    if not isinstance(options.header_row, int) or isinstance(options.header_row, bool) or options.header_row < 1:
        raise fail("csv.header_row", f"must be a line number from 1, not {options.header_row!r}")
    if not isinstance(options.date_format, str) or "%" not in options.date_format:
        raise fail("csv.date_format", f"must be a strftime format such as '%Y-%m-%d', not {options.date_format!r}")
    try:
        codec = codecs.lookup(str(options.encoding))
    except LookupError:
        raise fail("csv.encoding", f"names an unknown encoding {options.encoding!r}") from None
    if codec.name == "utf-8":  # a byte-order mark, as spreadsheet programs write, is not part of the first column
        options = CsvOptions(**{**table, "encoding": "utf-8-sig"})
    return options


def _defaults(table: dict[str, Any], fail: Any) -> dict[str, Any]:
    _no_unknown_keys(table, ACCOUNT_FIELDS, "defaults.", fail)
    out: dict[str, Any] = {}
    for key, value in table.items():
        problem = check_default(key, value)
        if problem:
            raise fail(f"defaults.{key}", problem)
        out[key] = value
    return out


def _value_maps(table: dict[str, Any], fail: Any) -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for key, pairs in table.items():
        if key not in ACCOUNT_FIELDS:
            raise fail(f"values.{key}", f"is not an account field (fields: {', '.join(ACCOUNT_FIELDS)})")
        if not isinstance(pairs, dict) or not all(isinstance(v, str) for v in pairs.values()):
            raise fail(f"values.{key}", 'must be a table of "as written" = "as stored" texts')
        allowed = CHOICE_FIELDS.get(key)
        for raw, stored in pairs.items():
            if allowed and stored not in allowed:
                raise fail(f"values.{key}.{raw!r}", f"maps to {stored!r}; use one of {', '.join(allowed)}")
        maps[key] = {raw.strip(): stored for raw, stored in pairs.items()}
    return maps


def _label(table: dict[str, Any], fail: Any) -> LabelSpec | None:
    if not table:
        return None
    _no_unknown_keys(table, ("column", "true", "false"), "label.", fail)
    if "column" not in table:
        raise fail("label.column", "is missing (the CSV column that says whether the account left)")
    true = _string_list(table.get("true", list(DEFAULT_TRUE)), "label.true", fail)
    false = _string_list(table.get("false", list(DEFAULT_FALSE)), "label.false", fail)
    true_set, false_set = {v.strip().casefold() for v in true}, {v.strip().casefold() for v in false}
    if not true_set or not false_set:
        raise fail("label.true", "and label.false must each list at least one spelling")
    if true_set & false_set:
        raise fail("label.true", f"and label.false share {sorted(true_set & false_set)[0]!r}")
    spelled = f"left: {', '.join(true)}; stayed: {', '.join(false)}"
    return LabelSpec(_text(table, "column", "label.", fail), frozenset(true_set), frozenset(false_set), spelled)


def _extra(table: dict[str, Any], fail: Any) -> ExtraSpec:
    _no_unknown_keys(table, EXTRA_KEYS, "extra.", fail)
    lists = {
        key: _string_list(table[key], f"extra.{key}", fail) for key in EXTRA_KEYS if key in table and key != "rename"
    }
    rename = table.get("rename", {})
    if not isinstance(rename, dict) or not all(isinstance(v, str) for v in rename.values()):
        raise fail("extra.rename", 'must be a table of "CSV column" = "extra_name"')
    for column, name in rename.items():
        if not IDENTIFIER.match(name):
            raise fail(f"extra.rename.{column!r}", f"must be a lower-case name such as 'call_failures', not {name!r}")
    if "include" in lists and "exclude" in lists:
        raise fail("extra.include", "and extra.exclude cannot both be given")
    kinds = ("numbers", "booleans", "text")
    for i, first in enumerate(kinds):
        for second in kinds[i + 1 :]:
            both = set(lists.get(first, ())) & set(lists.get(second, ()))
            if both:
                raise fail(f"extra.{first}", f"and extra.{second} both name {sorted(both)[0]!r}; a column has one kind")
    return ExtraSpec(
        include=lists.get("include"),
        exclude=frozenset(lists.get("exclude", ())),
        rename=dict(rename),
        numbers=frozenset(lists.get("numbers", ())),
        booleans=frozenset(lists.get("booleans", ())),
        text=frozenset(lists.get("text", ())),
        protected=lists.get("protected", ()),
    )
