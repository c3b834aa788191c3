"""Sign-in counters: one row per login and per Telegram account, counted under a row lock.

Revision ID: 0012
Revises: 0001
Create Date: 2026-12-01 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sign_in_locks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("trusted_telegram_id", sa.BigInteger(), nullable=True))
        batch_op.alter_column(
            "locked_until", existing_type=sa.DateTime(timezone=True), nullable=True
        )


def downgrade() -> None:
    # Rows that only count failures (no ban) mean nothing to the old schema.
    op.execute("DELETE FROM sign_in_locks WHERE locked_until IS NULL")
    with op.batch_alter_table("sign_in_locks", schema=None) as batch_op:
        batch_op.alter_column(
            "locked_until", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("trusted_telegram_id")
        batch_op.drop_column("window_started_at")
        batch_op.drop_column("failures")
