"""QR attendance check-in: check-ins of class meetings and their short-lived codes.

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-26 05:23:35.097359
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("shown_token", sa.String(length=32), nullable=True),
        sa.Column("shown_present", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["class_meetings.id"],
            name=op.f("fk_attendance_checkins_meeting_id_class_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name=op.f("fk_attendance_checkins_teacher_id_teachers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_checkins")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_attendance_checkins_meeting_id")),
    )
    with op.batch_alter_table("attendance_checkins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_checkins_closed_at"), ["closed_at"], unique=False
        )

    op.create_table(
        "attendance_checkin_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["attendance_checkins.id"],
            name=op.f("fk_attendance_checkin_tokens_checkin_id_attendance_checkins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_checkin_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_attendance_checkin_tokens_token")),
    )
    with op.batch_alter_table("attendance_checkin_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_checkin_tokens_checkin_id"), ["checkin_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attendance_checkin_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_checkin_tokens_checkin_id"))

    op.drop_table("attendance_checkin_tokens")
    with op.batch_alter_table("attendance_checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_checkins_closed_at"))

    op.drop_table("attendance_checkins")
