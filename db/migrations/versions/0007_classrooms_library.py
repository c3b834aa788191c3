"""Virtual classrooms (materials, conversation, member state) and the library catalogue.

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-26 05:17:47.225867
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("authors", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("electronic", "paper", name="library_item_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("copies_total", sa.Integer(), nullable=False),
        sa.Column("copies_free", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("search_title", sa.Text(), nullable=False),
        sa.Column("search_code", sa.String(length=128), nullable=False),
        sa.Column("search_authors", sa.Text(), nullable=False),
        sa.Column("search_publisher", sa.Text(), nullable=False),
        sa.Column("search_description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "copies_free >= 0 AND copies_free <= copies_total",
            name=op.f("ck_library_items_copies_free_range"),
        ),
        sa.CheckConstraint(
            "copies_total >= 0", name=op.f("ck_library_items_copies_total_nonnegative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_items")),
        sa.UniqueConstraint("code", name=op.f("uq_library_items_code")),
    )
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_items_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_library_items_language"), ["language"], unique=False)

    op.create_table(
        "library_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_library_searches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_searches")),
    )
    with op.batch_alter_table("library_searches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_library_searches_user_time", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "classrooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("discipline_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "lecture",
                "practice",
                "lab",
                "srs",
                "srop",
                name="classroom_kind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["discipline_id"],
            ["disciplines.id"],
            name=op.f("fk_classrooms_discipline_id_disciplines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_classrooms_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["academic_periods.id"],
            name=op.f("fk_classrooms_period_id_academic_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name=op.f("fk_classrooms_teacher_id_teachers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classrooms")),
        sa.UniqueConstraint(
            "period_id",
            "discipline_id",
            "group_id",
            "kind",
            name=op.f("uq_classrooms_period_id_discipline_id_group_id_kind"),
        ),
    )
    with op.batch_alter_table("classrooms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_classrooms_discipline_id"), ["discipline_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_classrooms_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_classrooms_teacher_id"), ["teacher_id"], unique=False)

    op.create_table(
        "classroom_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "document", "photo", "link", name="material_kind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "week IS NULL OR week BETWEEN 1 AND 30", name=op.f("ck_classroom_materials_week_range")
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_classroom_materials_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name=op.f("fk_classroom_materials_classroom_id_classrooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_materials")),
    )
    with op.batch_alter_table("classroom_materials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_classroom_materials_room_time", ["classroom_id", "created_at"], unique=False
        )

    op.create_table(
        "classroom_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("muted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name=op.f("fk_classroom_members_classroom_id_classrooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_classroom_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_members")),
        sa.UniqueConstraint(
            "classroom_id", "user_id", name=op.f("uq_classroom_members_classroom_id_user_id")
        ),
    )
    with op.batch_alter_table("classroom_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_classroom_members_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "classroom_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_classroom_posts_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classrooms.id"],
            name=op.f("fk_classroom_posts_classroom_id_classrooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom_posts")),
    )
    with op.batch_alter_table("classroom_posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_classroom_posts_room_time", ["classroom_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("classroom_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_classroom_posts_room_time")

    op.drop_table("classroom_posts")
    with op.batch_alter_table("classroom_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classroom_members_user_id"))

    op.drop_table("classroom_members")
    with op.batch_alter_table("classroom_materials", schema=None) as batch_op:
        batch_op.drop_index("ix_classroom_materials_room_time")

    op.drop_table("classroom_materials")
    with op.batch_alter_table("classrooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classrooms_teacher_id"))
        batch_op.drop_index(batch_op.f("ix_classrooms_group_id"))
        batch_op.drop_index(batch_op.f("ix_classrooms_discipline_id"))

    op.drop_table("classrooms")
    with op.batch_alter_table("library_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_library_searches_user_time")

    op.drop_table("library_searches")
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_items_language"))
        batch_op.drop_index(batch_op.f("ix_library_items_kind"))

    op.drop_table("library_items")
