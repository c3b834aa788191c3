"""Appeals, the reviewers' side: the queue, decisions once, the score and the journal follow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.appeals import AprCb
from bot.services import appeals as svc
from bot.services import roles
from bot.services.errors import DomainError
from db.models import Discipline, Role, Teacher, User
from db.models.academic import CurrentMark, Enrolment, WorkKind
from db.models.appeals import AppealItem, AppealItemStatus
from db.models.delivery import Delivery
from db.models.testing import Attempt, ControlKind
from tests.conftest import App
from tests.test_appeals import items, make_attempt, student_row, wrong_ids

STAFF = DEMO_ACCOUNTS["staff"]
TEACHER = DEMO_ACCOUNTS["teacher"]


async def filed(app: App, **kwargs) -> tuple[int, dict[str, int], list[AppealItem]]:
    """An attempt (Beta and Delta wrong) with both wrong questions appealed; returns the
    items of Beta and Delta in that order."""
    attempt_id = await make_attempt(app, **kwargs)
    ids = await wrong_ids(app, attempt_id)
    student = await student_row(app)
    async with app.db.write() as session:
        await svc.file_appeal(
            session,
            student.id,
            attempt_id,
            {ids["Beta"]: "Beta is ambiguous", ids["Delta"]: None},
            app.clock.now(),
        )
    by_question = {i.attempt_question_id: i for i in await items(app, attempt_id)}
    return attempt_id, ids, [by_question[ids["Beta"]], by_question[ids["Delta"]]]


async def deliveries(app: App, template: str) -> list[Delivery]:
    async with app.db.read() as session:
        rows = list(
            await session.scalars(
                select(Delivery).where(Delivery.template == template).order_by(Delivery.id)
            )
        )
        session.expunge_all()
        return rows


async def attempt_row(app: App, attempt_id: int) -> Attempt:
    async with app.db.read() as session:
        row = await session.get(Attempt, attempt_id)
        session.expunge_all()
        return row


async def test_staff_accept_one_reject_one(demo_app: App) -> None:
    attempt_id, _ids, (beta, delta) = await filed(demo_app)
    student = await student_row(demo_app)
    client = await demo_app.signed_in(*STAFF)
    await client.click("Appeals to review")
    text = client.last_message().text
    assert "Appeals to review" in text and "Appealable work" in text and "undecided: 2" in text
    await client.click("Appealable work")
    text = client.last_message().text
    assert "Score now: 50 (before the appeal: 50)" in text
    beta_block = text[text.index("Beta question") :]
    assert "Correct answer: Beta right" in beta_block
    assert "Student's answer: Beta wrong" in beta_block
    assert "Student's comment: Beta is ambiguous" in beta_block
    position = {
        q: int(text[: text.index(f"{q} question")].rsplit("Question ", 1)[1].split()[0])
        for q in ("Beta", "Delta")
    }

    await client.click(f"✅ Accept {position['Beta']}")
    assert "Accept question" in client.last_message().text
    await client.send("The wording allows both")
    assert "Accepted. Score: 50 → 75" in [m.text for m in client.messages()][-2]
    assert "✅ Accepted by" in client.last_message().text
    assert "Comment: The wording allows both" in client.last_message().text

    await client.click(f"❌ Reject {position['Delta']}")
    decide_message = client.last_message().message_id
    await client.click("Decide without a comment")
    assert client.last_answer().text == "Rejected. Score: 75 → 75"
    # A double tap on the same decision: refused, nothing changes.
    await client.click_data(AprCb(a="dc", i=delta.id, p=1).pack(), decide_message)
    assert client.last_answer().text == "This question has already been decided."

    rows = {r.id: r for r in await items(demo_app, attempt_id)}
    staff_id = await _user_id(demo_app, STAFF[0])
    assert rows[beta.id].status == AppealItemStatus.accepted
    assert rows[beta.id].decided_by_user_id == staff_id and rows[beta.id].decided_at is not None
    assert rows[beta.id].decision_comment == "The wording allows both"
    assert rows[delta.id].status == AppealItemStatus.rejected
    assert rows[delta.id].decision_comment is None

    attempt = await attempt_row(demo_app, attempt_id)
    assert attempt.score == Decimal("75.00") and attempt.easy_correct == 3

    # The journal's midterm 2 follows, with the journal's own push.
    async with demo_app.db.read() as session:
        test_discipline = await session.scalar(
            select(Discipline.id).where(Discipline.code == "DBS2201")
        )
        midterm2 = await session.scalar(
            select(Enrolment.midterm2).where(
                Enrolment.student_id == student.id, Enrolment.discipline_id == test_discipline
            )
        )
    assert midterm2 == Decimal("75")
    journal_pushes = [
        d
        for d in await deliveries(demo_app, "journal.mark_changed")
        if d.user_id == student.user_id
    ]
    assert journal_pushes[-1].params["new"] == "75"
    assert journal_pushes[-1].params["old"] == "50"

    # The student is told each decision, with the score before and after.
    decided = [d for d in await deliveries(demo_app, "appeals.decided")]
    assert [(d.user_id, d.params["accepted"]) for d in decided] == [
        (student.user_id, True),
        (student.user_id, False),
    ]
    assert (decided[0].params["before"], decided[0].params["after"]) == ("50.00", "75.00")
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        rendered = render("appeals.decided", decided[0].params, "en")
    assert "Your appeal is decided" in rendered.text
    assert "Score before: 50" in rendered.text and "Score after: 75" in rendered.text
    assert "Reviewer's comment: The wording allows both" in rendered.text
    with demo_app.i18n.context(), demo_app.i18n.use_locale("ru"):
        assert "75" in render("appeals.decided", decided[0].params, "ru").text

    # The student sees the recalculated score in passed tests and the decisions.
    me = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await me.click("Appeals")
    block = me.last_message().text
    block = block[block.index("Appealable work") :]
    assert "Correct answers: 2 / 0 / 0" in block
    assert "Correct with appeal: 3 / 0 / 0" in block
    assert "Score: 75" in block
    await me.click("Appealable work")
    assert "Appeal accepted" in me.last_message().text
    assert "Appeal rejected" in me.last_message().text
    # Nothing left undecided: the queue is empty of this appeal.
    await client.click("« Appeals to review")
    assert "Appealable work" not in client.last_message().text


async def _user_id(app: App, login: str) -> int:
    async with app.db.read() as session:
        return await session.scalar(select(User.id).where(User.login == login))


async def test_current_control_mark_is_replaced_not_added(demo_app: App) -> None:
    attempt_id, _ids, (beta, delta) = await filed(demo_app, control=ControlKind.current)
    student = await student_row(demo_app)

    async def test_marks() -> list[Decimal]:
        async with demo_app.db.read() as session:
            return list(
                await session.scalars(
                    select(CurrentMark.value)
                    .join(Enrolment, Enrolment.id == CurrentMark.enrolment_id)
                    .where(
                        Enrolment.student_id == student.id,
                        CurrentMark.source == "test",
                        CurrentMark.work_kind == WorkKind.test,
                    )
                )
            )

    before = await test_marks()
    assert Decimal("50") in before
    who = svc.Reviewer(
        user_id=await _user_id(demo_app, STAFF[0]), role=Role.staff, teacher_id=None
    )
    for item in (beta, delta):
        async with demo_app.db.write() as session:
            await svc.decide(session, who, item.id, True, None, demo_app.clock.now())
    after = await test_marks()
    assert len(after) == len(before)
    assert Decimal("100") in after and Decimal("50") not in after
    assert (await attempt_row(demo_app, attempt_id)).score == Decimal("100.00")


async def test_decision_is_made_once(demo_app: App) -> None:
    _attempt_id, _ids, (beta, _delta) = await filed(demo_app)
    who = svc.Reviewer(
        user_id=await _user_id(demo_app, STAFF[0]), role=Role.staff, teacher_id=None
    )
    async with demo_app.db.write() as session:
        await svc.decide(session, who, beta.id, True, "yes", demo_app.clock.now())
    for accept in (True, False):
        async with demo_app.db.write() as session:
            with pytest.raises(DomainError) as refused:
                await svc.decide(session, who, beta.id, accept, "again", demo_app.clock.now())
            assert refused.value.code == "appeal_already_decided"
    async with demo_app.db.read() as session:
        row = await session.get(AppealItem, beta.id)
        assert (row.status, row.decision_comment) == (AppealItemStatus.accepted, "yes")
        pushes = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.template == "appeals.decided")
        )
    assert pushes == 1


async def test_teacher_of_the_discipline_reviews(demo_app: App) -> None:
    await filed(demo_app)
    client = await demo_app.signed_in(*TEACHER)
    await client.click("Appeals to review")
    assert "Appealable work" in client.last_message().text


async def test_teacher_of_another_discipline_does_not(demo_app: App) -> None:
    _attempt_id, _ids, (beta, _delta) = await filed(demo_app)
    async with demo_app.db.read() as session:
        dbs = await session.scalar(select(Discipline.id).where(Discipline.code == "DBS2201"))
        teachers = list(await session.execute(select(Teacher.id, Teacher.user_id)))
        outsider = None
        for teacher_id, user_id in teachers:
            ids = await svc.reviewable_discipline_ids(
                session, svc.Reviewer(user_id=user_id, role=Role.teacher, teacher_id=teacher_id)
            )
            if dbs not in (ids or []):
                outsider = (teacher_id, user_id)
                break
    assert outsider is not None
    who = svc.Reviewer(user_id=outsider[1], role=Role.teacher, teacher_id=outsider[0])
    async with demo_app.db.read() as session:
        queue = await svc.review_queue(session, who)
    assert all(entry.test_name != "Appealable work" for entry in queue)
    async with demo_app.db.write() as session:
        with pytest.raises(DomainError) as refused:
            await svc.decide(session, who, beta.id, True, None, demo_app.clock.now())
        assert refused.value.code == "appeal_not_reviewer"


async def test_staff_outside_the_commission_cannot_decide(demo_app: App) -> None:
    _attempt_id, _ids, (beta, _delta) = await filed(demo_app)
    staff_id = await _user_id(demo_app, STAFF[0])
    async with demo_app.db.write() as session:
        await roles.set_sub_roles(session, staff_id, set())
    client = await demo_app.signed_in(*STAFF)
    await client.click("Appeals to review")
    assert "decided by the discipline's teacher and the appeal commission" in (
        client.last_message().text
    )
    await client.click_data(AprCb(a="ok", i=beta.id).pack())
    assert client.last_answer().text == "You may not decide appeals of this discipline."
    await client.click_data(AprCb(a="dc", i=beta.id, p=1).pack())
    assert client.last_answer().text == "You may not decide appeals of this discipline."
    async with demo_app.db.read() as session:
        row = await session.get(AppealItem, beta.id)
        assert row.status == AppealItemStatus.pending


async def test_withdrawn_item_cannot_be_decided(demo_app: App) -> None:
    attempt_id, _ids, (beta, _delta) = await filed(demo_app)
    student = await student_row(demo_app)
    async with demo_app.db.write() as session:
        assert await svc.withdraw(session, student.id, attempt_id, demo_app.clock.now()) == 2
    client = await demo_app.signed_in(*STAFF)
    await client.click_data(AprCb(a="dc", i=beta.id, p=1).pack())
    assert client.last_answer().text == "This appeal is not available."
    await client.click_data(AprCb(a="ap", i=999_999).pack())
    assert client.last_answer().text == "This appeal is not available."


async def test_staff_comment_too_long_and_not_text(demo_app: App) -> None:
    _attempt_id, _ids, (beta, _delta) = await filed(demo_app)
    client = await demo_app.signed_in(*STAFF)
    await client.click_data(AprCb(a="ap", i=beta.appeal_id).pack())
    await client.click_data(AprCb(a="no", i=beta.id).pack())
    await client.send("y" * 501)
    assert "The comment is too long" in client.last_message().text
    async with demo_app.db.read() as session:
        row = await session.get(AppealItem, beta.id)
        assert row.status == AppealItemStatus.pending
    await client.send("Not convincing")
    async with demo_app.db.read() as session:
        row = await session.get(AppealItem, beta.id)
        assert (row.status, row.decision_comment) == (AppealItemStatus.rejected, "Not convincing")
