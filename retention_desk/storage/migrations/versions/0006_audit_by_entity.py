"""an index for the audit rows about one account

Every opening of an account on the desk now writes an audit row (``account_viewed``), so the audit log grows by a
few rows per call. "Who looked at this subscriber?" (the audit log filtered by account, and the subject export)
reads the rows of one entity, newest first: (entity_type, entity_id, at) answers it without reading the whole log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_entity_at", "audit_events", ["entity_type", "entity_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_events_entity_at", table_name="audit_events")
