"""The demo's online testing: a Database Systems bank and a midterm open for the demo group."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import testing as svc
from bot.services.question_import import Difficulty as ImportDifficulty
from bot.services.question_import import parse_bank
from db.models import Discipline, Student, User
from db.models.testing import ControlKind, Difficulty, OnlineTest

DISCIPLINE = "DBS2201"
BANK_NAME = "Негізгі банк"
TEST_NAME = "Рубежный контроль 1 — Системы баз данных"

# The Platonus format the university loads banks in: <question1..3> is the level, the first
# <variant> is correct unless <variantright> marks the correct ones.
BANK = """
<question1>Какой оператор SQL выбирает строки из таблицы?
<variant>SELECT
<variant>INSERT
<variant>UPDATE
<variant>DELETE
<question1>Что однозначно определяет строку таблицы?
<variant>Первичный ключ
<variant>Внешний ключ
<variant>Индекс
<variant>Представление
<question1>Какой оператор добавляет новую строку в таблицу?
<variant>INSERT
<variant>SELECT
<variant>ALTER
<variant>GRANT
<question1>Какая модель данных хранит данные в виде таблиц?
<variant>Реляционная
<variant>Иерархическая
<variant>Сетевая
<variant>Объектная
<question1>Что делает оператор DROP TABLE?
<variant>Удаляет таблицу вместе с данными
<variant>Удаляет только строки таблицы
<variant>Переименовывает таблицу
<variant>Создаёт копию таблицы
<question2>Какая нормальная форма требует отсутствия транзитивных зависимостей?
<variant>Третья (3НФ)
<variant>Первая (1НФ)
<variant>Вторая (2НФ)
<variant>Нормальная форма Бойса — Кодда не требует этого
<question2>Какие из перечисленных являются агрегатными функциями SQL?
<variantright>COUNT
<variantright>AVG
<variant>UPPER
<variantright>MAX
<variant>SUBSTR
<question2>Какое соединение возвращает все строки левой таблицы?
<variant>LEFT JOIN
<variant>INNER JOIN
<variant>CROSS JOIN
<variant>RIGHT JOIN
<question2>Какое предложение фильтрует группы после GROUP BY?
<variant>HAVING
<variant>WHERE
<variant>ORDER BY
<variant>LIMIT
<question3>Какие свойства входят в ACID?
<variantright>Атомарность
<variantright>Согласованность
<variant>Доступность
<variantright>Изолированность
<variantright>Долговечность
<question3>Какой уровень изоляции исключает фантомное чтение?
<variant>SERIALIZABLE
<variant>READ COMMITTED
<variant>READ UNCOMMITTED
<variant>REPEATABLE READ в стандарте SQL
<question3>Какой индекс эффективнее всего для поиска по диапазону значений?
<variant>B-дерево
<variant>Хеш-индекс
<variant>Битовая карта для уникальных значений
<variant>Полнотекстовый индекс
"""


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    discipline = await session.scalar(select(Discipline).where(Discipline.code == DISCIPLINE))
    student = await session.scalar(
        select(Student)
        .join(User, User.id == Student.user_id)
        .where(User.login == DEMO_ACCOUNTS["student"][0])
    )
    author = await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["teacher"][0]))
    if discipline is None or student is None:
        return
    now = datetime.combine(ctx.today, time(8, 0), tzinfo=ctx.tz)
    bank = await svc.get_or_create_bank(
        session, discipline.id, BANK_NAME, author.id if author else None, now
    )
    parsed = parse_bank("demo.txt", BANK.encode("utf-8"), ImportDifficulty.medium)
    # Re-running the seeder finds every question already there and adds nothing.
    await svc.import_questions(session, bank.id, parsed.questions, Difficulty.medium)

    existing = await session.scalar(select(OnlineTest.id).where(OnlineTest.name == TEST_NAME))
    if existing is not None:
        return
    opens = now - timedelta(days=1)
    closes = datetime.combine(ctx.today + timedelta(days=14), time(18, 0), tzinfo=ctx.tz)
    spec = svc.TestSpec(
        name=TEST_NAME,
        discipline_id=discipline.id,
        bank_id=bank.id,
        control=ControlKind.midterm1,
        time_limit_minutes=30,
        easy_count=3,
        medium_count=2,
        hard_count=1,
        opens_at=opens,
        closes_at=closes,
        attempts_allowed=2,
        shuffle_questions=True,
        shuffle_options=True,
        results_after_close=False,
        appeal_window_hours=48,
    )
    await svc.create_test(
        session,
        spec,
        group_ids=[student.group_id],
        created_by_user_id=author.id if author else None,
        now=now,
        tz=ctx.tz,
    )
