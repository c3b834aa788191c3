"""Academic groups, keyed by code (e.g. IS-25-1).

Columns: code* (код), programme* (образовательная программа / білім беру бағдарламасы, a
programme code), study_form* (форма обучения / оқу түрі, a study form code), course* (курс,
1-7), admission_year* (год поступления / түскен жылы), language (язык обучения / оқыту тілі:
kk, ru, en).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import Column, ImportContext, Kind, Row, choice, code, integer
from bot.importer.common import CODE, id_map, present, upsert_coded
from db.models import Group, Programme, StudyForm

LANGUAGES = {
    "kk": "kk",
    "kz": "kk",
    "қазақ": "kk",
    "казахский": "kk",
    "kazakh": "kk",
    "ru": "ru",
    "орыс": "ru",
    "русский": "ru",
    "russian": "ru",
    "en": "en",
    "ағылшын": "en",
    "английский": "en",
    "english": "en",
}

COLUMNS = (
    CODE,
    Column(
        "programme",
        "programme",
        "образовательная программа",
        "білім беру бағдарламасы",
        code(32),
        required=True,
        aliases=("program", "программа", "бағдарлама"),
    ),
    Column("study_form", "study_form", "форма обучения", "оқу түрі", code(32), required=True),
    Column("course", "course", "курс", "курс", integer(1, 7), required=True),
    Column(
        "admission_year",
        "admission_year",
        "год поступления",
        "түскен жылы",
        integer(1990, 2100),
        required=True,
    ),
    Column("language", "language", "язык обучения", "оқыту тілі", choice(LANGUAGES)),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    programmes = await id_map(
        session, Programme.code, (r.get("programme") for r in rows), Programme.id
    )
    forms = await id_map(
        session, StudyForm.code, (r.get("study_form") for r in rows), StudyForm.id
    )

    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        programme_id = programmes.get(row.get("programme"))
        form_id = forms.get(row.get("study_form"))
        if programme_id is None:
            ctx.refuse(row, "programme", "unknown_programme")
        if form_id is None:
            ctx.refuse(row, "study_form", "unknown_study_form")
        if programme_id is None or form_id is None:
            return None
        return {
            "programme_id": programme_id,
            "study_form_id": form_id,
            "course": row.get("course"),
            "admission_year": row.get("admission_year"),
        } | present(row, "language")

    await upsert_coded(session, ctx, Group, rows, build)


KIND = Kind("groups", COLUMNS, apply, key=("code",))
