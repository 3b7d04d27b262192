"""Generated values to every query parameter, form field and path argument of every route, as each role: nothing
the client sends may answer 5xx (the test app propagates a server error as the exception that caused it).

The values are what broke the desk before: NUL and other control characters, huge and negative numbers, digits
``int()`` refuses, extreme and impossible dates, very long text, text next to the surrogates, formula starts.
"""

from __future__ import annotations

import os

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.generated_requests import FIELDS, ROLES, logged_desk_with_clients

EXAMPLES = int(os.environ.get("RETENTION_DESK_FUZZ_EXAMPLES", "5000"))  # generated requests per database
NASTY = (
    "", " ", "0", "-1", "1.5", "2147483647", "2147483648", "-2147483649", "9223372036854775808", "1" * 400,
    "1e400", "-1e400", "nan", "inf", "-0", "²", "٣", "１２", "0x10", "9999-12-31", "0001-01-01", "10000-01-01",
    "2026-02-30", "2026-13-01", "\x00", "a\x00b", "\x1b[31m", "\r\n", "\ud7ff", "abc\ud7ff", "\U0010ffff",
    "=cmd|' /C calc'!A0", "+47", "@SUM(1)", "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "x" * 5000,
    "DISC10", "DISC30", "price",
    "yes", "no", "cancelled", "saved_with_offer", "week", "offer", "asc", "desc", "90", "approve", "deny",
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
PATH_INTS = st.one_of(st.integers(min_value=-3, max_value=12), st.integers(min_value=2**31 - 2, max_value=2**64))


@pytest.fixture()
def desk(app: Flask, session):  # noqa: ANN201
    return logged_desk_with_clients(app, session)


def test_no_generated_request_gets_a_server_error(app: Flask, desk) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "auth.logout"]
    sent = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_request(data: st.DataObject) -> None:
        rule = data.draw(st.sampled_from(rules), label="rule")
        role = data.draw(st.sampled_from(ROLES), label="role")
        values = {}
        for name in rule.arguments:
            if rule._converters[name].__class__.__name__ == "DatabaseId":
                values[name] = data.draw(PATH_INTS, label=name)
            else:
                values[name] = data.draw(VALUES.filter(bool), label=name)
        path = rule.build(values, append_unknown=False)[1]
        fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6), label="fields")
        method = data.draw(st.sampled_from(sorted(rule.methods - {"OPTIONS"})), label="method")
        client = desk.clients[role]
        if method in ("GET", "HEAD"):
            response = client.open(path, method=method, query_string=fields)
        else:
            response = client.open(path, method=method, data=fields)
        sent.append(rule.rule)
        unready = rule.endpoint == "health.readyz" and response.status_code == 503  # no model: not ready, not broken
        assert response.status_code < 500 or unready, f"{role} {method} {path} {fields!r}: {response.status_code}"

    one_request()
    assert len(sent) >= min(EXAMPLES, 5000) * 0.95  # hypothesis runs them all unless one fails
    assert {r.rule for r in rules} <= set(sent)
