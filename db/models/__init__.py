"""All models. Every module of this package is imported, so each feature adds its own file and
Alembic and the tests see the full metadata without a central list to edit."""

from __future__ import annotations

import importlib
import pkgutil

from db.base import Base

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")

from db.models.core import (  # noqa: E402
    AcademicPeriod,
    Discipline,
    Faculty,
    Group,
    Programme,
    Role,
    SignInAttempt,
    SignInLock,
    Student,
    StudyForm,
    Teacher,
    User,
)

__all__ = [
    "AcademicPeriod",
    "Base",
    "Discipline",
    "Faculty",
    "Group",
    "Programme",
    "Role",
    "SignInAttempt",
    "SignInLock",
    "Student",
    "StudyForm",
    "Teacher",
    "User",
]
