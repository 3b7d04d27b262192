"""an index for the offer log sorted by risk

The supervisor's log sorted by risk (highest first) had no index to walk: PostgreSQL read and sorted every matching
call (786 ms for the calls with one cancel reason at 1,000,000 calls); walking (risk_score DESC NULLS LAST, id DESC)
it reads a page's worth (5 ms). SQLite cannot say NULLS LAST in an index, but sorts NULLs first, so its plain index
(``ix_calls_risk_score_id_asc``) read backwards gives the same order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        columns = [sa.text("risk_score DESC NULLS LAST"), sa.text("id DESC")]
        op.create_index("ix_calls_risk_score_id", "calls", columns, unique=False)
    else:
        op.create_index("ix_calls_risk_score_id_asc", "calls", ["risk_score", "id"], unique=False)


def downgrade() -> None:
    name = "ix_calls_risk_score_id" if op.get_bind().dialect.name == "postgresql" else "ix_calls_risk_score_id_asc"
    op.drop_index(name, table_name="calls")
