"""Verification of issued documents by the deep link of their QR code, signed in or not."""

from __future__ import annotations

import io
from datetime import timedelta

import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.service_centre import VfCb
from bot.services import service_centre as sc
from db.models import Role
from db.models.delivery import Delivery
from db.models.services import DocumentCheck, IssuedDocument
from scheduler.context import JobContext
from scheduler.jobs.service_centre import prune_document_checks
from tests.conftest import App
from tests.support.fake_session import BOT_USERNAME

STUDENT = DEMO_ACCOUNTS["student"]
STAFF = DEMO_ACCOUNTS["staff"]


async def _demo_document(app: App) -> tuple[int, str, str]:
    async with app.db.read() as session:
        document = await session.scalar(select(IssuedDocument))
        return document.id, document.token, document.number


async def _verified_notices(app: App, document_id: int) -> int:
    async with app.db.read() as session:
        return await session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.template == "services.document_verified",
                Delivery.ref_id == document_id,
            )
        )


async def test_anyone_verifies_downloads_and_the_holder_is_told(demo_app: App) -> None:
    document_id, token, number = await _demo_document(demo_app)
    stranger = demo_app.client(language_code="ru")  # never signed in
    await stranger.send(f"/start v_{token}")
    text = stranger.last_message().text
    assert "Документ подлинный и действителен" in text
    assert number in text
    assert "Ә*** Қ***" in text
    assert "Қасымов" not in text and "Әлихан" not in text
    assert stranger.buttons() == ["⬇️ Скачать оригинал"]
    assert await _verified_notices(demo_app, document_id) == 1

    # The original: the demo certificate is rendered on first request and then kept.
    await stranger.click("⬇️ Скачать оригинал")
    sent = stranger.last_message()
    async with demo_app.db.read() as session:
        stored = await session.scalar(
            select(IssuedDocument.pdf).where(IssuedDocument.id == document_id)
        )
    assert stored is not None and sent.document_bytes == stored
    reader = PdfReader(io.BytesIO(stored))
    assert "Қасымов Әлихан Ұлықбекұлы" in " ".join(reader.pages[0].extract_text().split())
    decoded = [r.text for r in zxingcpp.read_barcodes(reader.pages[0].images[0].image)]
    assert decoded == [f"https://t.me/{BOT_USERNAME}?start=v_{token}"]

    # A burst of checks is one notice an hour.
    await stranger.send(f"/start v_{token}")
    assert await _verified_notices(demo_app, document_id) == 1
    demo_app.clock.advance(hours=1, minutes=1)
    await stranger.send(f"/start v_{token}")
    assert await _verified_notices(demo_app, document_id) == 2

    # The notice says a check happened, never who made it.
    with demo_app.i18n.context(), demo_app.i18n.use_locale("en"):
        async with demo_app.db.read() as session:
            params = await session.scalar(
                select(Delivery.params).where(Delivery.template == "services.document_verified")
            )
        rendered = render("services.document_verified", params, "en")
    assert number in rendered.text and "checked" in rendered.text
    assert str(stranger.user_id) not in rendered.text


async def test_signed_in_user_verifies_and_the_holder_is_not_told_of_own_check(
    demo_app: App,
) -> None:
    document_id, token, _number = await _demo_document(demo_app)
    staff = await demo_app.signed_in(*STAFF)
    await staff.send(f"/start v_{token}")
    assert "genuine and valid" in staff.last_message().text
    assert "🏠 Home" in staff.buttons()
    assert await _verified_notices(demo_app, document_id) == 1

    student = await demo_app.signed_in(*STUDENT)
    demo_app.clock.advance(hours=2)
    await student.send(f"/start v_{token}")
    assert "genuine and valid" in student.last_message().text
    assert await _verified_notices(demo_app, document_id) == 1


async def test_revoked_expired_and_unknown(demo_app: App) -> None:
    document_id, token, _number = await _demo_document(demo_app)
    checker = demo_app.client()
    staff = await demo_app.signed_in(*STAFF)
    async with demo_app.db.write() as session:
        document = await session.get(IssuedDocument, document_id)
        await sc.revoke(
            session,
            role=Role.staff,
            actor_id=document.issued_by_id,
            request_id=document.request_id,
            reason="Wrong data",
            now=demo_app.clock.now(),
        )
    await checker.send(f"/start v_{token}")
    text = checker.last_message().text
    assert "The document has been revoked" in text
    assert "Revoked on:" in text
    assert "Wrong data" not in text  # the reason is for the holder, not for strangers
    assert staff.user_id != checker.user_id

    await checker.send("/start v_" + "A" * 32)
    assert "No document was found" in checker.last_message().text
    await checker.send("/start v_short")
    assert "No document was found" in checker.last_message().text
    await checker.click_data(VfCb(t="B" * 32).pack())
    assert checker.last_answer().text == "This document is not available."

    # Another document, valid but past its date.
    async with demo_app.db.write() as session:
        document = await session.get(IssuedDocument, document_id)
        document.revoked_at = None
        valid_until = document.valid_until
    demo_app.clock.advance(days=(valid_until - demo_app.clock.now().date()).days + 2)
    await checker.send(f"/start v_{token}")
    assert "validity has expired" in checker.last_message().text


async def test_too_many_lookups_are_slowed_down(demo_app: App) -> None:
    _document_id, token, number = await _demo_document(demo_app)
    guesser = demo_app.client()
    for i in range(sc.VERIFY_LIMIT):
        await guesser.send(f"/start v_{'Z' * 31}{i}")
        assert "No document was found" in guesser.last_message().text
    await guesser.send(f"/start v_{token}")
    assert "Too many checks" in guesser.last_message().text
    assert number not in guesser.last_message().text
    # Somebody else is not affected.
    other = demo_app.client()
    await other.send(f"/start v_{token}")
    assert number in other.last_message().text
    demo_app.clock.advance(seconds=61)
    await guesser.send(f"/start v_{token}")
    assert number in guesser.last_message().text


async def test_old_lookups_are_pruned(demo_app: App) -> None:
    _document_id, token, _number = await _demo_document(demo_app)
    await demo_app.client().send(f"/start v_{token}")
    ctx = JobContext(
        db=demo_app.db,
        bot=demo_app.bot,
        i18n=demo_app.i18n,
        settings=demo_app.settings,
        clock=demo_app.clock,
    )
    await prune_document_checks(ctx)
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count(DocumentCheck.id))) == 1
    demo_app.clock.advance(days=181)
    await prune_document_checks(ctx)
    await prune_document_checks(ctx)
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count(DocumentCheck.id))) == 0
    assert timedelta(days=180) == sc.CHECK_LOG_RETENTION
