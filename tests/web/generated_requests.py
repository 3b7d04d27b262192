"""What the standing request tests share: the app's routes with their policies, a small logged desk to aim at, and
signed-in clients for each role.

Every rule of the app's ``url_map`` must be in ``POLICIES``; a new route without one fails
``test_every_route_has_a_policy`` until someone decides who may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.web.sign_in_helpers import log_in
from tests.web.supervise_helpers import add_call, add_person, logged_desk

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any desk user
OWN_CALL = "own_call"  # a desk user acting on a call: its own agent, or a supervisor or admin
SUPERVISOR = "supervisor"  # supervisors and admins
ADMIN = "admin"  # admins only

POLICIES: dict[str, str] = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "health.readyz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "desk.home": PUBLIC,
    "desk.index": SIGNED_IN,
    "desk.search": SIGNED_IN,
    "desk.account": SIGNED_IN,
    "desk.calls.start_call": SIGNED_IN,
    "desk.calls.show": SIGNED_IN,
    "desk.calls.offers": SIGNED_IN,
    "desk.calls.offer_line": SIGNED_IN,
    "desk.calls.why_not": SIGNED_IN,
    "desk.calls.choose_reason": OWN_CALL,
    "desk.calls.present_offer": OWN_CALL,
    "desk.calls.answer_offer": OWN_CALL,
    "desk.calls.request_approval": OWN_CALL,
    "desk.calls.finish_call": OWN_CALL,
    "desk.calls.process_cancellation": OWN_CALL,
    "supervise.calls": SUPERVISOR,
    "supervise.calls_csv": SUPERVISOR,
    "supervise.call": SUPERVISOR,
    "supervise.catalog": SUPERVISOR,
    "supervise.offer": SUPERVISOR,
    "supervise.new_offer": SUPERVISOR,
    "supervise.create": SUPERVISOR,
    "supervise.save": SUPERVISOR,
    "supervise.retire": SUPERVISOR,
    "supervise.approvals": SUPERVISOR,
    "supervise.decide": SUPERVISOR,
    "supervise.audit": SUPERVISOR,
    "supervise.audit_csv": SUPERVISOR,
    "supervise.dashboard": SUPERVISOR,
    "supervise.models": SUPERVISOR,
    "supervise.promote": ADMIN,
    "admin.users": ADMIN,
    "admin.add": ADMIN,
}
ROLES = ("anonymous", "agent", "other_agent", "supervisor", "admin")
# Every query parameter and form field the app reads, sent to every route by the fuzz test.
FIELDS = (
    "q", "phone", "account", "page", "next", "from", "to", "agent", "team", "offer", "reason", "disposition", "band",
    "sort", "dir", "group", "horizon", "action", "user", "accepted", "notes", "idempotency_key", "username",
    "password", "code", "name", "script", "kind", "cost_model", "cost_amount", "duration_months", "valid_from",
    "valid_to", "authority_tier", "monthly_budget", "max_per_year", "cooldown_days", "prior_acceptance", "params",
    "rules", "seen_version", "approve", "note", "role", "tier", "display_name", "locale", "confirm",
)  # fmt: skip


@dataclass
class Desk:
    """The logged desk's ids and one signed-in client per role (anonymous has none)."""

    ids: dict[str, int]
    clients: dict[str, FlaskClient]

    def path_values(self, rule_arguments: set[str]) -> dict[str, object]:
        """Values that name something that exists, for a rule's path arguments."""
        known = {
            "account_id": self.ids["acc1"],
            "call_id": self.ids["open_call"],
            "request_id": 1,
            "code": "DISC10",
            "version": "none",
            "filename": "app.css",
        }
        return {name: known[name] for name in rule_arguments}


def logged_desk_with_clients(app: Flask, session: Session) -> Desk:
    """The supervisor console's small desk, an admin, an open call of agent ``anna``, and a client per role."""
    ids = logged_desk(session)
    ids["ada"] = add_person(session, "ada", "admin", "Operations", 3)
    ids["open_call"] = add_call(
        session,
        account_id=ids["acc2"],
        agent_id=ids["anna"],
        started=datetime(2026, 3, 12, 9, tzinfo=UTC),
        disposition=None,
        presented=(),
    )
    logins = {"agent": "anna", "other_agent": "bo", "supervisor": "siri", "admin": "ada"}
    clients = {"anonymous": app.test_client()}
    for role, username in logins.items():
        clients[role] = app.test_client()
        assert log_in(clients[role], username).status_code == 302
    app.config["WTF_CSRF_ENABLED"] = False  # these tests aim at the routes' rules; CSRF has its own tests
    return Desk(ids, clients)
