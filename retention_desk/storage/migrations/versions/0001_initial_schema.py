"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import retention_desk.storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_no", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "name_search",
            sa.String(length=170).with_variant(sa.String(length=170, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "surname_search",
            sa.String(length=80).with_variant(sa.String(length=80, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("email_normalised", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("phone_normalised", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("plan_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("contract_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("monthly_charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payment_method", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status_changed_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("churn_label", sa.Boolean(), nullable=True),
        sa.Column(
            "extra",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_account_no"), ["account_no"], unique=True)
        batch_op.create_index(batch_op.f("ix_accounts_email_normalised"), ["email_normalised"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_name_search"), ["name_search"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_phone_normalised"), ["phone_normalised"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_surname_search"), ["surname_search"], unique=False)

    op.create_table(
        "cancel_reasons",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_cancel_reasons")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sklearn_version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("estimator", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "feature_list",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("data_window_start", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data_window_end", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rows_train", sa.Integer(), nullable=False),
        sa.Column("rows_holdout", sa.Integer(), nullable=False),
        sa.Column("label_horizon_days", sa.Integer(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_versions_version"), ["version"], unique=True)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("script", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("cost_model", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("cost_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("authority_tier", sa.Integer(), nullable=False),
        sa.Column("monthly_budget", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("max_per_year", sa.Integer(), nullable=True),
        sa.Column("cooldown_days", sa.Integer(), nullable=True),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prior_acceptance", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_code"), ["code"], unique=True)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("authority_tier", sa.Integer(), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_username"), ["username"], unique=True)

    op.create_table(
        "account_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("monthly_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_services_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_services")),
    )
    with op.batch_alter_table("account_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_services_account_id"), ["account_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)

    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bills_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
    )
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index("ix_bills_account_period", ["account_id", "period_start"], unique=False)

    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("started_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancel_requested_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column("risk_band", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("risk_model_version", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "ranked",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("decision_mode", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("disposition", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("disposition_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offer_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ended_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_calls_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_calls_agent_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_calls_idempotency_key")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_account_started", ["account_id", "started_at"], unique=False)
        batch_op.create_index("ix_calls_agent_started", ["agent_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_cancel_reason"), ["cancel_reason"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_disposition"), ["disposition"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_offer_code"), ["offer_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_started_at"), ["started_at"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("opened_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_hours", sa.Float(), nullable=True),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_tickets_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_account_opened", ["account_id", "opened_at"], unique=False)

    op.create_table(
        "call_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("offer_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("propensity", sa.Float(), nullable=True),
        sa.Column("p_stay", sa.Float(), nullable=True),
        sa.Column("expected_value", sa.Float(), nullable=True),
        sa.Column("presented_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("responded_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_offers_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_offers")),
        sa.UniqueConstraint("call_id", "offer_code", name="uq_call_offers_call_offer"),
    )
    with op.batch_alter_table("call_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_offers_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_call_offers_offer_presented", ["offer_code", "presented_at"], unique=False)

    op.create_table(
        "offer_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("offer_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("offer_kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("offered_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_offer_history_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_offer_history_call_id_calls"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_history")),
    )
    with op.batch_alter_table("offer_history", schema=None) as batch_op:
        batch_op.create_index("ix_offer_history_account_at", ["account_id", "offered_at"], unique=False)
        batch_op.create_index("ix_offer_history_offer_at", ["offer_code", "offered_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("offer_history", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_history_offer_at")
        batch_op.drop_index("ix_offer_history_account_at")

    op.drop_table("offer_history")
    with op.batch_alter_table("call_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_call_offers_offer_presented")
        batch_op.drop_index(batch_op.f("ix_call_offers_call_id"))

    op.drop_table("call_offers")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_account_opened")

    op.drop_table("tickets")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_started_at"))
        batch_op.drop_index(batch_op.f("ix_calls_offer_code"))
        batch_op.drop_index(batch_op.f("ix_calls_disposition"))
        batch_op.drop_index(batch_op.f("ix_calls_cancel_reason"))
        batch_op.drop_index("ix_calls_agent_started")
        batch_op.drop_index("ix_calls_account_started")

    op.drop_table("calls")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index("ix_bills_account_period")

    op.drop_table("bills")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index("ix_audit_events_action_at")

    op.drop_table("audit_events")
    with op.batch_alter_table("account_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_services_account_id"))

    op.drop_table("account_services")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username"))

    op.drop_table("users")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_code"))

    op.drop_table("offers")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_version"))
        batch_op.drop_index(batch_op.f("ix_model_versions_status"))

    op.drop_table("model_versions")
    op.drop_table("cancel_reasons")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_surname_search"))
        batch_op.drop_index(batch_op.f("ix_accounts_status"))
        batch_op.drop_index(batch_op.f("ix_accounts_phone_normalised"))
        batch_op.drop_index(batch_op.f("ix_accounts_name_search"))
        batch_op.drop_index(batch_op.f("ix_accounts_email_normalised"))
        batch_op.drop_index(batch_op.f("ix_accounts_account_no"))

    op.drop_table("accounts")
