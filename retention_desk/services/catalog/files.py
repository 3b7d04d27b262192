"""The catalog's files: offers and cancel reasons read from TOML (the seed/ folder's or an operator's) and
validated, every failure naming the entry and the field; and the offers written back in the same format, so a
supervisor's edits can be kept in version control."""

from __future__ import annotations

import math
import re
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w

from retention_desk.domain.catalog import OFFER_FIELDS, OfferSpec, ReasonSpec
from retention_desk.domain.vocabulary import CONTRACT_TYPES, OFFER_KINDS, SERVICE_KINDS
from retention_desk.services.seed_files import seed_file

COST_MODELS = ("monthly", "one_off")
LIST_RULES = ("plans", "contract_types", "exclude_if_has", "regions", "segments")
NUMBER_RULES = ("min_tenure_months", "max_tenure_months", "min_monthly_charge", "max_monthly_charge")
RANGE_RULES = (("min_tenure_months", "max_tenure_months"), ("min_monthly_charge", "max_monthly_charge"))
REQUIRED_PARAMS = {
    "percent_discount": "percent",
    "bill_credit": "amount",
    "premium_channel": "channel",
    "pause": "months",
}
# What each well-known parameter must hold, whatever the kind: (check, how the message words it).
_PARAM_CHECKS: dict[str, tuple[Any, str]] = {
    "percent": (lambda v: _is_number(v) and 0 < v <= 100, "must be a number above 0 and at most 100"),
    "amount": (lambda v: _is_number(v) and v >= 0, "must be a non-negative number"),
    "months": (lambda v: _is_whole(v) and 1 <= v <= 120, "must be a whole number of months from 1 to 120"),
    "free_months": (lambda v: _is_whole(v) and 1 <= v <= 120, "must be a whole number of months from 1 to 120"),
    "binding_months": (lambda v: _is_whole(v) and 1 <= v <= 120, "must be a whole number of months from 1 to 120"),
    "steps": (lambda v: _is_whole(v) and 1 <= v <= 10, "must be a whole number from 1 to 10"),
    "channel": (lambda v: isinstance(v, str) and v.strip() != "", "must be a text"),
    "service": (lambda v: v in SERVICE_KINDS, f"must be one of {', '.join(SERVICE_KINDS)}"),
    "target_plan": (lambda v: isinstance(v, str) and v.strip() != "", "must be a text"),
}
MAX_MONEY = Decimal("9999999999.99")  # what a Numeric(12, 2) column holds
MAX_WHOLE = 10**15
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CatalogError(ValueError):
    """A catalog file is wrong; the message names the entry and the field."""


# --- reading and validating ---------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such file") from None
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc})") from None


def load_offers(path: Path | None = None) -> list[OfferSpec]:
    """The offers in catalog.toml (default: the seed folder's), validated."""
    return parse_offers(read_toml(path or seed_file("catalog.toml")))


def parse_offers(data: dict[str, Any]) -> list[OfferSpec]:
    items = data.get("offers")
    if not isinstance(items, list) or not items:
        raise CatalogError("catalog: no [[offers]] entries")
    offers = [_offer(item, number) for number, item in enumerate(items, start=1)]
    seen: set[str] = set()
    for offer in offers:
        if offer.code in seen:
            raise CatalogError(f"offer {offer.code}: the code is used by more than one offer")
        seen.add(offer.code)
    return offers


def _offer(item: Any, number: int) -> OfferSpec:
    if not isinstance(item, dict):
        raise CatalogError(f"offer #{number}: not a table")
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise CatalogError(f"offer #{number}: field 'code' must be 2–40 capital letters, digits, _ or -")
    check = _Checker(f"offer {code}", item)
    unknown = sorted(set(item) - set(OFFER_FIELDS))
    if unknown:
        check.fail(unknown[0], "is not a catalog field")
    kind = check.choice("kind", OFFER_KINDS)
    params = _params(check, kind)
    valid_from, valid_to = check.date("valid_from"), check.date("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        check.fail("valid_to", "is before valid_from")
    return OfferSpec(
        code=code,
        name=check.text("name", required=True, limit=120),
        script=check.text("script", limit=500),
        kind=kind,
        params=params,
        duration_months=check.integer("duration_months", minimum=1, maximum=120),
        cost_model=check.choice("cost_model", COST_MODELS),
        cost_amount=check.money("cost_amount", required=True),
        valid_from=valid_from,
        valid_to=valid_to,
        authority_tier=check.integer("authority_tier", minimum=1, maximum=3, default=1),
        monthly_budget=check.money("monthly_budget"),
        max_per_year=check.integer("max_per_year", minimum=1, maximum=365),
        cooldown_days=check.integer("cooldown_days", minimum=0, maximum=3650),
        prior_acceptance=check.fraction("prior_acceptance", default=0.2),
        rules=_rules(check),
        active=check.boolean("active", default=True),
    )


def _is_number(value: Any) -> bool:
    """A finite number of a size a catalog can mean (a 400-digit integer is neither a price nor a count)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) < MAX_WHOLE
    return math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def _params(check: _Checker, kind: str) -> dict[str, Any]:
    """The kind's details; values stay plain texts, numbers and true/false so they store as JSON on both databases."""
    params = check.table("params")
    needed = REQUIRED_PARAMS.get(kind)
    if needed and needed not in params:
        check.fail("params", f"needs {needed!r} for a {kind} offer")
    for key, value in params.items():
        where = f"params.{key}"
        known = _PARAM_CHECKS.get(key)
        if known is not None:
            if not known[0](value):
                check.fail(where, known[1])
        elif not (isinstance(value, str | bool) or _is_number(value)):
            check.fail(where, "must be a text, a number or true/false")
    return params


def _rules(check: _Checker) -> dict[str, Any]:
    rules = check.table("rules")
    for key, value in rules.items():
        where = f"rules.{key}"
        if key in LIST_RULES:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                check.fail(where, "must be a list of one or more texts (leave the rule out to allow everyone)")
            if key == "contract_types" and not set(value) <= set(CONTRACT_TYPES):
                check.fail(where, f"must only name {', '.join(CONTRACT_TYPES)}")
            if key == "exclude_if_has" and not all(_is_holding(v) for v in value):
                check.fail(
                    where,
                    f"items are a service kind ({', '.join(SERVICE_KINDS)}), optionally with a colon and a code, "
                    "such as 'premium:sport', 'tv:TV_MAX' or 'mobile'",
                )
        elif key in NUMBER_RULES:
            if not _is_number(value) or value < 0:
                check.fail(where, "must be a non-negative number")
        else:
            check.fail(where, f"is not a known rule (known: {', '.join(LIST_RULES + NUMBER_RULES)})")
    for low, high in RANGE_RULES:
        if low in rules and high in rules and rules[low] > rules[high]:
            check.fail(f"rules.{low}", f"is above rules.{high}")
    return rules


def _is_holding(item: str) -> bool:
    kind, _, code = item.partition(":")
    return kind in SERVICE_KINDS and (":" not in item or code.strip() != "")


class _Checker:
    """Field checks for one entry; every failure names the entry and the field."""

    def __init__(self, what: str, item: dict[str, Any]) -> None:
        self.what, self.item = what, item

    def fail(self, name: str, problem: str) -> None:
        raise CatalogError(f"{self.what}: field {name!r} {problem}")

    def text(self, name: str, *, required: bool = False, limit: int = 400) -> str:
        value = self.item.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()) or len(value.strip()) > limit:
            self.fail(name, f"must be a text of {'1' if required else '0'}–{limit} characters")
        if _CONTROL.search(value):
            self.fail(name, "must not hold control characters (only line breaks and tabs)")
        return value.strip()

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.item.get(name)
        if value not in options:
            self.fail(name, f"must be one of {', '.join(options)}")
        return value

    def money(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.item.get(name)
        if value is None and not required:
            return None
        if not _is_number(value) or value < 0 or Decimal(str(value)) > MAX_MONEY:
            self.fail(name, f"must be a non-negative number of at most {MAX_MONEY}")
        return Decimal(str(value)).quantize(Decimal("0.01"))

    def integer(self, name: str, *, minimum: int, maximum: int | None = None, default: int | None = None) -> Any:
        value = self.item.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (maximum and value > maximum):
            upper = f" and at most {maximum}" if maximum else ""
            self.fail(name, f"must be a whole number of at least {minimum}{upper}")
        return value

    def fraction(self, name: str, *, default: float) -> float:
        value = self.item.get(name, default)
        if not _is_number(value) or not 0 <= value <= 1:
            self.fail(name, "must be a number from 0 to 1")
        return float(value)

    def date(self, name: str) -> date | None:
        value = self.item.get(name)
        if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
            self.fail(name, "must be a date such as 2026-01-31")
        return value

    def table(self, name: str) -> dict[str, Any]:
        value = self.item.get(name, {})
        if not isinstance(value, dict):
            self.fail(name, "must be a table such as { percent = 10 }")
        return dict(value)

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.item.get(name, default)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
        return value


def load_cancel_reasons(path: Path | None = None) -> list[ReasonSpec]:
    """The cancel reasons in cancel_reasons.toml, validated."""
    items = read_toml(path or seed_file("cancel_reasons.toml")).get("reasons")
    if not isinstance(items, list) or not items:
        raise CatalogError("cancel reasons: no [[reasons]] entries")
    reasons = []
    for number, item in enumerate(items, start=1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not re.match(r"^[a-z][a-z0-9_]{1,39}$", code):
            raise CatalogError(f"cancel reason #{number}: field 'code' must be 2–40 lower-case letters, digits or _")
        check = _Checker(f"cancel reason {code}", item)
        reasons.append(
            ReasonSpec(
                code=code,
                label=check.text("label", required=True, limit=120),
                description=check.text("description", limit=400),
                sort_order=check.integer("sort_order", minimum=0, default=0),
            )
        )
    return reasons


# --- database ---------------------------------------------------------------------------------------------


# --- export -----------------------------------------------------------------------------------------------


def offers_to_toml(offers: list[OfferSpec]) -> str:
    """The catalog file format (what ``load_offers`` reads)."""
    return tomli_w.dumps({"offers": [_exportable(spec) for spec in offers]})


def _exportable(spec: OfferSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.as_dict().items():
        if value is None or (key in ("params", "rules") and not value) or (key == "script" and not value):
            continue
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        out[key] = value
    return out
