"""The catalog in the database: offers and cancel reasons upserted by code (each change audited), read back as plain
data, and written out again in the file format."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session

from retention_desk.domain.catalog import OFFER_FIELDS, OfferSpec, ReasonSpec
from retention_desk.domain.clock import utcnow
from retention_desk.services.audit import record_event
from retention_desk.services.catalog.files import load_offers, offers_to_toml
from retention_desk.storage import catalog as stored
from retention_desk.storage.tables import CancelReason, Offer, User


def upsert_offers(
    *, session: Session, offers: list[OfferSpec], actor_name: str = "seed", actor: User | None = None
) -> int:
    """Insert new offers and update existing ones by code (each change audited); missing offers are left alone.

    ``actor``, when given, is the signed-in user the audit rows name (the catalog editor); else ``actor_name``.
    """
    if actor is not None:
        actor_name = actor.username
    existing = {o.code: o for o in stored.offer_rows(session)}
    now = utcnow()
    for spec in offers:
        values = spec.as_dict()
        row = existing.get(spec.code)
        if row is None:
            session.add(Offer(**values, created_at=now, updated_at=now))
            record_event(
                session=session,
                action="offer_created",
                actor=actor,
                actor_name=actor_name,
                entity_type="offer",
                entity_id=spec.code,
                after=_jsonable(values),
            )
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not changed:
            continue
        before = _jsonable({k: getattr(row, k) for k in changed})
        for key, value in changed.items():
            setattr(row, key, value)
        row.updated_at = now
        record_event(
            session=session,
            action="offer_updated",
            actor=actor,
            actor_name=actor_name,
            entity_type="offer",
            entity_id=spec.code,
            before=before,
            after=_jsonable(changed),
        )
    session.flush()
    return len(offers)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Audit rows are JSON: money and dates as strings."""
    return {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in values.items()}


def upsert_cancel_reasons(*, session: Session, reasons: list[ReasonSpec]) -> int:
    existing = {r.code: r for r in stored.reason_rows(session)}
    for spec in reasons:
        row = existing.get(spec.code)
        if row is None:
            session.add(CancelReason(**asdict(spec)))
        else:
            row.label, row.description, row.sort_order = spec.label, spec.description, spec.sort_order
    session.flush()
    return len(reasons)


def offers_in_database(*, session: Session) -> list[OfferSpec]:
    return [OfferSpec(**{name: getattr(row, name) for name in OFFER_FIELDS}) for row in stored.offer_rows(session)]


def export_offers(*, session: Session, path: Path) -> int:
    """Write the database's catalog to ``path`` in the catalog file format; returns the number of offers."""
    offers = offers_in_database(session=session)
    path.write_text(offers_to_toml(offers), encoding="utf-8")
    return len(offers)


@dataclass(frozen=True)
class CatalogLoad:
    """What loading a catalog file changed: new and changed offers by code, and the stored ones it did not name."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    not_in_file: tuple[str, ...]

    def describe(self) -> str:
        parts = [f"{len(self.created)} new", f"{len(self.updated)} changed", f"{self.unchanged} unchanged"]
        text = f"Catalog loaded: {', '.join(parts)} offers."
        if self.not_in_file:
            text += f" Left as they are (not in the file): {', '.join(self.not_in_file)}."
        return text


def load_catalog_file(*, session: Session, path: Path, actor_name: str) -> CatalogLoad:
    """Validate the whole file first, then upsert it (audited); a bad file raises CatalogError and changes nothing."""
    offers = load_offers(path)
    before = {spec.code: spec for spec in offers_in_database(session=session)}
    upsert_offers(session=session, offers=offers, actor_name=actor_name)
    named = {spec.code for spec in offers}
    return CatalogLoad(
        created=tuple(spec.code for spec in offers if spec.code not in before),
        updated=tuple(spec.code for spec in offers if spec.code in before and before[spec.code] != spec),
        unchanged=sum(1 for spec in offers if before.get(spec.code) == spec),
        not_in_file=tuple(code for code in before if code not in named),
    )
