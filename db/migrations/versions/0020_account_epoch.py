"""One head again; the account epoch that tells every process of account changes.

Revision ID: 0020
Revises: 0005, 0007, 0008, 0009, 0011, 0012, 0014, 0016
Create Date: 2026-12-02 00:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision = ("0005", "0007", "0008", "0009", "0011", "0012", "0014", "0016")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    epoch = op.create_table(
        "account_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_epoch")),
    )
    op.bulk_insert(epoch, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("account_epoch")
