"""The operator's products, bundles and yearly price rise, parsed from plain data (seed/plans.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SERVICE_KINDS = ("tv", "broadband", "mobile", "premium")


@dataclass(frozen=True)
class Product:
    code: str
    kind: str  # tv | broadband | mobile | premium
    name: str
    monthly_price: float  # list price after this year's rise
    rise_percent: float
    weight: float
    channel: str | None = None  # premium channels only


@dataclass(frozen=True)
class Bundle:
    code: str
    name: str
    includes: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class PlanBook:
    currency: str
    rise_months_ago: int
    protected_contracts: tuple[str, ...]
    products: tuple[Product, ...]
    bundles: tuple[Bundle, ...]

    def of_kind(self, kind: str) -> tuple[Product, ...]:
        return tuple(p for p in self.products if p.kind == kind)

    def bundle_codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.bundles)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanBook:
        """Parse plans.toml's content; raises ValueError naming the entry and the field that is wrong."""
        rise = data.get("price_rise", {})
        products = tuple(_product(item) for item in data.get("products", []))
        bundles = tuple(_bundle(item) for item in data.get("bundles", []))
        for kind in ("tv", "broadband", "mobile"):
            if not any(p.kind == kind for p in products):
                raise ValueError(f"plans: no product of kind {kind!r}")
        if not bundles:
            raise ValueError("plans: no bundles")
        _unique("product", [p.code for p in products])
        _unique("bundle", [b.code for b in bundles])
        months_ago = rise.get("months_ago", 9)
        if not (isinstance(months_ago, int) and 1 <= months_ago <= 11):
            raise ValueError("plans: price_rise needs months_ago between 1 and 11")
        return cls(
            currency=str(data.get("currency", "NOK")),
            rise_months_ago=months_ago,
            protected_contracts=tuple(rise.get("protected_contracts", [])),
            products=products,
            bundles=bundles,
        )


def _number(item: dict[str, Any], key: str, what: str, *, default: float | None = None) -> float:
    value = item.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{what}: field {key!r} must be a non-negative number")
    return float(value)


def _product(item: dict[str, Any]) -> Product:
    code = str(item.get("code", "")).strip()
    what = f"product {code or '?'}"
    if not code:
        raise ValueError("product without a code")
    if item.get("kind") not in SERVICE_KINDS:
        raise ValueError(f"{what}: field 'kind' must be one of {', '.join(SERVICE_KINDS)}")
    if item["kind"] == "premium" and not item.get("channel"):
        raise ValueError(f"{what}: field 'channel' is required for premium channels")
    return Product(
        code=code,
        kind=item["kind"],
        name=str(item.get("name", code)),
        monthly_price=_number(item, "monthly_price", what),
        rise_percent=_number(item, "rise_percent", what, default=0),
        weight=_number(item, "weight", what, default=1),
        channel=item.get("channel"),
    )


def _bundle(item: dict[str, Any]) -> Bundle:
    code = str(item.get("code", "")).strip()
    what = f"bundle {code or '?'}"
    if not code:
        raise ValueError("bundle without a code")
    includes = tuple(item.get("includes", []))
    if not includes or any(k not in ("tv", "broadband", "mobile") for k in includes):
        raise ValueError(f"{what}: field 'includes' must list tv, broadband and/or mobile")
    return Bundle(code=code, name=str(item.get("name", code)), includes=includes, weight=_number(item, "weight", what))


def _unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} {code}: the code is used twice")
        seen.add(code)
