"""Every refusal of a forged id answers the press exactly once, with the refusal itself.

Handlers answer a press early (to stop the spinner) and then ask the domain, which refuses an id
that is not the person's; that refusal must still be the press's one answer.
"""

from __future__ import annotations

import re

import pytest
from aiogram.methods import AnswerCallbackQuery
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.service_centre import ScCb
from bot.services import service_centre as sc
from db.models import Student, User
from db.models.services import Service
from tests.conftest import App
from tests.support import BotClient

STUDENT = DEMO_ACCOUNTS["student"]
# In range for every column (so the callback guard lets it through), owned by nobody.
NOBODYS_ID = "2147480000"


async def _answers(client: BotClient, data: str) -> list[AnswerCallbackQuery]:
    return [r for r in await client.click_data(data) if isinstance(r, AnswerCallbackQuery)]


async def test_another_students_request_is_refused_with_one_answer(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    async with demo_app.db.read() as session:
        me = await session.scalar(select(Student.id).join(User).where(User.login == STUDENT[0]))
        other_student = await session.scalar(select(Student.id).where(Student.id != me).limit(1))
        service_id = await session.scalar(select(Service.id).limit(1))
    async with demo_app.db.write() as session:
        other = await sc.create_request(
            session,
            student_id=other_student,
            actor_id=1,
            service_id=service_id,
            answers={"purpose": "employer"},
            now=demo_app.clock.now(),
        )
        other_id = other.id
    await client.click("🏛 Service centre")
    for action in ("req", "dl", "file", "ans", "resub"):
        answers = await _answers(client, ScCb(a=action, id=other_id).pack())
        assert len(answers) == 1, (action, answers)
        assert answers[0].show_alert and answers[0].text, action
        if action != "resub":  # without a resubmission under way: "nothing to submit"
            assert "not available" in answers[0].text, action


def _payloads(client: BotClient) -> list[str]:
    markup = client.last_message().reply_markup
    if markup is None:
        return []
    return [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]


@pytest.mark.parametrize("role", ["student", "teacher"])
async def test_every_button_with_a_forged_id_is_answered_exactly_once(
    demo_app: App, role: str
) -> None:
    """Every button of the home menu and of the screens it opens, with each number in its payload
    replaced by an id nobody owns."""
    client = await demo_app.signed_in(*DEMO_ACCOUNTS[role])
    seen: list[str] = []
    for data in _payloads(client):
        await client.send("/menu")
        await client.click_data(data)
        seen.extend(d for d in _payloads(client) if d not in seen)
    forged = sorted({re.sub(r"(?<=:)\d+(?=:|$)", NOBODYS_ID, d) for d in seen} - set(seen))
    assert len(forged) > 5
    for data in forged:
        await client.send("/menu")
        answers = await _answers(client, data)
        assert len(answers) == 1, (data, answers)
