"""Writing messages end to end: the guided dialogue, recipients, rights, preview, send, pushes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.methods import SendDocument, SendPhoto
from sqlalchemy import func, select

from bot.delivery.worker import DeliveryWorker
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.messages import ComposeCb, MailCb
from db.models import Group, Student, User
from db.models.delivery import Delivery, DeliveryStatus
from db.models.messaging import Message, MessageAttachment, MessageKind, MessageRecipient
from scheduler.context import JobContext
from scheduler.jobs.messages import report_finished_broadcasts
from tests.conftest import App

TZ = ZoneInfo("Asia/Almaty")


def at_noon(app: App) -> datetime:
    """Outside everyone's quiet hours, so pushes go out at once."""
    moment = datetime.combine(date.today(), time(12, 0), tzinfo=TZ)
    app.clock.set(moment)
    return moment


def worker(app: App) -> DeliveryWorker:
    return DeliveryWorker(app.bot, app.db, app.i18n, app.settings, app.clock)


async def user_id(app: App, login: str) -> int:
    async with app.db.read() as session:
        return await session.scalar(select(User.id).where(User.login == login))


async def test_letter_with_attachments_reaches_the_student(demo_app: App) -> None:
    at_noon(demo_app)
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])

    await teacher.send("/messages")
    await teacher.click("✍️ Write")
    assert teacher.buttons()[:2] == ["📨 Letter", "📋 Task"]
    assert not any("Announcement" in b for b in teacher.buttons())
    await teacher.click("📨 Letter")
    await teacher.send("Курстық жұмыс & тақырып")
    await teacher.send("Тақырыпты <b>жұмаға</b> дейін бекітіңіз.")
    await teacher.send_document("plan.pdf", b"%PDF-1.4 plan", "application/pdf")
    assert "Attached: 1 of 10" in teacher.last_message().text
    await teacher.send_photo(b"\xff\xd8photo-bytes")
    assert "Attached: 2 of 10" in teacher.last_message().text
    await teacher.click("Next ➡️")

    # The expiry: more than 30 days ahead is refused with the last allowed date.
    too_far = date.today() + timedelta(days=40)
    await teacher.send(too_far.strftime("%d.%m.%Y"))
    last = (date.today() + timedelta(days=30)).strftime("%d.%m.%Y")
    assert f"at most 30 days: choose a date no later than {last}" in teacher.last_message().text
    await teacher.send("not a date")
    assert "could not read this date" in teacher.last_message().text
    await teacher.click("In 7 days")

    # Recipients: a person found by a lower-case Kazakh part of the surname.
    assert "Recipients" in teacher.last_message().text
    await teacher.send("қасым")
    assert "Қасымов Әлихан" in teacher.buttons()[0]
    await teacher.click("Қасымов Әлихан")
    assert "Person: Қасымов Әлихан Ұлықбекұлы" in teacher.last_message().text
    await teacher.click("👁 Preview")
    preview = teacher.last_message().text
    assert "Курстық жұмыс & тақырып" in preview
    assert "Recipients: 1" in preview
    assert "Attachments: 2" in preview
    assert "<b>жұмаға</b>" in preview  # the teacher's text is shown as typed, not as markup
    await teacher.click("📤 Send")
    assert "✅ Sent: «Курстық жұмыс & тақырып». Recipients: 1." in teacher.last_message().text

    student_uid = await user_id(demo_app, DEMO_ACCOUNTS["student"][0])
    async with demo_app.db.read() as session:
        message = await session.scalar(
            select(Message).where(Message.subject == "Курстық жұмыс & тақырып")
        )
        message_id = message.id
        assert message.kind == MessageKind.letter
        assert message.expires_at.astimezone(TZ).date() == date.today() + timedelta(days=8)
        attachments = list(
            await session.scalars(
                select(MessageAttachment).where(MessageAttachment.message_id == message.id)
            )
        )
        assert [(a.media, a.file_name) for a in attachments] == [
            ("document", "plan.pdf"),
            ("photo", None),
        ]
        recipients = list(
            await session.scalars(
                select(MessageRecipient.user_id).where(MessageRecipient.message_id == message.id)
            )
        )
        assert recipients == [student_uid]
        delivery = await session.scalar(
            select(Delivery).where(Delivery.ref_type == "message", Delivery.ref_id == message.id)
        )
        assert delivery.user_id == student_uid
        assert delivery.template == "messages.new"
        assert delivery.kind == "letters"

    # The push arrives with an Open button; opening shows the letter and marks it read.
    await worker(demo_app).drain()
    push = student.last_message()
    assert "📨 New letter" in push.text
    assert "Курстық жұмыс & тақырып" in push.text
    await student.click("Open", push)
    letter = student.last_message()
    assert "Мұхамедиева Гүлнар" in letter.text
    assert "Тақырыпты <b>жұмаға</b> дейін бекітіңіз." in letter.text
    assert "plan.pdf" in letter.text
    async with demo_app.db.read() as session:
        read_at = await session.scalar(
            select(MessageRecipient.read_at).where(MessageRecipient.message_id == message_id)
        )
    assert read_at is not None

    # The attachments are re-sent by their file ids.
    sent = await student.click("📎 Attachments (2)")
    assert [type(r) for r in sent if isinstance(r, SendDocument | SendPhoto)] == [
        SendDocument,
        SendPhoto,
    ]
    files = [m for m in student.messages() if m.from_bot and m.media_type]
    assert files[-2].document_bytes == b"%PDF-1.4 plan"
    assert files[-1].photo_bytes == b"\xff\xd8photo-bytes"

    # The sender sees who read it and when.
    await teacher.send("/messages")
    await teacher.click("📨 Letters")
    await teacher.click("📤 Outbox")
    assert "read 1 of 1" in teacher.last_message().text
    await teacher.click("Курстық жұмыс")
    await teacher.click("👁 Who read it")
    assert "✓ Қасымов Әлихан Ұлықбекұлы — read" in teacher.last_message().text


async def test_student_writes_back_and_cannot_announce(demo_app: App) -> None:
    at_noon(demo_app)
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await student.send("/messages")
    await student.click("✍️ Write")
    # Students write letters only: the dialogue starts with the subject.
    assert "Letter" in student.last_message().text
    assert "Subject" in student.last_message().text

    # A forged press for an announcement or a task is refused.
    await student.click_data(ComposeCb(a="kind", v="a").pack())
    assert "not available to you" in student.last_answer().text
    await student.click_data(ComposeCb(a="kind", v="t").pack())
    assert "not available to you" in student.last_answer().text

    await student.send("Сұрақ")
    await student.click("Without text")
    await student.click("Next ➡️")
    await student.click("In 14 days")
    assert student.buttons()[:2] == ["👤 A person", "👥 My group"]
    # A forged target: everyone, or somebody else's group.
    await student.click_data(ComposeCb(a="tk", v="all").pack())
    assert "cannot send this kind of message" in student.last_answer().text
    async with demo_app.db.read() as session:
        own = await session.scalar(
            select(Student.group_id).join(User).where(User.login == DEMO_ACCOUNTS["student"][0])
        )
        other = await session.scalar(select(Group.id).where(Group.id != own).limit(1))
    await student.click_data(ComposeCb(a="pick", v="grp", n=other).pack())
    assert "only to their own group" in student.last_answer().text
    # The staff member is not among a student's contacts.
    await student.send("Төлегенова")
    assert "Nobody found" in student.last_message().text
    await student.click("✖️ Cancel")
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).where(Message.subject == "Сұрақ")) == 0

    # Writing back to the teacher's letter: the subject and the recipient are filled in.
    await student.send("/messages")
    await student.click("📨 Letters")
    await student.click("Курстық жұмыстың тақырыбы")
    await student.click("↩️ Write back")
    assert "Re: Курстық жұмыстың тақырыбы" in student.last_message().text
    await student.send("Рахмет, тақырыпты таңдадым.")
    await student.click("Next ➡️")
    await student.click("In 7 days")
    assert "Person: Мұхамедиева Гүлнар Серікқызы" in student.last_message().text
    await student.click("📤 Send")
    teacher_uid = await user_id(demo_app, DEMO_ACCOUNTS["teacher"][0])
    async with demo_app.db.read() as session:
        reply = await session.scalar(
            select(Message).where(Message.subject == "Re: Курстық жұмыстың тақырыбы")
        )
        assert reply.body == "Рахмет, тақырыпты таңдадым."
        to = await session.scalar(
            select(MessageRecipient.user_id).where(MessageRecipient.message_id == reply.id)
        )
    assert to == teacher_uid

    # Pressing «Send» of the finished draft again sends nothing more.
    await student.click_data(ComposeCb(a="send").pack())
    assert "no longer open" in student.last_answer().text
    async with demo_app.db.read() as session:
        assert (
            await session.scalar(
                select(func.count()).where(Message.subject == "Re: Курстық жұмыстың тақырыбы")
            )
            == 1
        )


async def test_teacher_sends_a_task_to_a_group(demo_app: App) -> None:
    at_noon(demo_app)
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.send("/messages")
    await teacher.click("✍️ Write")
    await teacher.click("📋 Task")
    await teacher.send("Эссе")
    await teacher.send("500 сөз.")
    await teacher.click("Next ➡️")
    await teacher.click("In 14 days")
    assert teacher.buttons()[:3] == [
        "👤 A person",
        "👥 A group",
        "🧩 A stream (programme and year)",
    ]
    await teacher.click("👥 A group")
    group_code = teacher.buttons()[0]
    await teacher.click(group_code)
    assert f"Group: {group_code}" in teacher.last_message().text
    await teacher.click("👁 Preview")
    async with demo_app.db.read() as session:
        members = set(
            await session.scalars(
                select(Student.user_id).join(Group).where(Group.code == group_code)
            )
        )
    assert f"Recipients: {len(members)}" in teacher.last_message().text
    await teacher.click("📤 Send")
    async with demo_app.db.read() as session:
        task = await session.scalar(select(Message).where(Message.subject == "Эссе"))
        assert task.task_status.value == "open"
        rows = (
            await session.execute(
                select(MessageRecipient.user_id, MessageRecipient.task_state).where(
                    MessageRecipient.message_id == task.id
                )
            )
        ).all()
        queued = await session.scalar(
            select(func.count()).where(Delivery.ref_id == task.id, Delivery.kind == "tasks")
        )
    assert {uid for uid, _ in rows} == members
    assert {state.value for _, state in rows} == {"received"}
    assert queued == len(members)


async def test_staff_announcement_progress_and_summary(demo_app: App) -> None:
    at_noon(demo_app)
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    staff = await demo_app.signed_in(*DEMO_ACCOUNTS["staff"])
    await staff.send("/messages")
    await staff.click("✍️ Write")
    await staff.click("📢 Announcement")
    await staff.send("Кітапхана жабық")
    await staff.send("Сенбі күні кітапхана жұмыс істемейді.")
    await staff.click("Next ➡️")
    await staff.click("In 7 days")
    assert "👤 A person" not in staff.buttons()
    await staff.click("🗂 A form of study")
    await staff.click("Full-time")
    await staff.click("🎓 All students")
    await staff.click("👁 Preview")
    async with demo_app.db.read() as session:
        students = await session.scalar(
            select(func.count()).select_from(Student).where(Student.status == "active")
        )
    assert f"Recipients: {students}" in staff.last_message().text
    await staff.click("📤 Send")
    await staff.click("📊 Delivery progress")
    progress = staff.last_message().text
    assert f"Recipients: {students}" in progress
    assert f"Waiting: {students}" in progress
    assert "In progress: 0%" in progress

    # Only the demo student has Telegram: one delivered, the rest cannot be sent.
    await worker(demo_app).drain()
    assert "📢 New announcement" in student.last_message().text
    await staff.click("🔄 Refresh")
    progress = staff.last_message().text
    assert "Delivered: 1" in progress
    assert "Waiting: 0" in progress
    assert f"Not sent (notifications off, no Telegram, expired): {students - 1}" in progress
    assert "✅ Finished." in progress

    ctx = JobContext(demo_app.db, demo_app.bot, demo_app.i18n, demo_app.settings, demo_app.clock)
    await report_finished_broadcasts(ctx)
    await report_finished_broadcasts(ctx)  # re-running reports nothing twice
    staff_uid = await user_id(demo_app, DEMO_ACCOUNTS["staff"][0])
    async with demo_app.db.read() as session:
        summaries = list(
            await session.scalars(
                select(Delivery.params).where(
                    Delivery.user_id == staff_uid, Delivery.template == "messages.broadcast_done"
                )
            )
        )
    assert len(summaries) == 1
    assert summaries[0]["delivered"] == 1
    await worker(demo_app).drain()
    assert "The announcement has been delivered" in staff.last_message().text


async def test_student_and_teacher_cannot_announce_by_forged_send(demo_app: App) -> None:
    """Even a draft smuggled into the FSM state is checked again when sent."""
    from bot.services.messaging import Draft

    at_noon(demo_app)
    student = await demo_app.signed_in(*DEMO_ACCOUNTS["student"])
    await student.send("/messages")
    await student.click("✍️ Write")
    await student.send("Барлығына")
    state = demo_app.dp.fsm.get_context(demo_app.bot, student.chat_id, student.user_id)
    forged = Draft(
        kind=MessageKind.announcement,
        subject="Барлығына",
        expires_on=date.today() + timedelta(days=3),
        targets=[("all", 0)],
    )
    await state.update_data(mail_draft=forged.to_dict())
    from bot.handlers.messages_compose import Compose

    await state.set_state(Compose.preview)
    await student.click_data(ComposeCb(a="send").pack())
    assert "not available to you" in student.last_answer().text
    async with demo_app.db.read() as session:
        assert (
            await session.scalar(select(func.count()).where(Message.subject == "Барлығына")) == 0
        )


async def test_bad_input_in_the_dialogue(demo_app: App) -> None:
    at_noon(demo_app)
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.send("/messages")
    await teacher.click("✍️ Write")
    await teacher.click("📨 Letter")
    await teacher.send("x" * 201)
    assert "The subject is too long: at most 200 characters." in teacher.last_message().text
    await teacher.send_photo(b"\xff\xd8not-a-subject")
    assert "type it as a text message" in teacher.last_message().text
    await teacher.send("Ұзын хат")
    await teacher.send("ж" * 4001)
    assert "The text is too long: 4001 characters, at most 4000" in teacher.last_message().text
    await teacher.send("ж" * 4000)
    assert "Attachments" in teacher.last_message().text
    await teacher.send("some text")
    assert "Send a document or a photo" in teacher.last_message().text
    for i in range(10):
        await teacher.send_document(f"f{i}.txt", b"x", "text/plain")
    await teacher.send_document("f11.txt", b"x", "text/plain")
    assert "At most 10 attachments" in teacher.last_message().text
    await teacher.click("Next ➡️")
    # A stale button from an earlier step does nothing.
    await teacher.click_data(ComposeCb(a="notext").pack())
    assert "another step" in teacher.last_answer().text
    await teacher.click("In 30 days")
    await teacher.send("қасымов")
    await teacher.click("Қасымов")
    await teacher.click("👁 Preview")
    # The 4000-character text fits the preview screen (cut, not refused).
    assert len(teacher.last_message().raw_text or "") <= 4096
    await teacher.click("✖️ Cancel")
    assert "not sent" in teacher.last_message().text
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count()).where(Message.subject == "Ұзын хат")) == 0
    # A forged mailbox button is answered politely.
    await teacher.click_data(MailCb(a="open", id=999999).pack())
    assert "not available" in teacher.last_answer().text


async def test_delivery_rows_skip_people_who_turned_letters_off(demo_app: App) -> None:
    from db.models.delivery import NotificationSettings

    at_noon(demo_app)
    student_uid = await user_id(demo_app, DEMO_ACCOUNTS["student"][0])
    async with demo_app.db.write() as session:
        session.add(NotificationSettings(user_id=student_uid, disabled_kinds=["letters"]))
    teacher = await demo_app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.send("/messages")
    await teacher.click("✍️ Write")
    await teacher.click("📨 Letter")
    await teacher.send("Үнсіз")
    await teacher.click("Without text")
    await teacher.click("Next ➡️")
    await teacher.click("In 7 days")
    await teacher.send("demo.student")
    await teacher.click("Қасымов")
    await teacher.click("👁 Preview")
    await teacher.click("📤 Send")
    async with demo_app.db.read() as session:
        message = await session.scalar(select(Message).where(Message.subject == "Үнсіз"))
        assert message.recipients_count == 1
        assert (
            await session.scalar(
                select(func.count()).where(
                    Delivery.ref_id == message.id, Delivery.status == DeliveryStatus.pending
                )
            )
            == 0
        )
        # Still in the mailbox, only not pushed.
        assert await session.scalar(
            select(MessageRecipient.id).where(MessageRecipient.message_id == message.id)
        )
