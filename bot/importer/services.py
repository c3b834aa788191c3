"""The service centre's catalogue, keyed by the service's code.

Columns: code* (код), category* (категория / санат, a category code; created when new),
category_name_kk / _ru / _en, name_kk / name_ru / name_en, description_kk / _ru / _en,
documents_kk / _ru / _en (the documents a student provides), duration_days (срок, дней /
мерзімі, күн), electronic (электронно / электронды: yes/no), document_kind (вид документа /
құжат түрі: certificate_of_study, attached), number_prefix (префикс номера / нөмір
префиксі), validity_days (срок действия / жарамдылық мерзімі), is_active (активна / белсенді:
yes/no), sort_order (порядок / реті). The request form of a service is not imported: it is
kept as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import (
    Column,
    ImportContext,
    Kind,
    Row,
    boolean,
    choice,
    code,
    integer,
    text,
)
from bot.importer.common import (
    CODE,
    load_by,
    name_column,
    name_columns,
    names,
    present,
    upsert_coded,
)
from db.models.services import DocumentKind, Service, ServiceCategory

COLUMNS = (
    CODE,
    Column("category", "category", "категория", "санат", code(32), required=True),
    *name_columns("category_name"),
    *name_columns(),
    *name_columns("description", 5000),
    *name_columns("documents", 5000),
    Column("duration_days", "duration_days", "срок, дней", "мерзімі, күн", integer(0, 365)),
    Column("electronic", "electronic", "электронно", "электронды", boolean),
    Column(
        "document_kind",
        "document_kind",
        "вид документа",
        "құжат түрі",
        choice({k.value: k for k in DocumentKind}),
    ),
    Column("number_prefix", "number_prefix", "префикс номера", "нөмір префиксі", text(8)),
    Column(
        "validity_days", "validity_days", "срок действия", "жарамдылық мерзімі", integer(1, 3650)
    ),
    Column("is_active", "is_active", "активна", "белсенді", boolean),
    Column("sort_order", "sort_order", "порядок", "реті", integer(0, 10_000)),
)
_TEXTS = tuple(
    f"{what}_{lang}" for what in ("description", "documents") for lang in ("kk", "ru", "en")
)
_SCALARS = (
    "duration_days",
    "electronic",
    "document_kind",
    "number_prefix",
    "is_active",
    "sort_order",
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    categories = await load_by(
        session, ServiceCategory, ServiceCategory.code, (r.get("category") for r in rows)
    )
    for row in rows:
        category = categories.get(row.get("category"))
        category_names = names(row, category, "category_name")
        if category is None and category_names is None:
            ctx.refuse(row, "category", "unknown_category")
            continue
        if category is None:
            category = ServiceCategory(
                code=row.get("category"),
                **{k.replace("category_name", "name"): v for k, v in category_names.items()},
            )
            session.add(category)
            categories[category.code] = category
        elif category_names is not None and any(
            row.has(f"category_name_{x}") for x in "kk ru en".split()
        ):
            for key, value in category_names.items():
                setattr(category, key.replace("category_name", "name"), value)
    await session.flush()

    def build(row: Row, existing: Any | None) -> dict[str, Any] | None:
        values = names(row, existing)
        if values is None:
            ctx.refuse(row, name_column(row), "no_name")
            return None
        return (
            values
            | {"category_id": categories[row.get("category")].id}
            | present(row, *_TEXTS)
            | present(row, *_SCALARS)
            | present(row, "validity_days", clearable=("validity_days",))
        )

    await upsert_coded(session, ctx, Service, [r for r in rows if not ctx.refused(r)], build)


KIND = Kind("services", COLUMNS, apply, key=("code",))
