"""Administration in the bot: importing a file with a dry run first, accounts (roles,
sub-roles, passwords, blocking), the audit log, and the staff command menu."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.demo.core import DEMO_ACCOUNTS
from bot.services import roles
from bot.services.auth import verify_password
from db.models import Discipline, Role, User
from db.models.admin import AuditEntry, SubRole
from tests.conftest import App

DISCIPLINES = (
    "code,name_kk,name_ru,name_en,credits\nNEW1001,Жаңа пән,Новая дисциплина,New Discipline,5\n"
).encode()
BAD_DISCIPLINES = ("code;name_ru;credits\r\nGOOD1;Хорошая;5\r\nBAD2;Плохая;сто\r\n").encode(
    "utf-8-sig"
)


async def admin(app: App, user_id: int | None = None):
    return await app.signed_in(*DEMO_ACCOUNTS["admin"], user_id=user_id)


def chat_commands(app: App, chat_id: int) -> list[str] | None:
    key = (json.dumps({"type": "chat", "chat_id": chat_id}, separators=(",", ":")), "")
    for (scope, lang), commands in app.session.commands.items():
        if json.loads(scope) == json.loads(key[0]) and lang == "":
            return [c["command"] for c in commands]
    return None


async def test_import_with_caption_dry_run_then_apply(demo_app: App) -> None:
    app = demo_app
    me = await admin(app)
    await me.send_document("disciplines.csv", DISCIPLINES, "text/csv", caption="дисциплины")
    text = me.last_message().text
    assert "check before saving" in text and "new: 1" in text and "NEW1001" in text
    async with app.db.read() as session:
        assert await session.scalar(select(Discipline).where(Discipline.code == "NEW1001")) is None
    apply = next(
        b.callback_data
        for row in me.last_message().reply_markup.inline_keyboard
        for b in row
        if b.text == "✅ Apply"
    )
    await me.click("✅ Apply")
    assert "saved" in me.last_message().text
    async with app.db.read() as session:
        new = await session.scalar(select(Discipline).where(Discipline.code == "NEW1001"))
        assert new.credits == 5 and new.name_kk == "Жаңа пән"
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "import.disciplines")
        )
        assert entry.actor_login == "demo.admin" and entry.details["created"] == 1
    # A second press of the old button finds the import finished.
    await me.click_data(apply)
    assert "already finished or cancelled" in me.last_answer().text


async def test_bad_row_refuses_until_skipped(demo_app: App) -> None:
    app = demo_app
    me = await admin(app)
    await me.send("/import")
    await me.send("not a file")
    assert "as a file" in me.last_message().text
    await me.send_document("d.csv", BAD_DISCIPLINES, "text/csv")
    await me.click("Disciplines")
    text = me.last_message().text
    assert "line 3, column «credits»: not a number «сто»" in text
    assert "✅ Apply" not in me.buttons()
    await me.click("⬜ Skip bad rows")
    assert "☑️ Skip bad rows" in me.buttons()
    await me.click("✅ Apply")
    async with app.db.read() as session:
        codes = set(
            await session.scalars(
                select(Discipline.code).where(Discipline.code.in_(["GOOD1", "BAD2"]))
            )
        )
        assert codes == {"GOOD1"}


async def test_wrong_file_and_cancel(demo_app: App) -> None:
    me = await admin(demo_app)
    await me.send("/import")
    await me.send_document("photo.xlsx", b"PK\x03\x04not really a workbook", None)
    assert "not a CSV or .xlsx table" in me.last_message().text
    await me.send_document("d.csv", DISCIPLINES, "text/csv")
    await me.click("✖ Cancel")
    assert "nothing was saved" in me.last_answer().text


async def test_new_students_passwords_sent_to_the_admin(demo_app: App) -> None:
    app = demo_app
    me = await admin(app)
    data = (
        "login,student_no,last_name,first_name,group\n"
        "new.student,S99990001,Әбенов,Нұрсұлтан,IS-25-1\n"
    )
    group = await _first_group(app)
    await me.send_document(
        "s.csv", data.replace("IS-25-1", group).encode(), "text/csv", caption="students"
    )
    await me.click("✅ Apply")
    document = me.last_message()
    assert document.document_name == "one-time-passwords.csv"
    assert document.protect_content
    line = document.document_bytes.decode("utf-8-sig").splitlines()[1].split(";")
    assert line[:5] == ["new.student", "Әбенов", "Нұрсұлтан", "", group]
    async with app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == "new.student"))
        assert user.must_change_password and await verify_password(user.password_hash, line[5])
    newcomer = await app.signed_in("new.student", line[5])
    assert "new password" in newcomer.last_message().text.lower()


async def _first_group(app: App) -> str:
    from db.models import Group, Student

    async with app.db.read() as session:
        return await session.scalar(
            select(Group.code)
            .join(Student, Student.group_id == Group.id)
            .join(User, User.id == Student.user_id)
            .where(User.login == "demo.student")
        )


async def test_not_for_students_or_teachers(demo_app: App) -> None:
    app = demo_app
    student = await app.signed_in(*DEMO_ACCOUNTS["student"])
    for command in ("/admin", "/import", "/accounts", "/audit"):
        await student.send(command)
        assert "administrators only" in student.last_message().text
    await student.click_data("adm:role:1:admin")
    assert "administrators only" in student.last_answer().text
    async with app.db.read() as session:
        user = await session.get(User, 1)
        assert user.role is Role.teacher
    teacher = await app.signed_in(*DEMO_ACCOUNTS["teacher"])
    await teacher.send_document("d.csv", DISCIPLINES, "text/csv", caption="disciplines")
    async with app.db.read() as session:
        assert await session.scalar(select(Discipline).where(Discipline.code == "NEW1001")) is None
    # Staff read the audit log but do not manage accounts.
    staff = await app.signed_in(*DEMO_ACCOUNTS["staff"])
    await staff.send("/audit")
    assert "Audit log" in staff.last_message().text
    await staff.send("/accounts")
    assert "administrators only" in staff.last_message().text


async def test_roles_sub_roles_block_reset_and_audit(demo_app: App) -> None:
    app = demo_app
    teacher = await app.signed_in(*DEMO_ACCOUNTS["teacher"])
    assert chat_commands(app, teacher.chat_id) is None
    me = await admin(app)
    assert "admin" in chat_commands(app, me.chat_id)
    await me.send("/accounts")
    await me.send("nobody.here")
    assert "no account with the login" in me.last_message().text
    await me.send("demo.teacher")
    card = me.last_message().text
    assert "Мұхамедиева Гүлнар Серікқызы" in card and "Role: teacher" in card

    await me.click("staff")
    assert "Role: staff" in me.last_message().text
    assert "signed out" in me.last_answer().text
    # A new role ends the Telegram session: the chat is told why and signs in again.
    assert "role in the AIS has been changed" in teacher.last_message().text
    await teacher.send("/menu")
    assert teacher.buttons() == ["Қазақша", "Русский", "English"]
    teacher = await app.signed_in(*DEMO_ACCOUNTS["teacher"], user_id=teacher.user_id)
    assert "audit" in chat_commands(app, teacher.chat_id)
    assert "admin" not in chat_commands(app, teacher.chat_id)
    await me.click("⬜ Registrar's office")
    assert "✅ Registrar's office" in me.buttons()
    async with app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == "demo.teacher"))
        assert await roles.has_sub_role(session, user.id, SubRole.registrar)
        assert not await roles.has_sub_role(session, user.id, SubRole.deans_office)
    await me.click("teacher")
    assert chat_commands(app, teacher.chat_id) is None
    async with app.db.read() as session:
        assert not await roles.has_sub_role(session, user.id, SubRole.registrar)

    teacher = await app.signed_in(*DEMO_ACCOUNTS["teacher"], user_id=teacher.user_id)
    await me.click("🚫 Block")
    assert "signed out" in me.last_answer().text
    assert "account has been blocked" in teacher.last_message().text
    await teacher.send("/menu")
    assert "Sign in" in teacher.last_message().text or "language" in teacher.last_message().text
    blocked = await app.signed_in(*DEMO_ACCOUNTS["teacher"])
    assert "blocked" in blocked.last_message().text
    await me.click("✅ Unblock")

    # A reset throws out whoever holds the account's Telegram session, and tells that chat.
    teacher = await app.signed_in(*DEMO_ACCOUNTS["teacher"], user_id=teacher.user_id)
    await me.click("🔑 Reset password")
    await me.click("🔑 Yes, reset")
    shown = me.last_message()
    assert shown.protect_content
    password = shown.text.split(": ", 1)[1].split("\n")[0].strip()
    assert "password has been reset" in teacher.last_message().text
    async with app.db.read() as session:
        user = await session.scalar(select(User).where(User.login == "demo.teacher"))
        assert user.must_change_password and not user.is_blocked
        assert user.telegram_id is None
        assert await verify_password(user.password_hash, password)
    await teacher.send("/menu")
    assert teacher.buttons() == ["Қазақша", "Русский", "English"]

    await me.send("/audit")
    log = me.last_message().text
    for words in (
        "password reset",
        "account unblocked",
        "account blocked",
        "role changed",
        "sub-role changed",
    ):
        assert words in log
    async with app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 6


async def test_admin_cannot_lock_themselves_out_and_audit_pages(demo_app: App) -> None:
    app = demo_app
    me = await admin(app)
    await me.send("/accounts")
    await me.send("demo.admin")
    await me.click("🚫 Block")
    assert "your own account" in me.last_answer().text
    await me.click("staff")
    assert "admin role from yourself" in me.last_answer().text
    for _ in range(12):
        await me.send("/accounts")
        await me.send("demo.staff")
        await me.click("Dean's office")
    await me.send("/audit")
    assert "1/2" in me.buttons()
    await me.click("›")
    assert "2/2" in me.buttons()
    await me.send("/logout")
    assert chat_commands(app, me.chat_id) is None
