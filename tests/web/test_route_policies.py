"""Who may use each route, checked for every rule of the app's ``url_map`` and every role.

The policy of each route is written down once (``generated_requests.POLICIES``); a route without one fails here, and
each role is tried on each rule with values that name things that exist, so a refusal is about who asks, not what.
"""

from __future__ import annotations

from flask import Flask

from tests.web.generated_requests import (
    ADMIN,
    OWN_CALL,
    POLICIES,
    PUBLIC,
    ROLES,
    SIGNED_IN,
    SUPERVISOR,
    logged_desk_with_clients,
)

# Form values a step needs before the view hands it to the call service, which decides who may take it.
VALID_FORMS = {
    "desk.calls.choose_reason": {"reason": "price"},
    "desk.calls.answer_offer": {"accepted": "yes"},
    "desk.calls.finish_call": {"disposition": "callback"},
}
ALLOWED = {
    PUBLIC: set(ROLES),
    SIGNED_IN: {"agent", "other_agent", "supervisor", "admin"},
    OWN_CALL: {"agent", "supervisor", "admin"},  # the call in the test belongs to "agent"
    SUPERVISOR: {"supervisor", "admin"},
    ADMIN: {"admin"},
}


def test_every_route_has_a_policy(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(POLICIES) == set(), "a route without a policy: add it to POLICIES"
    assert set(POLICIES) - endpoints == set(), "a policy for a route that is gone"


def test_each_role_may_use_exactly_the_routes_its_policy_allows(app: Flask, session) -> None:
    desk = logged_desk_with_clients(app, session)
    tried = set()
    for rule in app.url_map.iter_rules():
        path = rule.build(desk.path_values(set(rule.arguments)), append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout":
                continue  # signing out would end the role's session for the rest of the test; tests/web/test_auth.py
            for role in ROLES:
                data = VALID_FORMS.get(rule.endpoint) if method == "POST" else None
                response = desk.clients[role].open(path, method=method, data=data)
                refused = response.status_code in (401, 403) or "/login" in response.headers.get("Location", "")
                allowed = role in ALLOWED[POLICIES[rule.endpoint]]
                assert refused != allowed, f"{role} {method} {path}: {response.status_code}"
            tried.add(rule.rule)
    assert tried == {rule.rule for rule in app.url_map.iter_rules()} - {"/logout"}
