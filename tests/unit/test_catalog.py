"""The offer catalog, cancel reasons and plans in seed/ load, validate and round-trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w

from retention_desk.services.catalog.files import (
    CatalogError,
    load_cancel_reasons,
    load_offers,
    offers_to_toml,
)
from retention_desk.services.seed_files import seed_dir, seed_file
from retention_desk.services.seeding import load_plans


def broken_copy(tmp_path: Path, code: str, **changes: object) -> Path:
    data = tomllib.loads(seed_file("catalog.toml").read_text(encoding="utf-8"))
    for offer in data["offers"]:
        if offer["code"] == code:
            offer.update(changes)
    path = tmp_path / "catalog.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_the_seed_folder_is_found_next_to_the_source() -> None:
    assert (seed_dir() / "catalog.toml").is_file()


def test_the_seed_catalog_has_at_least_twelve_offers_of_seven_kinds() -> None:
    offers = load_offers()
    assert len(offers) >= 12
    assert len({o.kind for o in offers}) >= 7
    assert len({o.code for o in offers}) == len(offers)


def test_some_offers_need_a_senior_agent() -> None:
    assert {o.authority_tier for o in load_offers()} == {1, 2}


def test_a_negative_cost_names_the_offer_and_the_field(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "DISC20", cost_amount=-5)
    with pytest.raises(CatalogError, match=r"offer DISC20: field 'cost_amount' must be a non-negative number"):
        load_offers(path)


def test_an_unknown_kind_names_the_offer_and_the_field(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"offer PAUSE3: field 'kind'"):
        load_offers(broken_copy(tmp_path, "PAUSE3", kind="holiday"))


def test_an_unknown_rule_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"offer DISC10: field 'rules.min_age'"):
        load_offers(broken_copy(tmp_path, "DISC10", rules={"min_age": 30}))


def test_a_discount_without_its_percent_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"offer DISC10: field 'params' needs 'percent'"):
        load_offers(broken_copy(tmp_path, "DISC10", params={}))


def test_an_acceptance_prior_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"offer SPORT3: field 'prior_acceptance'"):
        load_offers(broken_copy(tmp_path, "SPORT3", prior_acceptance=1.5))


def test_a_file_that_is_not_toml_says_so(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text("[[offers]\ncode = ", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_offers(path)


def test_exported_offers_load_back_unchanged(tmp_path: Path) -> None:
    offers = load_offers()
    path = tmp_path / "exported.toml"
    path.write_text(offers_to_toml(offers), encoding="utf-8")
    assert load_offers(path) == offers


def test_cancel_reasons_load_in_their_order() -> None:
    reasons = load_cancel_reasons()
    codes = [r.code for r in reasons]
    assert {"price", "service_quality", "moving", "competitor_offer", "other"} <= set(codes)
    assert [r.sort_order for r in reasons] == sorted(r.sort_order for r in reasons)


def test_plans_hold_tv_broadband_mobile_and_premium_channels() -> None:
    plans = load_plans()
    assert {p.kind for p in plans.products} == {"tv", "broadband", "mobile", "premium"}
    assert {p.channel for p in plans.of_kind("premium")} >= {"sport", "film", "serier", "barn"}
    assert any(p.rise_percent >= 15 for p in plans.products)


def test_every_plan_named_in_an_offer_rule_exists() -> None:
    bundles = set(load_plans().bundle_codes())
    for offer in load_offers():
        assert set(offer.rules.get("plans", [])) <= bundles, offer.code
