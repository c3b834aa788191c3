"""Question banks of the testing module, one question per row (through bot.services.testing).

Columns: discipline* (дисциплина / пән, a code), bank* (банк вопросов / сұрақтар банкі, its
name; created when new), question* (вопрос / сұрақ), option_1 ... option_8 (вариант 1 / нұсқа
1 ...; at least two), correct* (правильные / дұрыс жауап: the numbers or letters of the correct
options, "2" or "1,3" or "B"), difficulty (сложность / қиындығы: easy, medium, hard; лёгкий /
средний / сложный; жеңіл / орташа / қиын).

A question already in the bank (same text and options) is left unchanged; questions are never
removed by an import.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot.importer.base import CellError, Column, ImportContext, Kind, Row, choice, code, text
from bot.importer.common import id_map
from bot.services import testing
from bot.services.question_import import Difficulty, ParsedQuestion
from db.models import Discipline

MAX_OPTIONS = 8
DIFFICULTIES = {
    "easy": Difficulty.easy,
    "лёгкий": Difficulty.easy,
    "легкий": Difficulty.easy,
    "жеңіл": Difficulty.easy,
    "1": Difficulty.easy,
    "medium": Difficulty.medium,
    "средний": Difficulty.medium,
    "орташа": Difficulty.medium,
    "2": Difficulty.medium,
    "hard": Difficulty.hard,
    "сложный": Difficulty.hard,
    "қиын": Difficulty.hard,
    "3": Difficulty.hard,
}
_LETTERS = "abcdefgh"
_CYRILLIC = "абвгдеёж"


def correct_list(value: str) -> tuple[int, ...]:
    found = []
    for part in re.split(r"[,;\s]+", value.strip().casefold()):
        if not part:
            continue
        if part.isdigit() and 1 <= int(part) <= MAX_OPTIONS:
            found.append(int(part) - 1)
        elif len(part) == 1 and part in _LETTERS:
            found.append(_LETTERS.index(part))
        elif len(part) == 1 and part in _CYRILLIC:
            found.append(_CYRILLIC.index(part))
        else:
            raise CellError("bad_correct")
    if not found:
        raise CellError("bad_correct")
    return tuple(sorted(set(found)))


COLUMNS = (
    Column("discipline", "discipline", "дисциплина", "пән", code(32), required=True),
    Column("bank", "bank", "банк вопросов", "сұрақтар банкі", text(200), required=True),
    Column("question", "question", "вопрос", "сұрақ", text(4000), required=True),
    *(
        Column(
            f"option_{i}",
            f"option_{i}",
            f"вариант {i}",
            f"нұсқа {i}",
            text(1000),
            aliases=(f"option {i}", f"вариант{i}", f"нұсқа{i}"),
        )
        for i in range(1, MAX_OPTIONS + 1)
    ),
    Column("correct", "correct", "правильные", "дұрыс жауап", correct_list, required=True),
    Column("difficulty", "difficulty", "сложность", "қиындығы", choice(DIFFICULTIES)),
)


async def apply(session: AsyncSession, rows: list[Row], ctx: ImportContext) -> None:
    disciplines = await id_map(
        session, Discipline.code, (r.get("discipline") for r in rows), Discipline.id
    )
    banks: dict[tuple[int, str], int] = {}
    pending: dict[int, list[tuple[Row, ParsedQuestion]]] = {}
    for row in rows:
        discipline_id = disciplines.get(row.get("discipline"))
        if discipline_id is None:
            ctx.refuse(row, "discipline", "unknown_discipline")
            continue
        options = [
            row.get(f"option_{i}") for i in range(1, MAX_OPTIONS + 1) if row.get(f"option_{i}")
        ]
        if len(options) < 2:
            ctx.refuse(row, "option_2", "two_options")
            continue
        if len({o.casefold() for o in options}) != len(options):
            ctx.refuse(row, "option_1", "duplicate_option")
            continue
        correct = list(row.get("correct"))
        if any(i >= len(options) for i in correct):
            ctx.refuse(row, "correct", "bad_correct")
            continue
        key = (discipline_id, row.get("bank"))
        if key not in banks:
            bank = await testing.get_or_create_bank(
                session, discipline_id, row.get("bank"), ctx.options.actor_user_id, ctx.now
            )
            banks[key] = bank.id
        pending.setdefault(banks[key], []).append(
            (
                row,
                ParsedQuestion(
                    text=row.get("question"),
                    options=options,
                    correct=correct,
                    difficulty=row.get("difficulty"),
                    line=row.line,
                ),
            )
        )
    for bank_id, items in pending.items():
        outcome = await testing.import_questions(
            session, bank_id, [parsed for _, parsed in items], now=ctx.now
        )
        # Questions already in the bank come back as "duplicate" problems with their line.
        known = {problem.line for problem in outcome.problems}
        for row, _ in items:
            if row.line in known:
                ctx.unchanged(row)
            else:
                ctx.created(row, f"{row.get('discipline')} · {row.get('bank')}")


KIND = Kind("question_banks", COLUMNS, apply)
