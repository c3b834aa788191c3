"""Appeals, the student's side, end to end through the real dispatcher; and the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from bot.delivery.render import render
from bot.demo.appeals import DECIDED_TEST, OPEN_TEST
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.appeals import AplCb
from bot.services import appeals as svc
from bot.services import testing as testing_svc
from bot.services.errors import DomainError
from bot.services.question_import import parse_bank
from db.models import Discipline, Role, Student, User
from db.models.appeals import Appeal, AppealItem, AppealItemStatus
from db.models.delivery import Delivery
from db.models.testing import (
    Attempt,
    AttemptQuestion,
    ControlKind,
    Difficulty,
    FinishReason,
    OnlineTestTarget,
    QuestionOption,
)
from scheduler.context import JobContext
from scheduler.jobs.appeals import remind_appeal_windows_closing
from tests.conftest import App

STUDENT = DEMO_ACCOUNTS["student"]
DISCIPLINE = "DBS2201"
# Four single-answer questions of known texts: which ones the student gets wrong is chosen by
# the helper, so the screens can be checked against known answers.
BANK = """
<question1>Alpha question
<variant>Alpha right
<variant>Alpha wrong
<question1>Beta question
<variant>Beta right
<variant>Beta wrong
<question1>Gamma question
<variant>Gamma right
<variant>Gamma wrong
<question1>Delta question
<variant>Delta right
<variant>Delta wrong
"""


async def student_row(app: App, login: str = STUDENT[0]) -> Student:
    async with app.db.read() as session:
        student = await session.scalar(select(Student).join(User).where(User.login == login))
        session.expunge_all()
        return student


async def make_attempt(
    app: App,
    wrong: tuple[str, ...] = ("Beta", "Delta"),
    *,
    control: ControlKind = ControlKind.midterm2,
    window_hours: int = 24,
    login: str = STUDENT[0],
    name: str = "Appealable work",
) -> int:
    """A finished attempt of a 4-question test with the named questions answered wrongly;
    the score goes to the journal as the testing module does it."""
    now = app.clock.now()
    async with app.db.write() as session:
        discipline = await session.scalar(select(Discipline).where(Discipline.code == DISCIPLINE))
        student = await session.scalar(select(Student).join(User).where(User.login == login))
        bank = await testing_svc.get_or_create_bank(session, discipline.id, "Appeals", None, now)
        parsed = parse_bank("b.txt", BANK.encode())
        await testing_svc.import_questions(session, bank.id, parsed.questions, Difficulty.medium)
        period_id = await testing_svc.current_period_id(session, now.date())
        test = await testing_svc.create_test(
            session,
            testing_svc.TestSpec(
                name=name,
                discipline_id=discipline.id,
                bank_id=bank.id,
                control=control,
                time_limit_minutes=20,
                easy_count=4,
                medium_count=0,
                hard_count=0,
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
                appeal_window_hours=window_hours,
                period_id=period_id,
            ),
            student_ids=[student.id],
            created_by_user_id=None,
            now=now,
            tz=app.settings.tz,
        )
        attempt, _created = await testing_svc.start_attempt(session, student.id, test.id, now)
        aqs = list(
            await session.scalars(
                select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)
            )
        )
        for aq in aqs:
            options = list(
                await session.scalars(
                    select(QuestionOption).where(QuestionOption.id.in_(aq.option_ids))
                )
            )
            is_wrong = any(o.text.startswith(wrong) for o in options) if wrong else False
            pick = next(o for o in options if o.is_correct != is_wrong)
            aq.chosen = [pick.id]
            aq.answered_at = now
        await session.flush()
        await testing_svc.finish_attempt(session, attempt, now, FinishReason.submitted)
        return attempt.id


async def wrong_ids(app: App, attempt_id: int) -> dict[str, int]:
    """Attempt-question ids by the first word of the question, for wrong answers only."""
    async with app.db.read() as session:
        rows = await session.execute(
            select(AttemptQuestion.id, AttemptQuestion.is_correct, AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt_id)
            .order_by(AttemptQuestion.position)
        )
        out = {}
        from db.models.testing import Question

        for aq_id, ok, qid in rows:
            text = await session.scalar(select(Question.text).where(Question.id == qid))
            out[("ok:" if ok else "") + text.split()[0]] = aq_id
        return out


async def items(app: App, attempt_id: int) -> list[AppealItem]:
    async with app.db.read() as session:
        rows = list(
            await session.scalars(
                select(AppealItem)
                .join(Appeal, Appeal.id == AppealItem.appeal_id)
                .where(Appeal.attempt_id == attempt_id)
                .order_by(AppealItem.id)
            )
        )
        session.expunge_all()
        return rows


async def open_appeal(app: App, client, name: str = "Appealable work") -> None:
    await client.click("Appeals")
    await client.click(name)


async def test_appeal_offered_after_the_result(demo_app: App) -> None:
    """Finishing a test with wrong answers asks whether to appeal; yes opens the appeal."""
    async with demo_app.db.write() as session:
        await session.execute(delete(OnlineTestTarget))
    attempt_id = await make_attempt(demo_app)
    client = await demo_app.signed_in(*STUDENT)
    await client.click_data(f"qz:res:{attempt_id}:0")
    text = client.last_message().text
    assert "Test score: 50" in text
    assert "Do you want to file an appeal?" in text
    assert {"Yes, file an appeal", "No"} <= set(client.buttons())
    await client.click("No")
    assert "Do you want to file an appeal?" not in client.last_message().text
    await client.click_data(f"qz:res:{attempt_id}:0")
    await client.click("Yes, file an appeal")
    text = client.last_message().text
    assert "Appeal: Appealable work" in text
    assert "Beta question" in text and "Your answer: Beta wrong" in text
    assert "Delta question" in text and "Alpha question" not in text
    assert "1 d 0 h 0 min left" in text


async def test_no_offer_without_a_window(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app, window_hours=0)
    client = await demo_app.signed_in(*STUDENT)
    await client.click_data(f"qz:res:{attempt_id}:0")
    assert "Test score: 50" in client.last_message().text
    assert "Do you want to file an appeal?" not in client.last_message().text
    await client.click_data(AplCb(a="at", i=attempt_id).pack())
    assert "This test does not allow appeals." in client.last_message().text
    assert not any(b.startswith("☐") for b in client.buttons())


async def test_passed_tests_table_and_countdown(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    demo_app.clock.advance(hours=2, minutes=30)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Appeals")
    text = client.last_message().text
    assert "Passed tests" in text and "Tests for the period:" in text
    block = text[text.index("Appealable work") :]
    assert "Questions (easy / medium / hard): 4 / 0 / 0" in block
    assert "Correct answers: 2 / 0 / 0" in block
    assert "Correct with appeal: —" in block
    assert "Score: 50" in block
    assert "Appeal possible for 21 h 30 min more" in block
    # The demo's decided appeal shows its "correct with appeal" columns.
    decided = text[text.index(DECIDED_TEST) :]
    assert "Correct answers: 2 / 0 / 1" in decided
    assert "Correct with appeal: 3 / 0 / 1" in decided
    assert "Score: 80" in decided
    await client.click("Appealable work")
    assert f"ap:tg:{await first_wrong(demo_app, attempt_id)}" in str(
        client.last_message().reply_markup
    )


async def first_wrong(app: App, attempt_id: int) -> int:
    ids = await wrong_ids(app, attempt_id)
    return min(v for k, v in ids.items() if not k.startswith("ok:"))


async def test_filing_two_wrong_questions_with_a_comment(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    ids = await wrong_ids(demo_app, attempt_id)
    client = await demo_app.signed_in(*STUDENT)
    await open_appeal(demo_app, client)
    positions = {}
    for word in ("Beta", "Delta"):
        screen = client.last_message().text
        block = screen[: screen.index(f"{word} question")]
        positions[word] = int(block.rsplit("Question ", 1)[1].split("<", 1)[0].split()[0])
    # Nothing selected: no "File" button yet.
    assert not any(b.startswith("📨") for b in client.buttons())
    await client.click(f"☐ Question {positions['Beta']}")
    await client.click(f"☐ Question {positions['Delta']}")
    assert "📨 File the appeal (2)" in client.buttons()
    await client.click_data(AplCb(a="cm", i=ids["Beta"]).pack())
    assert "Send a short comment to question" in client.last_message().text
    await client.send("x" * 301)
    assert "The comment is too long" in client.last_message().text
    await client.send("Both <options> & wordings are right")
    assert "Comment saved." in [m.text for m in client.messages()][-2]
    assert "Your comment: Both <options> & wordings are right" in (client.last_message().text)
    await client.click("📨 File the appeal (2)")
    assert "The appeal is filed: 2" in client.last_answer().text
    rows = await items(demo_app, attempt_id)
    assert [(r.attempt_question_id, r.status) for r in rows] == sorted(
        [(ids["Beta"], AppealItemStatus.pending), (ids["Delta"], AppealItemStatus.pending)]
    )
    assert {r.attempt_question_id: r.comment for r in rows}[ids["Beta"]] == (
        "Both <options> & wordings are right"
    )
    text = client.last_message().text
    assert text.count("Appealed, awaiting a decision") == 2
    assert not any(b.startswith("☐") for b in client.buttons())
    async with demo_app.db.read() as session:
        appeal = await session.scalar(select(Appeal).where(Appeal.attempt_id == attempt_id))
        assert appeal.score_before == Decimal("50.00")
        assert (appeal.easy_correct_before, appeal.medium_correct_before) == (2, 0)
    # The same question again, by a forged press: refused, nothing added.
    await client.click_data(AplCb(a="tg", i=ids["Beta"]).pack())
    assert "already been appealed" in client.last_answer().text
    async with demo_app.db.write() as session:
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        with pytest.raises(DomainError) as refused:
            await svc.file_appeal(
                session, student.id, attempt_id, {ids["Beta"]: None}, demo_app.clock.now()
            )
        assert refused.value.code == "appeal_already_filed"
    assert len(await items(demo_app, attempt_id)) == 2


async def test_filing_refused_after_the_window(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    ids = await wrong_ids(demo_app, attempt_id)
    client = await demo_app.signed_in(*STUDENT)
    await open_appeal(demo_app, client)
    await client.click_data(AplCb(a="tg", i=ids["Beta"]).pack())
    assert "📨 File the appeal (1)" in client.buttons()
    demo_app.clock.advance(hours=24, seconds=1)
    await client.click("📨 File the appeal (1)")
    assert client.last_answer().text == "The appeal window of this test has closed."
    assert await items(demo_app, attempt_id) == []
    await client.click("« Passed tests")
    await client.click("Appealable work")
    text = client.last_message().text
    assert "The appeal window closed on" in text
    assert not any(b.startswith(("☐", "☑", "📨")) for b in client.buttons())


async def test_withdrawal_while_undecided(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    ids = await wrong_ids(demo_app, attempt_id)
    client = await demo_app.signed_in(*STUDENT)
    await open_appeal(demo_app, client)
    await client.click_data(AplCb(a="tg", i=ids["Beta"]).pack())
    await client.click("📨 File the appeal (1)")
    await client.click("↩️ Withdraw the appeal")
    assert "Withdraw the undecided questions of your appeal (1)?" in client.last_message().text
    await client.click("Yes, withdraw")
    assert client.last_answer().text == "Withdrawn: 1"
    (row,) = await items(demo_app, attempt_id)
    assert row.status == AppealItemStatus.withdrawn and row.withdrawn_at is not None
    assert row.active_marker is None
    assert "↩️ Withdraw the appeal" not in client.buttons()
    # A stale "Yes, withdraw" changes nothing more.
    await client.click_data(AplCb(a="wdy", i=attempt_id).pack())
    assert client.last_answer().text == "There is nothing undecided to withdraw."
    # Withdrawn, the question may be filed again while the window is open.
    await client.click_data(AplCb(a="tg", i=ids["Beta"]).pack())
    await client.click("📨 File the appeal (1)")
    rows = await items(demo_app, attempt_id)
    assert [r.status for r in rows] == [AppealItemStatus.withdrawn, AppealItemStatus.pending]


async def test_forged_payloads_are_refused(demo_app: App) -> None:
    """Someone else's attempt, a correctly answered question, a made-up id: refused."""
    mine = await make_attempt(demo_app)
    async with demo_app.db.read() as session:
        other_login = await session.scalar(
            select(User.login)
            .join(Student, Student.user_id == User.id)
            .where(User.login != STUDENT[0])
            .limit(1)
        )
    theirs = await make_attempt(demo_app, login=other_login, name="Their work")
    their_ids = await wrong_ids(demo_app, theirs)
    my_ids = await wrong_ids(demo_app, mine)
    client = await demo_app.signed_in(*STUDENT)
    await client.click_data(AplCb(a="at", i=theirs).pack())
    assert client.last_answer().text == "This appeal is not available."
    await client.click_data(AplCb(a="tg", i=their_ids["Beta"]).pack())
    assert client.last_answer().text == "This appeal is not available."
    await client.click_data(AplCb(a="file", i=theirs).pack())
    assert client.last_answer().text == "This appeal is not available."
    await client.click_data(AplCb(a="tg", i=my_ids["ok:Alpha"]).pack())
    assert "Only wrongly answered questions" in client.last_answer().text
    await client.click_data(AplCb(a="tg", i=999_999).pack())
    assert client.last_answer().text == "This appeal is not available."
    await client.click_data("ap:zz:1:0")
    assert "no longer available" in client.last_answer().text
    # The service refuses a correct question even when the selection itself is forged.
    student = await student_row(demo_app)
    async with demo_app.db.write() as session:
        for forged in ({my_ids["ok:Alpha"]: None}, {their_ids["Beta"]: None}):
            with pytest.raises(DomainError) as refused:
                await svc.file_appeal(session, student.id, mine, forged, demo_app.clock.now())
            assert refused.value.code == "appeal_not_wrong"
    assert await items(demo_app, mine) == []


async def test_staff_only_actions_refused_to_a_student(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    ids = await wrong_ids(demo_app, attempt_id)
    student = await student_row(demo_app)
    async with demo_app.db.write() as session:
        await svc.file_appeal(
            session, student.id, attempt_id, {ids["Beta"]: None}, demo_app.clock.now()
        )
    (item,) = await items(demo_app, attempt_id)
    client = await demo_app.signed_in(*STUDENT)
    await client.click_data(f"ar:dc:{item.id}:1")
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data(f"ar:ap:{item.appeal_id}:0")
    assert client.last_answer().text == "This button is no longer available."
    assert "⚖️ Appeals to review" not in client.buttons()
    (after,) = await items(demo_app, attempt_id)
    assert after.status == AppealItemStatus.pending and after.decided_by_user_id is None
    async with demo_app.db.write() as session:
        who = svc.Reviewer(user_id=student.user_id, role=Role.student, teacher_id=None)
        with pytest.raises(DomainError) as refused:
            await svc.decide(session, who, item.id, True, None, demo_app.clock.now())
        assert refused.value.code == "appeal_not_reviewer"


async def test_demo_appeals(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Appeals")
    text = client.last_message().text
    assert OPEN_TEST in text and DECIDED_TEST in text
    await client.click(DECIDED_TEST)
    text = client.last_message().text
    assert "Appeal accepted" in text and "Appeal rejected" in text
    assert "Reviewer's comment:" in text
    await client.click("« Passed tests")
    await client.click(OPEN_TEST)
    assert "left (until" in client.last_message().text
    assert sum(b.startswith("☐") for b in client.buttons()) == 2


async def test_period_picker(demo_app: App) -> None:
    await make_attempt(demo_app)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("Appeals")
    await client.click("📅 Period")
    assert "Choose the period:" in client.last_message().text
    labels = [b for b in client.buttons() if "–" in b]
    assert len(labels) >= 2
    # An older period has none of this week's tests.
    await client.click(labels[-1])
    assert "Appealable work" not in client.last_message().text


async def test_reminder_before_the_window_closes_once(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    ctx = JobContext(
        db=demo_app.db,
        bot=demo_app.bot,
        i18n=demo_app.i18n,
        settings=demo_app.settings,
        clock=demo_app.clock,
    )

    async def reminders() -> list[Delivery]:
        async with demo_app.db.read() as session:
            rows = list(
                await session.scalars(
                    select(Delivery).where(Delivery.template == "appeals.closing")
                )
            )
            session.expunge_all()
            return rows

    await remind_appeal_windows_closing(ctx)
    assert [r.ref_id for r in await reminders() if r.ref_id == attempt_id] == []
    demo_app.clock.advance(hours=21, minutes=30)
    await remind_appeal_windows_closing(ctx)
    await remind_appeal_windows_closing(ctx)
    mine = [r for r in await reminders() if r.ref_id == attempt_id]
    assert len(mine) == 1 and mine[0].dedupe_key == f"appeal-closing:{attempt_id}"
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        rendered = render("appeals.closing", mine[0].params, "en")
    assert "The appeal window of the test «Appealable work»" in rendered.text
    # Fully appealed attempts are not reminded.
    other = await make_attempt(demo_app, name="Second work")
    ids = await wrong_ids(demo_app, other)
    student = await student_row(demo_app)
    async with demo_app.db.write() as session:
        await svc.file_appeal(
            session,
            student.id,
            other,
            {v: None for k, v in ids.items() if not k.startswith("ok:")},
            demo_app.clock.now(),
        )
    demo_app.clock.advance(hours=22)
    await remind_appeal_windows_closing(ctx)
    assert not [r for r in await reminders() if r.ref_id == other]


async def test_window_starts_when_held_results_are_released(demo_app: App) -> None:
    attempt_id = await make_attempt(demo_app)
    async with demo_app.db.write() as session:
        attempt = await session.get(Attempt, attempt_id)
        test = await session.get(testing_svc.OnlineTest, attempt.test_id)
        test.results_after_close = True
        assert svc.appeal_deadline(test, attempt) is None
        released = demo_app.clock.now() + timedelta(days=1)
        test.results_released_at = released
        assert svc.appeal_deadline(test, attempt) == released + timedelta(hours=24)
        assert not svc.can_offer(test, attempt, released + timedelta(hours=24))
        assert svc.can_offer(test, attempt, released + timedelta(hours=23))
        await session.rollback()


def test_pages_keep_long_questions_under_the_limit() -> None:
    from bot.handlers.appeals import pack_pages

    blocks = ["a" * 1500, "b" * 1500, "c" * 100, "d" * 100, "e" * 3000]
    assert pack_pages(blocks, 3500, 6) == [[0, 1, 2, 3], [4]]
    assert pack_pages(["x"] * 7, 3500, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert pack_pages([], 3500, 3) == [[]]


async def test_offer_on_finishing_through_the_bot(demo_app: App) -> None:
    """The student presses "Finish" on an attempt with a wrong answer: the result asks."""
    now = demo_app.clock.now()
    async with demo_app.db.write() as session:
        discipline = await session.scalar(select(Discipline).where(Discipline.code == DISCIPLINE))
        student = await session.scalar(select(Student).join(User).where(User.login == STUDENT[0]))
        bank = await testing_svc.get_or_create_bank(session, discipline.id, "Appeals", None, now)
        parsed = parse_bank("b.txt", BANK.encode())
        await testing_svc.import_questions(session, bank.id, parsed.questions, Difficulty.medium)
        test = await testing_svc.create_test(
            session,
            testing_svc.TestSpec(
                name="Finish me",
                discipline_id=discipline.id,
                bank_id=bank.id,
                control=ControlKind.current,
                time_limit_minutes=20,
                easy_count=2,
                medium_count=0,
                hard_count=0,
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
            ),
            student_ids=[student.id],
            created_by_user_id=None,
            now=now,
            tz=demo_app.settings.tz,
        )
        attempt, _created = await testing_svc.start_attempt(session, student.id, test.id, now)
        attempt_id = attempt.id
    client = await demo_app.signed_in(*STUDENT)
    # Unanswered questions count as wrong.
    await client.click_data(f"qz:end:{attempt_id}:0")
    text = client.last_message().text
    assert "Test score: 0" in text and "Do you want to file an appeal?" in text
    await client.click("Yes, file an appeal")
    text = client.last_message().text
    assert "Appeal: Finish me" in text and text.count("Your answer: no answer") == 2
