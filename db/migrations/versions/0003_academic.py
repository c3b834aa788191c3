"""academic records: enrolments, marks, timetable, attendance, calendars, practices,
final attestation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:15:53.536961
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "academic_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("course", sa.Integer(), nullable=True),
        sa.Column("study_form_id", sa.Integer(), nullable=True),
        sa.Column("name_kk", sa.String(length=300), nullable=False),
        sa.Column("name_ru", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_academic_calendars_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["study_form_id"],
            ["study_forms.id"],
            name=op.f("fk_academic_calendars_study_form_id_study_forms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_calendars")),
        sa.UniqueConstraint("code", name=op.f("uq_academic_calendars_code")),
    )
    with op.batch_alter_table("academic_calendars", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_academic_calendars_academic_year"), ["academic_year"], unique=False
        )
    op.create_table(
        "calendar_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "semester",
                "add_drop",
                "registration",
                "midterm",
                "session",
                "practice",
                "grading",
                "holiday",
                "vacation",
                name="calendar_event",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("term", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("name_kk", sa.String(length=300), nullable=False),
        sa.Column("name_ru", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_calendar_events_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["academic_calendars.id"],
            name=op.f("fk_calendar_events_calendar_id_academic_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
    )
    with op.batch_alter_table("calendar_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_events_calendar_id"), ["calendar_id"], unique=False
        )
    op.create_table(
        "timetable_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("discipline_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "lecture",
                "practice",
                "lab",
                "srs",
                "srop",
                name="class_kind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column(
            "week_parity",
            sa.Enum("all", "odd", "even", name="week_parity", native_enum=False, length=16),
            nullable=False,
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_timetable_slots_times_ordered")),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_timetable_slots_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["discipline_id"],
            ["disciplines.id"],
            name=op.f("fk_timetable_slots_discipline_id_disciplines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_timetable_slots_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["academic_periods.id"],
            name=op.f("fk_timetable_slots_period_id_academic_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name=op.f("fk_timetable_slots_teacher_id_teachers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timetable_slots")),
    )
    with op.batch_alter_table("timetable_slots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timetable_slots_group_period", ["group_id", "period_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_timetable_slots_teacher_id"), ["teacher_id"], unique=False
        )
    op.create_table(
        "class_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["timetable_slots.id"],
            name=op.f("fk_class_meetings_slot_id_timetable_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_meetings")),
        sa.UniqueConstraint("slot_id", "on_date", name=op.f("uq_class_meetings_slot_id_on_date")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("discipline_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("midterm1", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("midterm2", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("exam", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "exam IS NULL OR exam BETWEEN 0 AND 100", name=op.f("ck_enrolments_exam_range")
        ),
        sa.CheckConstraint(
            "midterm1 IS NULL OR midterm1 BETWEEN 0 AND 100",
            name=op.f("ck_enrolments_midterm1_range"),
        ),
        sa.CheckConstraint(
            "midterm2 IS NULL OR midterm2 BETWEEN 0 AND 100",
            name=op.f("ck_enrolments_midterm2_range"),
        ),
        sa.ForeignKeyConstraint(
            ["discipline_id"],
            ["disciplines.id"],
            name=op.f("fk_enrolments_discipline_id_disciplines"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["academic_periods.id"],
            name=op.f("fk_enrolments_period_id_academic_periods"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_enrolments_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name=op.f("fk_enrolments_teacher_id_teachers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint(
            "student_id",
            "discipline_id",
            "period_id",
            name=op.f("uq_enrolments_student_id_discipline_id_period_id"),
        ),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolments_discipline_id"), ["discipline_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolments_period_id"), ["period_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_teacher_id"), ["teacher_id"], unique=False)
    op.create_table(
        "final_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("state_exam", "thesis", name="attestation_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("protocol", sa.String(length=100), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.CheckConstraint(
            "percent IS NULL OR percent BETWEEN 0 AND 100",
            name=op.f("ck_final_attestations_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_final_attestations_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_final_attestations")),
    )
    with op.batch_alter_table("final_attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_final_attestations_student_id"), ["student_id"], unique=False
        )
    op.create_table(
        "practices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("name_kk", sa.String(length=300), nullable=False),
        sa.Column("name_ru", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_practices_dates_ordered")),
        sa.CheckConstraint(
            "percent IS NULL OR percent BETWEEN 0 AND 100", name=op.f("ck_practices_percent_range")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["academic_periods.id"],
            name=op.f("fk_practices_period_id_academic_periods"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_practices_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practices")),
    )
    with op.batch_alter_table("practices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_practices_student_id"), ["student_id"], unique=False)
    op.create_table(
        "attendance_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "teacher", "qr", "import", name="attendance_source", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["class_meetings.id"],
            name=op.f("fk_attendance_marks_meeting_id_class_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_attendance_marks_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_marks")),
        sa.UniqueConstraint(
            "meeting_id", "student_id", name=op.f("uq_attendance_marks_meeting_id_student_id")
        ),
    )
    with op.batch_alter_table("attendance_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attendance_marks_student_id"), ["student_id"], unique=False
        )
    op.create_table(
        "current_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column(
            "work_kind",
            sa.Enum(
                "lecture",
                "practice",
                "lab",
                "srs",
                "srop",
                "test",
                name="work_kind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value BETWEEN 0 AND 100", name=op.f("ck_current_marks_value_range")),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_current_marks_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_current_marks_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_current_marks")),
    )
    with op.batch_alter_table("current_marks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_current_marks_enrolment_id"), ["enrolment_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("current_marks")
    op.drop_table("attendance_marks")
    op.drop_table("practices")
    op.drop_table("final_attestations")
    op.drop_table("enrolments")
    op.drop_table("class_meetings")
    op.drop_table("timetable_slots")
    op.drop_table("calendar_events")
    op.drop_table("academic_calendars")
