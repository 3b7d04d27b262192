"""session versions, atomic sign-in counters, erased subscribers

- ``users.session_version``: a signed-in session is valid only while its version matches the user's; signing out,
  a new password or disabling the user bumps it (server-side revocation of copied cookies).
- ``sign_in_counters``: sign-in attempts per username and per client address in the current window, counted with
  one atomic upsert, so parallel guesses cannot all pass the throttle.
- ``accounts.erased_at``: when the subscriber's personal data was removed on their request.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from retention_desk.storage.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
    op.create_table(
        "sign_in_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_counters")),
    )


def downgrade() -> None:
    op.drop_table("sign_in_counters")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("erased_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
