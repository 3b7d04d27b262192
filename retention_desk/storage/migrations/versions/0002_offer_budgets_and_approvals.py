"""offer budgets, approval requests, and what each call's ranking was based on

Monthly budget counters per offer (reserved atomically on acceptance), the queue of requests for offers above
an agent's authority tier, and on each call the offer-response model version and the customer value its ranked
list used.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import retention_desk.storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offer_budget_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("spent", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_budget_months")),
        sa.UniqueConstraint("offer_code", "month", name="uq_offer_budget_months_offer_month"),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("offer_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", retention_desk.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_approval_requests_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_approval_requests_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_approval_requests_decided_by_users")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name=op.f("fk_approval_requests_requested_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index("ix_approval_requests_account_offer", ["account_id", "offer_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_requests_call_id"), ["call_id"], unique=False)
        batch_op.create_index("ix_approval_requests_status_requested", ["status", "requested_at"], unique=False)
    with op.batch_alter_table("offer_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_history_call_id"), ["call_id"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offer_model_version", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True)
        )
        batch_op.add_column(sa.Column("customer_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offer_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_history_call_id"))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("customer_value")
        batch_op.drop_column("offer_model_version")
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_requests_status_requested")
        batch_op.drop_index(batch_op.f("ix_approval_requests_call_id"))
        batch_op.drop_index("ix_approval_requests_account_offer")

    op.drop_table("approval_requests")
    op.drop_table("offer_budget_months")
