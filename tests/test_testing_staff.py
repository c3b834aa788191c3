"""Testing, the staff side: banks imported from files, the test dialogue, rights, results."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.testing import StaffCb
from bot.services import testing as svc
from bot.services.question_import import ProblemReason, parse_bank
from db.models import Discipline, Group, Role, Student, Teacher, User
from db.models.delivery import Delivery
from db.models.testing import ControlKind, Difficulty, OnlineTest, Question, QuestionBank
from tests.conftest import App
from tests.test_testing import STUDENT, make_test, start

STAFF = DEMO_ACCOUNTS["staff"]
TEACHER = DEMO_ACCOUNTS["teacher"]

PLATONUS = """<question1>What is 2 + 2?
<variant>4
<variant>5
<question>A question without options
<question2>Pick the primes
<variantright>2
<variantright>3
<variant>4
<question3>Which is a fruit?
<variant>Apple
<variant>Carrot
<variant>Potato
"""
GIFT = """::Q1:: Capital of France? {=Paris ~Berlin ~Rome}

::Q2:: Even numbers {~%50%2 ~%50%4 ~%-100%3}

::Q3:: Broken {}
"""
AIKEN = """Which planet is red?
A. Mars
B. Venus
ANSWER: A

A question with no answer line
A. Yes
B. No
"""


async def open_banks(client, code: str = "DBS2201") -> None:
    await client.click("Tests (staff)")
    await client.click("Question banks")
    while True:
        try:
            await client.click(code)
            return
        except AssertionError:
            await client.click("›")


async def bank_questions(app: App, code: str = "DBS2201") -> int:
    async with app.db.read() as session:
        return await session.scalar(
            select(func.count())
            .select_from(Question)
            .join(QuestionBank)
            .join(Discipline)
            .where(Discipline.code == code, QuestionBank.name == "Main")
        )


async def test_import_a_bank_file_sent_to_the_bot(demo_app: App) -> None:
    client = await demo_app.signed_in(*STAFF)
    await open_banks(client)
    await client.click("Import questions from a file")
    assert "&lt;question&gt;" in (client.last_message().raw_text or "")

    await client.send_document("bank.txt", PLATONUS.encode())
    report = client.last_message().text
    assert "Questions imported: 3" in report
    assert "Refused: 1" in report
    assert "line 4: no options" in report
    assert await bank_questions(demo_app) == 3

    # The same file again: every question is a duplicate, nothing is stored twice.
    await client.click("Import another file")
    await client.send_document("bank.txt", PLATONUS.encode())
    report = client.last_message().text
    assert "Questions imported: 0" in report and "Refused: 4" in report
    assert "line 1: a duplicate question" in report
    assert await bank_questions(demo_app) == 3

    # GIFT and Aiken, with their broken items reported by line.
    await client.click("Import another file")
    await client.send_document("moodle.gift", GIFT.encode())
    report = client.last_message().text
    assert "Questions imported: 2" in report and "line 5:" in report
    await client.click("Import another file")
    await client.send_document("quiz.aiken", AIKEN.encode())
    report = client.last_message().text
    assert "Questions imported: 1" in report and "Refused: 1" in report
    assert await bank_questions(demo_app) == 6

    # A .docx in the Platonus format.
    doc = Document()
    for line in ("<question1>Docx question", "<variant>Right", "<variant>Wrong"):
        doc.add_paragraph(line)
    buffer = io.BytesIO()
    doc.save(buffer)
    await client.click("Import another file")
    await client.send_document("bank.docx", buffer.getvalue(), caption="Docx bank")
    assert "Questions imported: 1" in client.last_message().text
    async with demo_app.db.read() as session:
        bank = await session.scalar(select(QuestionBank).where(QuestionBank.name == "Docx bank"))
        assert bank is not None
        assert (await svc.bank_counts(session, bank.id))[Difficulty.easy] == 1

    # A wrong file type and a text message are refused with an explanation.
    await client.click("Import another file")
    await client.send_document("photo.png", b"\x89PNG....")
    assert "not supported" in client.last_message().text
    await client.send("just text")
    assert "as a file" in client.last_message().text
    await client.send_document("broken.docx", b"PK\x03\x04 not really a zip")
    assert "the file cannot be read" in client.last_message().text
    assert await bank_questions(demo_app) == 6


async def test_multiple_answer_questions_import_with_their_correct_sets(demo_app: App) -> None:
    parsed = parse_bank("b.txt", PLATONUS.encode())
    assert [p.reason for p in parsed.problems] == [ProblemReason.no_options]
    async with demo_app.db.write() as session:
        discipline = await session.scalar(select(Discipline).where(Discipline.code == "NET2203"))
        bank = await svc.get_or_create_bank(
            session, discipline.id, "X", None, demo_app.clock.now()
        )
        outcome = await svc.import_questions(session, bank.id, parsed.questions)
        assert outcome.added == 3
        primes = await session.scalar(select(Question).where(Question.text == "Pick the primes"))
        await session.refresh(primes, ["options"])
        assert primes.kind == "multiple"
        assert [o.is_correct for o in primes.options] == [True, True, False]


async def test_guided_dialogue_creates_and_assigns_a_test(demo_app: App) -> None:
    await make_test(demo_app)  # puts the "Known" bank of 2 easy + 1 hard on DBS2201
    client = await demo_app.signed_in(*STAFF)
    await client.click("Tests (staff)")
    await client.click("New test")
    while True:
        try:
            await client.click("DBS2201")
            break
        except AssertionError:
            await client.click("›")
    await client.click("Known")
    await client.send("Midterm 2 quiz")
    await client.click("Midterm control 2")
    await client.send("forty")
    assert "whole number" in client.last_message().text
    await client.send("40")
    assert "easy 2, medium 0, hard 1" in client.last_message().text
    await client.send("3 0 1")
    assert "too few easy questions: 2, the test needs 3" in client.last_message().text
    await client.send("2 0 1")
    await client.send("tomorrow")
    assert "20.05.2026 10:00 - 20.05.2026 18:00" in client.last_message().text
    now = demo_app.clock.now().astimezone(demo_app.settings.tz)
    start, end = (
        now.strftime("%d.%m.%Y %H:%M"),
        (now.replace(year=now.year + 1)).strftime("%d.%m.%Y %H:%M"),
    )
    await client.send(f"{end} - {start}")
    assert "must end after it starts" in client.last_message().text
    await client.send(f"{start} - {end}")
    assert "Step 8" in client.last_message().text
    await client.click("Attempts allowed: 1")
    await client.click("Shuffle options: ✅")
    await client.click("Results: at once")
    assert "Results: after the window closes" in client.buttons()
    await client.click("Appeal window: 24 h")
    await client.click("Next: assign")
    async with demo_app.db.read() as session:
        group = await session.scalar(
            select(Group).join(Student).where(Student.student_no.like("S%0001")).limit(1)
        )
        other = await session.scalar(select(Student).where(Student.group_id != group.id).limit(1))
        group_code, other_no, other_id = group.code, other.student_no, other.id
    await client.click(group_code)
    await client.click("Students by record-book number")
    await client.send(f"{other_no} NO-SUCH-1")
    assert "Not found: NO-SUCH-1" in [m.text for m in client.messages()][-2]
    await client.click("Create the test")
    assert "is created and assigned" in client.last_message().text

    async with demo_app.db.read() as session:
        test = await session.scalar(select(OnlineTest).where(OnlineTest.name == "Midterm 2 quiz"))
        assert test.control == ControlKind.midterm2
        assert test.time_limit_minutes == 40
        assert (test.easy_count, test.medium_count, test.hard_count) == (2, 0, 1)
        assert test.attempts_allowed == 2
        assert not test.shuffle_options and test.shuffle_questions
        assert test.results_after_close
        assert test.appeal_window_hours == 48
        assert {t.group_id for t in await session.run_sync(lambda s: test.targets)} >= {group.id}
        users = await svc.assigned_user_ids(session, test.id)
        queued = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.template == "testing.assigned", Delivery.ref_id == test.id)
        )
        assert queued == len(users) > 1
        assert other_id in {t.student_id for t in await session.run_sync(lambda s: test.targets)}

    # The results overview lists every assigned student.
    await client.click("Open the test")
    assert "Assigned: " in client.last_message().text
    await client.click("Results by student")
    assert "not started yet" in client.last_message().text


async def test_results_overview_shows_scores(demo_app: App) -> None:
    await make_test(demo_app)
    student = await start(demo_app)
    await student.click("Finish")
    await student.click("Yes, finish")
    client = await demo_app.signed_in(*STAFF)
    await client.click("Tests (staff)")
    await client.click("Tests and results")
    await client.click("Control work")
    assert "started: 1 · finished: 1" in client.last_message().text
    await client.click("Results by student")
    assert "Қасымов Әлихан" in client.last_message().text
    assert "score 0 (0 of 3), attempt 1" in client.last_message().text


async def test_teacher_works_only_with_own_disciplines(demo_app: App) -> None:
    client = await demo_app.signed_in(*TEACHER)
    async with demo_app.db.read() as session:
        teacher = await session.scalar(select(Teacher).join(User).where(User.login == TEACHER[0]))
        mine = await svc.manageable_discipline_ids(session, Role.teacher, teacher.id)
        foreign = await session.scalar(
            select(Discipline.id).where(Discipline.id.not_in(mine or [0])).limit(1)
        )
        assert mine is not None and foreign is not None
    await client.click("Tests (staff)")
    await client.click("Question banks")
    shown = " ".join(client.buttons())
    async with demo_app.db.read() as session:
        codes = {d.id: d.code for d in await session.scalars(select(Discipline))}
    assert codes[foreign] not in shown
    # A forged press on a discipline the teacher does not teach.
    await client.click_data(StaffCb(a="imp", i=foreign).pack())
    assert client.last_answer().text == "You do not teach this discipline."
    await client.click_data(StaffCb(a="nd", i=foreign).pack())
    assert client.last_answer().text == "You do not teach this discipline."


async def test_students_cannot_use_staff_screens(demo_app: App) -> None:
    async with demo_app.db.read() as session:
        tests_before = await session.scalar(select(func.count()).select_from(OnlineTest))
    client = await demo_app.signed_in(*STUDENT)
    assert "🧪 Tests (staff)" not in client.buttons()
    await client.click_data(StaffCb(a="new").pack())
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data(StaffCb(a="nx").pack())
    assert client.last_answer().text == "This button is no longer available."
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(OnlineTest)) == tests_before


async def test_staff_edits_the_rules_students_read(demo_app: App) -> None:
    staff = await demo_app.signed_in(*STAFF)
    await staff.click("Tests (staff)")
    await staff.click("Rules of testing")
    await staff.click("Edit: English")
    await staff.send("Phones away. <No notes>.")
    assert "The rules are saved." in staff.last_message().text
    student = await demo_app.signed_in(*STUDENT)
    await student.click("Testing")
    await student.click("Рубежный")
    await student.click("Rules of testing")
    assert "Phones away. <No notes>." in student.last_message().text
