"""Hostile uploads: every file is bounded before and while it is read, and reports stay short.

A zip bomb .docx, an .xlsx whose sharedStrings.xml inflates to tens of megabytes, a 4.9 MB
.txt of one question repeated, files over the cap (refused before a byte is downloaded),
a parse that runs out of time or memory, and attachments that are programs or too big.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from aiogram.methods import GetFile, SendDocument

from bot.demo.core import DEMO_ACCOUNTS
from bot.downloads import DownloadRefused, _CappedBuffer, download_bounded
from bot.importer.reader import FileProblem, read_table
from bot.services import question_import
from bot.services.bounded import BoundedRunError, run_bounded
from bot.services.uploads import (
    ATTACHMENT_MAX_BYTES,
    ArchiveProblem,
    attachment_refusal,
    check_archive,
)
from bot.testing_admin import CommandError, read_file
from tests.conftest import App
from tests.test_classrooms import _demo_room
from tests.test_testing_staff import open_banks

STAFF = DEMO_ACCOUNTS["staff"]
TEACHER = DEMO_ACCOUNTS["teacher"]
ADMIN = DEMO_ACCOUNTS["admin"]
STUDENT = DEMO_ACCOUNTS["student"]

QUESTION = "<question>What is two plus two?\n<variant>four\n<variant>five\n"


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb_docx() -> bytes:
    """339 KB-class .docx whose document.xml inflates to 95 MB."""
    body = b'<w:document xmlns:w="x"><w:body>' + b" " * 95_000_000 + b"</w:body></w:document>"
    return zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": body})


def huge_shared_strings_xlsx() -> bytes:
    """A small .xlsx whose sharedStrings.xml inflates to 60 MB."""
    strings = b"<sst>" + b"<si><t>aaaaaaaaaaaaaaaaaaaaaaaa</t></si>" * 1_700_000 + b"</sst>"
    return zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook/>",
            "xl/sharedStrings.xml": strings,
        }
    )


def last_document(client) -> bytes:
    """The bytes of the last document the bot sent to this chat."""
    found = [m for m in client.messages() if m.from_bot and m.document_bytes is not None]
    assert found, "the bot sent no document"
    return found[-1].document_bytes


async def at_bank_import(app: App):
    client = await app.signed_in(*STAFF)
    await open_banks(client)
    await client.click("Import questions from a file")
    return client


# ---------------------------------------------------------------------------- archives


def test_archive_guard_counts_declared_ratio_and_real_sizes() -> None:
    small = zip_of({"a.xml": b"<a>" + bytes(range(256)) * 40 + b"</a>"})
    check_archive(small, 1024 * 1024)
    # Declared sizes over the cap.
    with pytest.raises(ArchiveProblem) as caught:
        check_archive(zip_of({"a.xml": b"x" * 300_000}), 200_000)
    assert caught.value.reason == "too_large"
    # Within the cap, but 2 MB of zeros compressing a thousand times is a bomb.
    with pytest.raises(ArchiveProblem) as caught:
        check_archive(zip_of({"a.xml": bytes(2 * 1024 * 1024)}), 10 * 1024 * 1024)
    assert caught.value.reason == "too_large"
    with pytest.raises(ArchiveProblem) as caught:
        check_archive(b"PK\x03\x04 not a zip", 1024)
    assert caught.value.reason == "not_zip"


def test_lying_member_size_is_caught_while_inflating() -> None:
    """A member whose header claims a few bytes but inflates to more is refused."""
    data = bytearray(zip_of({"a.xml": b"y" * 50_000}))
    # Patch the declared uncompressed size in the local and the central header to 10 bytes.
    local = data.find(b"PK\x03\x04")
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveProblem):
        check_archive(bytes(data), 1000)


# ------------------------------------------------------------------------ question banks


async def test_zip_bomb_docx_bank_is_refused_at_once(demo_app: App) -> None:
    client = await at_bank_import(demo_app)
    bomb = zip_bomb_docx()
    assert len(bomb) < 400_000
    started = time.process_time()
    await client.send_document("bank.docx", bomb)
    spent = time.process_time() - started
    report = client.last_message().text
    assert "Questions imported: 0" in report
    assert "the whole file: the file cannot be read — archive unpacks too large" in report
    # Printed, never asserted against a target: the machine is shared.
    print(f"zip bomb refused in {spent:.2f} s of this process's CPU")


def test_zip_bomb_and_lying_docx_parse_bank_directly() -> None:
    result = question_import.parse_bank("bank.docx", zip_bomb_docx())
    assert [p.detail for p in result.problems] == ["archive unpacks too large"]


async def test_repeated_questions_give_a_short_report_and_one_file(demo_app: App) -> None:
    client = await at_bank_import(demo_app)
    data = (QUESTION * (int(4.9 * 2**20) // len(QUESTION))).encode()
    assert 4.8 * 2**20 < len(data) <= question_import.MAX_FILE_BYTES
    requests = await client.send_document("bank.txt", data)
    sent = [r for r in requests if type(r).__name__ in ("SendMessage", "SendDocument")]
    # Totals, 50 refused lines, the pointer to the file, and the file: not 1,496 messages.
    assert len(sent) <= 4
    screen = [m.text or "" for m in client.messages() if m.from_bot][-3:]
    assert sum(text.count("a duplicate question") for text in screen) == 50
    assert "the whole report is in the file below" in "".join(screen)
    assert len([r for r in requests if isinstance(r, SendDocument)]) == 1
    report = last_document(client).decode("utf-8")
    refused = len(data) // len(QUESTION) - 1
    assert report.count("a duplicate question") == refused
    assert f"refused {refused}" in report.splitlines()[0]


async def test_bank_over_the_cap_is_refused_before_download(demo_app: App) -> None:
    client = await at_bank_import(demo_app)
    requests = await client.send_document(
        "bank.txt", b"<question>x\n" * (question_import.MAX_FILE_BYTES // 12 + 1)
    )
    assert not any(isinstance(r, GetFile) for r in requests)
    assert "The file is too large: the limit is 5 MB." in client.last_message().text


async def test_a_parse_that_runs_out_of_time_is_stopped(
    demo_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(question_import, "PARSE_TIMEOUT_SECONDS", 0.001)
    client = await at_bank_import(demo_app)
    await client.send_document("bank.txt", QUESTION.encode())
    assert "took too long to read and was refused" in client.last_message().text


async def test_the_child_process_is_held_to_time_and_memory() -> None:
    with pytest.raises(BoundedRunError) as caught:
        await run_bounded(time.sleep, 30, time_limit=0.5)
    assert caught.value.reason == "timeout"
    with pytest.raises(BoundedRunError) as caught:
        await run_bounded(bytearray, 2 * 1024**3, time_limit=20, memory_bytes=512 * 1024**2)
    assert caught.value.reason == "memory"
    # The child's own exceptions come back as they are.
    with pytest.raises(FileProblem) as problem:
        await run_bounded(read_table, b"", "x.csv", time_limit=20)
    assert problem.value.reason == "empty"


# ------------------------------------------------------------------------ admin imports


def test_huge_shared_strings_xlsx_is_refused_before_openpyxl_reads_it() -> None:
    data = huge_shared_strings_xlsx()
    assert len(data) < 1024 * 1024
    with pytest.raises(FileProblem) as caught:
        read_table(data, "students.xlsx")
    assert caught.value.reason == "unpacks_too_big"


async def test_admin_import_of_a_hostile_xlsx(demo_app: App) -> None:
    admin = await demo_app.signed_in(*ADMIN)
    await admin.send("/import")
    await admin.send_document("students.xlsx", huge_shared_strings_xlsx(), caption="students")
    assert "unpacks to more than 40 MB" in admin.last_message().text


async def test_admin_import_over_the_cap_is_refused_before_download(demo_app: App) -> None:
    admin = await demo_app.signed_in(*ADMIN)
    await admin.send("/import")
    requests = await admin.send_document("big.csv", b"a,b\n" * (5 * 1024 * 1024 + 1))
    assert not any(isinstance(r, GetFile) for r in requests)
    assert "The file is larger than 20 MB." in admin.last_message().text


async def test_admin_problem_report_is_short_with_the_whole_report_as_a_file(
    demo_app: App,
) -> None:
    admin = await demo_app.signed_in(*ADMIN)
    await admin.send("/import")
    rows = "".join(f"BAD{n};Плохая;сто\r\n" for n in range(120))
    requests = await admin.send_document(
        "d.csv", ("code;name_ru;credits\r\n" + rows).encode(), "text/csv", caption="disciplines"
    )
    assert "…and 105 more: the whole report is in the file below." in "".join(
        m.text or "" for m in admin.messages()[-3:]
    )
    assert len([r for r in requests if isinstance(r, SendDocument)]) == 1
    report = last_document(admin).decode("utf-8")
    assert report.count("not a number «сто»") == 120


# --------------------------------------------------------------------------- attachments


@pytest.mark.parametrize(
    ("name", "mime", "size", "reason"),
    [
        ("setup.exe", None, 10, "executable"),
        ("notes.pdf.exe", "application/pdf", 10, "executable"),
        ("RUN.BAT", None, 10, "executable"),
        ("a.js", None, 10, "executable"),
        ("app.apk", None, 10, "executable"),
        ("tool.jar", None, 10, "executable"),
        ("x.ps1", None, 10, "executable"),
        ("install.sh", None, 10, "executable"),
        ("x.scr", None, 10, "executable"),
        ("x.msi", None, 10, "executable"),
        ("x.vbs", None, 10, "executable"),
        ("x.cmd", None, 10, "executable"),
        ("x.com", None, 10, "executable"),
        ("invoice.pdf", "application/x-msdownload", 10, "executable"),
        ("report.pdf", "application/pdf", ATTACHMENT_MAX_BYTES + 1, "too_big"),
        ("report.pdf", "application/pdf", ATTACHMENT_MAX_BYTES, None),
        ("photo.jpg", "image/jpeg", 1000, None),
        ("site.com.pdf", "application/pdf", 1000, None),
        ("setup.exe. .", None, 1000, "executable"),
        ("", None, 1000, None),
        (None, None, None, None),
    ],
)
def test_attachment_rules(
    name: str | None, mime: str | None, size: int | None, reason: str | None
) -> None:
    assert attachment_refusal(name, mime, size) == reason


async def _refused_everywhere(client) -> None:
    """Send a program, a program in disguise and a 21 MB file; each is refused in words and
    the dialogue stays where it was."""
    await client.send_document("setup.exe", b"MZ\x90\x00", "application/octet-stream")
    assert "Programs and scripts" in client.last_message().text
    await client.send_document("invoice.pdf", b"MZ\x90\x00", "application/x-msdownload")
    assert "Programs and scripts" in client.last_message().text
    big = b"%PDF" + bytes(ATTACHMENT_MAX_BYTES)
    requests = await client.send_document("scan.pdf", big, "application/pdf")
    assert "larger than 20 MB" in client.last_message().text
    assert not any(isinstance(r, GetFile) for r in requests)


async def test_message_attachments_are_bounded(demo_app: App) -> None:
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.send("/messages")
    await teacher.click("✍️ Write")
    await teacher.click("📨 Letter")
    await teacher.send("Subject")
    await teacher.send("Text")

    await _refused_everywhere(teacher)
    await teacher.send_document("plan.pdf", b"%PDF-1.4 plan", "application/pdf")
    assert "Attached: 1 of 10" in teacher.last_message().text


async def test_classroom_materials_are_bounded(demo_app: App) -> None:
    room_id = await _demo_room(demo_app)
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.click_data(f"cls:room:{room_id}:0:0:0:0:0:")
    await teacher.click("➕ Add material")
    await teacher.send("5 Indexes")

    await _refused_everywhere(teacher)
    await teacher.send_document("notes.txt", b"Indexes: B-trees.")
    assert "The material was added" in teacher.messages()[-2].text


async def test_service_centre_files_are_bounded(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    await client.click("🏛 Service centre")
    await client.click("ℹ️ Information support")
    await client.click("Academic leave and transfer")
    await client.click("Academic leave")
    await client.click("📝 Apply")
    await client.click("health")
    await client.send("15.01.2027")
    assert "Supporting document" in client.last_message().text

    await _refused_everywhere(client)
    await client.send_document("vkk.pdf", b"%PDF-1.4 medical", "application/pdf")
    assert "Check your" in client.last_message().text


async def test_download_checks_the_size_getfile_reports(app: App) -> None:
    """With no size in the update, the size getFile reports refuses the file before a byte of
    it is fetched; within the limit it comes whole."""
    stored = app.session.add_file(None, b"x" * 5000, "a.txt", kind="document")
    with pytest.raises(DownloadRefused) as caught:
        await download_bounded(app.bot, stored.file_id, None, 4999)
    assert caught.value.reason == "too_big"
    assert await download_bounded(app.bot, stored.file_id, None, 5000) == b"x" * 5000
    with pytest.raises(DownloadRefused) as caught:
        await download_bounded(app.bot, "no-such-file", None, 5000)
    assert caught.value.reason == "unavailable"


def test_the_bytes_are_counted_as_they_arrive() -> None:
    """A file bigger than announced is cut off at the limit while it streams."""
    buffer = _CappedBuffer(10)
    buffer.write(b"x" * 10)
    with pytest.raises(DownloadRefused):
        buffer.write(b"y")


def test_command_line_tools_refuse_big_files_before_reading(tmp_path) -> None:
    big = tmp_path / "bank.txt"
    with big.open("wb") as fh:
        fh.truncate(question_import.MAX_FILE_BYTES + 1)
    with pytest.raises(CommandError, match="the limit is 5 MB"):
        read_file(str(big), question_import.MAX_FILE_BYTES)


def test_admin_cli_refuses_a_big_import_before_reading(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.admin import main

    big = tmp_path / "students.csv"
    with big.open("wb") as fh:
        fh.truncate(20 * 1024 * 1024 + 1)
    assert main(["import", "students", str(big)]) != 0
    assert "larger than 20 MB" in capsys.readouterr().err


async def test_service_centre_staff_documents_are_bounded(demo_app: App) -> None:
    from tests.test_service_centre_staff import STAFF as QUEUE_STAFF
    from tests.test_service_centre_staff import _file, _open_in_queue

    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "transcript", "English")
    staff = await demo_app.signed_in(*QUEUE_STAFF)
    await _open_in_queue(staff, number)
    await staff.click("📎 Attach the document")
    await _refused_everywhere(staff)
    await staff.send_document("transcript.pdf", b"%PDF-1.4 transcript", "application/pdf")
    assert "has been issued" in staff.last_message().text
