"""name search indexes include the account id

The desk's name search returns the first 20 matches ordered by (name key, id). With an index on the key alone,
PostgreSQL had to fetch and sort every account with a common surname (13,633 rows, 205 ms at 1,000,000 accounts);
with (key, id) it reads 20 index entries (0.24 ms). Replaces the single-column indexes, which the new ones cover.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_name_search_id", ["name_search", "id"], unique=False)
        batch_op.create_index("ix_accounts_surname_search_id", ["surname_search", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_accounts_name_search"))
        batch_op.drop_index(batch_op.f("ix_accounts_surname_search"))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_surname_search"), ["surname_search"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_name_search"), ["name_search"], unique=False)
        batch_op.drop_index("ix_accounts_surname_search_id")
        batch_op.drop_index("ix_accounts_name_search_id")
