"""The transcript as an official document: the reader's language, a registry number, the QR
verification a stranger can use, revocation by the registrar's office, the signatory block."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from aiogram.enums import ChatAction
from aiogram.methods import SendChatAction
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.academic import TranscriptRevokeCb, traditional_label
from bot.services import service_centre as sc
from bot.services import transcript as svc
from db.models import Group, Programme, Student
from db.models.delivery import Delivery
from db.models.documents import IssuedTranscript
from scheduler.context import JobContext
from scheduler.jobs.service_centre import prune_document_checks
from tests.conftest import App
from tests.support.fake_session import BOT_USERNAME
from tests.test_journal import demo_student

STUDENT = DEMO_ACCOUNTS["student"]
STAFF = DEMO_ACCOUNTS["staff"]
TEACHER = DEMO_ACCOUNTS["teacher"]
LANGUAGES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def qr_codes(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        for image in page.images:
            found += [r.text for r in zxingcpp.read_barcodes(image.image)]
    return found


def squash(text: str) -> str:
    return " ".join(text.split())


async def _issued(app: App) -> list[IssuedTranscript]:
    async with app.db.read() as session:
        return list(await session.scalars(select(IssuedTranscript).order_by(IssuedTranscript.id)))


async def _get_pdf(app: App, locale: str):
    client = await app.signed_in(*STUDENT, language=LANGUAGES[locale])
    app.session.clear()
    await client.click_data("nav:transcript")
    await client.click_data("tr:pdf:0")
    return client, client.last_message()


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_transcript_is_in_the_readers_language_numbered_and_verifiable(
    demo_app: App, locale: str
) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.read() as session:
        data = await svc.transcript(session, student.id)
        full = await session.scalar(
            select(Student)
            .where(Student.id == student.id)
            .options(
                joinedload(Student.group)
                .joinedload(Group.programme)
                .joinedload(Programme.faculty),
                joinedload(Student.group).joinedload(Group.study_form),
            )
        )
    client, message = await _get_pdf(demo_app, locale)
    actions = demo_app.session.requests_of(SendChatAction)
    assert [a.action for a in actions] == [ChatAction.UPLOAD_DOCUMENT]

    [issued] = await _issued(demo_app)
    assert issued.locale == locale
    assert issued.number.startswith("TR-") and issued.number in message.caption
    assert message.document_name == f"transcript-{student.student_no}-{issued.number}.pdf"
    assert message.document_bytes == issued.pdf

    text = pdf_text(message.document_bytes)
    assert f"№ {issued.number}" in text
    group = full.group
    for value in (
        group.programme.faculty.name(locale),
        group.programme.name(locale),
        group.study_form.name(locale),
        sc.DEFAULT_NAME_FULL[locale],
        sc.DEFAULT_REGISTRAR_NAME,
        "М.О. / L.S. / М.П.",
    ):
        assert squash(value) in text, value
    for period in data.periods:
        for line in period.lines:
            assert squash(line.row.discipline.name(locale)) in text
    with demo_app.i18n.context(), demo_app.i18n.use_locale(locale):
        traditional = traditional_label("excellent")
        registrar = squash(
            demo_app.i18n.gettext("Head of the Office of the Registrar", locale=locale)
        )
    assert traditional in text
    assert registrar in text
    # Other languages' names of the same disciplines are not printed.
    other = "ru" if locale != "ru" else "en"
    first = data.periods[0].lines[0].row.discipline
    if first.name(other) != first.name(locale):
        assert squash(first.name(other)) not in text

    link = f"https://t.me/{BOT_USERNAME}?start=v_{issued.token}"
    assert link in qr_codes(message.document_bytes)

    # The same record again is the same document, sent by its Telegram file id.
    await client.click_data("tr:pdf:0")
    again = client.last_message()
    assert len(await _issued(demo_app)) == 1
    assert issued.number in again.caption
    assert again.document_bytes == issued.pdf


async def test_a_stranger_verifies_downloads_and_sees_it_revoked(demo_app: App) -> None:
    student_client, message = await _get_pdf(demo_app, "en")
    [issued] = await _issued(demo_app)

    stranger = demo_app.client(language_code="ru")  # never signed in
    await stranger.send(f"/start v_{issued.token}")
    text = stranger.last_message().text
    assert "Документ подлинный и действителен" in text
    assert issued.number in text and "Транскрипт" in text
    assert issued.holder_masked == "Ә*** Қ***" and issued.holder_masked in text
    assert "Қасымов" not in text and "Әлихан" not in text
    assert stranger.buttons() == ["⬇️ Скачать оригинал"]
    await stranger.click("⬇️ Скачать оригинал")
    assert stranger.last_message().document_bytes == message.document_bytes

    # The holder hears of the check (never of who made it).
    async with demo_app.db.read() as session:
        params = await session.scalar(
            select(Delivery.params).where(Delivery.template == "documents.transcript_verified")
        )
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        rendered = render("documents.transcript_verified", params, "en")
    assert issued.number in rendered.text and str(stranger.user_id) not in rendered.text

    # A teacher sees no revoke button, and a forged press changes nothing.
    teacher = await demo_app.signed_in(*TEACHER)
    await teacher.send(f"/start v_{issued.token}")
    assert "🚫 Revoke" not in teacher.buttons()
    await teacher.click_data(TranscriptRevokeCb(i=issued.id).pack())
    assert teacher.last_answer().text == "This is not available."
    assert (await _issued(demo_app))[0].revoked_at is None

    # The registrar's office revokes it, with a reason the holder is told.
    staff = await demo_app.signed_in(*STAFF)
    await staff.send(f"/start v_{issued.token}")
    await staff.click("🚫 Revoke")
    assert issued.number in staff.last_message().text
    await staff.send("   ")
    assert "Type the reason" in staff.last_message().text
    await staff.send("Issued with a wrong programme")
    assert "has been revoked" in staff.last_message().text
    [revoked] = await _issued(demo_app)
    assert revoked.revoked_at is not None
    assert revoked.revoke_reason == "Issued with a wrong programme"
    async with demo_app.db.read() as session:
        told = await session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.template == "documents.transcript_revoked"
            )
        )
    assert told == 1

    await stranger.send(f"/start v_{issued.token}")
    text = stranger.last_message().text
    assert "Документ отозван" in text
    assert "wrong programme" not in text  # the reason is for the holder, not for strangers
    await staff.click_data(TranscriptRevokeCb(i=issued.id).pack())
    assert staff.last_answer().text == "There is no valid document to revoke."

    # A revoked transcript is never sent again: the next one has a new number.
    await student_client.click_data("tr:pdf:0")
    issued_now = await _issued(demo_app)
    assert len(issued_now) == 2 and issued_now[1].number != issued.number
    assert issued_now[1].number in student_client.last_message().caption


async def test_an_unknown_token_is_not_found(demo_app: App) -> None:
    stranger = demo_app.client()
    await stranger.send("/start v_" + "Z" * 32)
    assert "No document was found" in stranger.last_message().text


async def test_an_entry_whose_pdf_never_came_is_dropped(demo_app: App) -> None:
    student = await demo_student(demo_app)
    async with demo_app.db.write() as session:
        loaded = await session.scalar(
            select(Student).where(Student.id == student.id).options(joinedload(Student.user))
        )
        reserved = await svc.reserve_transcript(
            session,
            student=loaded,
            locale="en",
            print_hash="x" * 64,
            now=demo_app.clock.now(),
            issued_on=demo_app.clock.now().date(),
        )
        token = reserved.token
    stranger = demo_app.client()
    await stranger.send(f"/start v_{token}")
    assert "No document was found" in stranger.last_message().text
    ctx = JobContext(
        db=demo_app.db,
        bot=demo_app.bot,
        i18n=demo_app.i18n,
        settings=demo_app.settings,
        clock=demo_app.clock,
    )
    await prune_document_checks(ctx)
    assert len(await _issued(demo_app)) == 1
    demo_app.clock.advance(hours=2)
    await prune_document_checks(ctx)
    assert await _issued(demo_app) == []
