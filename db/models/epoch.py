"""One counter that every change of an account moves (db/epoch.py), so that every process that
keeps signed-in people in memory learns of changes made by the others."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class AccountEpoch(Base):
    __tablename__ = "account_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
