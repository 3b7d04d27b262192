"""The offer catalog and cancel reasons as stored rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from retention_desk.storage.tables import CancelReason, Offer


def offer_codes(session: Session) -> list[tuple[str, str]]:
    return [(c, n) for c, n in session.execute(select(Offer.code, Offer.name).order_by(Offer.code)).all()]


def cancel_reasons(session: Session) -> list[tuple[str, str]]:
    stmt = select(CancelReason.code, CancelReason.label).order_by(CancelReason.sort_order, CancelReason.code)
    return [(c, label) for c, label in session.execute(stmt).all()]


def offers_table(session: Session) -> list[Offer]:
    """Every offer, active first, then by code."""
    return list(session.execute(select(Offer).order_by(Offer.active.desc(), Offer.code)).scalars())


def offer_row(session: Session, code: str) -> Offer | None:
    return session.execute(select(Offer).where(Offer.code == code)).scalar_one_or_none()


def offer_rows(session: Session) -> list[Offer]:
    """Every offer in the order it was added."""
    return list(session.execute(select(Offer).order_by(Offer.id)).scalars())


def reason_rows(session: Session) -> list[CancelReason]:
    return list(session.execute(select(CancelReason)).scalars())


def active_reasons(session: Session) -> list[CancelReason]:
    """The cancel reasons an agent can choose, in their display order."""
    stmt = select(CancelReason).where(CancelReason.active.is_(True)).order_by(CancelReason.sort_order)
    return list(session.execute(stmt).scalars())
