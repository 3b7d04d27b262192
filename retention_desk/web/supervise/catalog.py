"""The catalog editor: offers with this month's spending, create, edit and retire, each change audited."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from retention_desk.domain.vocabulary import CONTRACT_TYPES, OFFER_KINDS
from retention_desk.services.catalog.editor import (
    OfferEditError,
    catalog_overview,
    create_offer,
    form_values,
    offer_audit,
    offer_for_editing,
    offer_from_form,
    retire_offer,
    update_offer,
    version_of,
)
from retention_desk.services.catalog.files import COST_MODELS, LIST_RULES, NUMBER_RULES
from retention_desk.web.context import db_session
from retention_desk.web.risk_words import percent
from retention_desk.web.roles import SUPERVISORS, require_role
from retention_desk.web.supervise.blueprint import bp

RULE_WORDS = {
    "plans": _l("Only these plans"),
    "exclude_if_has": _l("Not for accounts that have (such as premium:sport or mobile)"),
    "regions": _l("Only these regions"),
    "segments": _l("Only these segments"),
    "min_tenure_months": _l("Customer for at least (months)"),
    "max_tenure_months": _l("Customer for at most (months)"),
    "min_monthly_charge": _l("Monthly charge at least"),
    "max_monthly_charge": _l("Monthly charge at most"),
}
CONTRACT_BOX = "rules.contract_types."
NEW_OFFER = {"kind": "percent_discount", "cost_model": "monthly", "authority_tier": "1", "prior_acceptance": "0.2"}


@bp.get("/catalog")
@require_role(*SUPERVISORS)
def catalog() -> str:
    """Every offer with this month's spending against its cap."""
    month, offers = catalog_overview(session=db_session())
    return render_template("supervise/catalog.html", month=month, offers=offers, percent=percent)


@bp.get("/catalog/new")
@require_role(*SUPERVISORS)
def new_offer() -> str:
    """An empty offer form."""
    return _form_page(None, {**NEW_OFFER, "active": "yes"})


@bp.post("/catalog/new")
@require_role(*SUPERVISORS)
def create() -> BaseResponse | tuple[str, int]:
    """Add the offer if it validates; otherwise the form again with the field at fault, nothing stored."""
    values = _posted()
    session = db_session()
    try:
        spec = offer_from_form(values, code=values.get("code", ""))
        create_offer(session=session, spec=spec, actor_id=current_user.id)
    except OfferEditError as exc:
        session.rollback()
        return _form_page(None, values, exc), 400
    session.commit()
    flash(_("Offer %(code)s added.", code=spec.code), "success")
    return redirect(url_for("supervise.offer", code=spec.code), code=303)


@bp.get("/catalog/<code>")
@require_role(*SUPERVISORS)
def offer(code: str) -> str:
    """One offer's form with its audit trail."""
    row = offer_for_editing(session=db_session(), code=code)
    if row is None:
        abort(404)
    return _form_page(code, {**form_values(row), "version": version_of(row)})


@bp.post("/catalog/<code>")
@require_role(*SUPERVISORS)
def save(code: str) -> BaseResponse | tuple[str, int]:
    """Save the changed fields (audited with before and after); a bad value names its field and stores nothing."""
    session = db_session()
    if offer_for_editing(session=session, code=code) is None:
        abort(404)
    values = _posted()
    try:
        spec = offer_from_form(values, code=code)
        update_offer(session=session, spec=spec, actor_id=current_user.id, seen_version=values.get("version"))
    except OfferEditError as exc:
        session.rollback()
        return _form_page(code, values, exc), 400
    session.commit()
    flash(_("Offer %(code)s saved.", code=code), "success")
    return redirect(url_for("supervise.offer", code=code), code=303)


@bp.post("/catalog/<code>/retire")
@require_role(*SUPERVISORS)
def retire(code: str) -> BaseResponse | tuple[str, int]:
    """Take the offer off the desk; calls that made it keep it in the log."""
    session = db_session()
    if offer_for_editing(session=session, code=code) is None:
        abort(404)
    try:
        retire_offer(session=session, code=code, actor_id=current_user.id)
    except OfferEditError as exc:
        session.rollback()
        row = offer_for_editing(session=session, code=code)
        return _form_page(code, {**form_values(row), "version": version_of(row)}, exc), 400  # type: ignore[arg-type]
    session.commit()
    flash(_("Offer %(code)s retired: agents no longer see it.", code=code), "success")
    return redirect(url_for("supervise.offer", code=code), code=303)


def _posted() -> dict[str, str]:
    """The form's texts, each cut to a sane length (the catalog's checks give the exact limits).

    The contract-type boxes become one comma-separated rule, as the other list rules are typed.
    """
    values = {k: v[:2000] for k, v in request.form.items() if k != "csrf_token" and not k.startswith(CONTRACT_BOX)}
    values["rules.contract_types"] = ", ".join(
        k.removeprefix(CONTRACT_BOX) for k in request.form if k.startswith(CONTRACT_BOX)
    )
    return values


def _form_page(code: str | None, values: dict[str, str], error: OfferEditError | None = None) -> str:
    session = db_session()
    row = offer_for_editing(session=session, code=code) if code else None
    return render_template(
        "supervise/offer.html",
        code=code,
        row=row,
        values=values,
        error=error,
        field_error=(error.field or "code") if error else None,
        audit=offer_audit(session=session, code=code) if code else [],
        kinds=OFFER_KINDS,
        cost_models=COST_MODELS,
        contract_types=CONTRACT_TYPES,
        list_rules=[r for r in LIST_RULES if r != "contract_types"],
        number_rules=NUMBER_RULES,
        rule_words=RULE_WORDS,
    )
