"""The library catalogue (§10.2): electronic and paper items, and the searches people ran."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin, UTCDateTime, utcnow


class ItemKind(enum.StrEnum):
    electronic = "electronic"
    paper = "paper"


class LibraryItem(TimestampMixin, Base):
    """One catalogue entry, keyed by the library's own code.

    The `search_*` columns hold the folded text (lower case, Kazakh and Latin look-alike letters
    mapped to their Russian counterparts) so a plain LIKE finds the same rows on every backend.
    """

    __tablename__ = "library_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[str] = mapped_column(String(500), default="")
    publisher: Mapped[str] = mapped_column(String(300), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), index=True)
    kind: Mapped[ItemKind] = mapped_column(
        Enum(ItemKind, name="library_item_kind", native_enum=False, length=16),
        index=True,
    )
    # Paper copies: the shelf and how many copies are on it now.
    location: Mapped[str | None] = mapped_column(String(200))
    copies_total: Mapped[int] = mapped_column(Integer, default=0)
    copies_free: Mapped[int] = mapped_column(Integer, default=0)
    # Electronic copies: an external address, or the text the bot typesets as a PDF on the
    # first request; the Telegram file id of what was sent is kept so later sends are instant.
    url: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_id: Mapped[str | None] = mapped_column(String(255))

    search_title: Mapped[str] = mapped_column(Text, default="")
    search_code: Mapped[str] = mapped_column(String(128), default="")
    search_authors: Mapped[str] = mapped_column(Text, default="")
    search_publisher: Mapped[str] = mapped_column(Text, default="")
    search_description: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("copies_total >= 0", name="copies_total_nonnegative"),
        CheckConstraint(
            "copies_free >= 0 AND copies_free <= copies_total", name="copies_free_range"
        ),
    )


class LibrarySearch(Base):
    """A search someone ran: result pages and "back to results" buttons refer to it by id."""

    __tablename__ = "library_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_library_searches_user_time", "user_id", "created_at"),)
