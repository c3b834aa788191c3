"""The testing jobs: abandoned attempts closed by the server, held results released once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from bot.delivery.render import render
from db.models.academic import Enrolment
from db.models.delivery import Delivery
from db.models.testing import Attempt, AttemptStatus, ControlKind, FinishReason, OnlineTest
from scheduler.context import JobContext
from scheduler.jobs.testing import close_overdue_attempts, deliver_held_results
from tests.conftest import App
from tests.test_testing import go_to, make_test, start


def job_context(app: App) -> JobContext:
    return JobContext(
        db=app.db, bot=app.bot, i18n=app.i18n, settings=app.settings, clock=app.clock
    )


async def deliveries(app: App, template: str) -> list[Delivery]:
    async with app.db.read() as session:
        rows = list(await session.scalars(select(Delivery).where(Delivery.template == template)))
        session.expunge_all()
        return rows


async def attempt_of(app: App) -> Attempt:
    async with app.db.read() as session:
        attempt = await session.scalar(select(Attempt).order_by(Attempt.id.desc()).limit(1))
        session.expunge_all()
        return attempt


async def test_scheduler_closes_an_abandoned_attempt(demo_app: App) -> None:
    await make_test(demo_app, minutes=5)
    client = await start(demo_app)
    await go_to(client, "Easy one")
    await client.click("E1 right")
    ctx = job_context(demo_app)

    # Within the deadline plus grace nothing is closed.
    demo_app.clock.advance(minutes=5, seconds=25)
    await close_overdue_attempts(ctx)
    assert (await attempt_of(demo_app)).status == AttemptStatus.open

    demo_app.clock.advance(seconds=10)
    await close_overdue_attempts(ctx)
    attempt = await attempt_of(demo_app)
    assert attempt.status == AttemptStatus.finished
    assert attempt.finish_reason == FinishReason.timeout
    assert attempt.finished_at == attempt.deadline
    assert attempt.score == Decimal("33.33")
    assert attempt.journal_at is not None
    async with demo_app.db.read() as session:
        assert Decimal("33.33") in set(await session.scalars(select(Enrolment.midterm2)))

    pushes = await deliveries(demo_app, "testing.attempt_closed")
    assert len(pushes) == 1 and pushes[0].params["score"] == "33.33"
    # Re-running changes nothing and queues nothing twice.
    await close_overdue_attempts(ctx)
    assert len(await deliveries(demo_app, "testing.attempt_closed")) == 1
    assert (await attempt_of(demo_app)).finished_at == attempt.finished_at

    with demo_app.i18n.context(), demo_app.i18n.use_locale("ru"):
        rendered = render("testing.attempt_closed", pushes[0].params, "ru")
    assert "Время теста «Control work» истекло" in rendered.text and "33,33" in rendered.text

    # The student coming back sees the result, not the questions.
    await client.click("🔄")
    assert "Testing finished" in client.last_message().text
    assert "The time was up: the attempt was closed automatically." in client.last_message().text
    assert "Test score: 33.33" in client.last_message().text


async def test_held_results_are_released_when_the_window_closes(demo_app: App) -> None:
    test_id = await make_test(
        demo_app, held=True, control=ControlKind.exam, closes_in=timedelta(hours=2)
    )
    client = await start(demo_app)
    await go_to(client, "Easy one")
    await client.click("E1 right")
    await client.click("Finish")
    await client.click("Yes, finish")
    assert "Test score" not in client.last_message().text
    ctx = job_context(demo_app)

    await deliver_held_results(ctx)
    assert await deliveries(demo_app, "testing.result_released") == []
    async with demo_app.db.read() as session:
        assert Decimal("33.33") not in set(await session.scalars(select(Enrolment.exam)))

    demo_app.clock.advance(hours=2, minutes=1)
    await deliver_held_results(ctx)
    await deliver_held_results(ctx)
    pushes = await deliveries(demo_app, "testing.result_released")
    assert len(pushes) == 1
    assert pushes[0].params["score"] == "33.33" and pushes[0].params["correct"] == 1
    async with demo_app.db.read() as session:
        test = await session.get(OnlineTest, test_id)
        assert test.results_released_at == demo_app.clock.now()
        assert Decimal("33.33") in set(await session.scalars(select(Enrolment.exam)))

    with demo_app.i18n.context(), demo_app.i18n.use_locale("kk"):
        rendered = render("testing.result_released", pushes[0].params, "kk")
    assert "Тестілеу нәтижелері шықты" in rendered.text and "33,33" in rendered.text
    assert rendered.protect

    # The result screen now shows the score.
    await client.click_data(rendered.buttons[0][0].callback_data)
    assert "Test score: 33.33" in client.last_message().text
    assert "Exam: 33.33" in client.last_message().text


async def test_release_closes_attempts_still_open_at_the_end(demo_app: App) -> None:
    await make_test(demo_app, held=True, minutes=30, closes_in=timedelta(minutes=10))
    await start(demo_app)
    demo_app.clock.advance(minutes=11)
    await deliver_held_results(job_context(demo_app))
    attempt = await attempt_of(demo_app)
    assert attempt.status == AttemptStatus.finished
    assert len(await deliveries(demo_app, "testing.result_released")) == 1
