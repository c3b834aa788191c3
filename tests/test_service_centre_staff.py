"""The service centre's staff: the queue, asking for information, issuing, rejecting, revoking."""

from __future__ import annotations

import io
import re

import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.service_centre import SqCb
from bot.services import service_centre as sc
from db.models.delivery import Delivery
from db.models.services import (
    DocumentKind,
    IssuedDocument,
    RequestEvent,
    RequestStatus,
    Service,
    ServiceRequest,
)
from tests.conftest import App
from tests.support.fake_session import BOT_USERNAME

STUDENT = DEMO_ACCOUNTS["student"]
STAFF = DEMO_ACCOUNTS["staff"]


async def _file(app: App, client, service: str, *choices: str) -> str:
    """The student files a request for `service`: each of `choices` is pressed (or typed, when
    it starts with "type:"), then the optional rest is skipped."""
    await client.click("🏛 Service centre")
    await client.click("➕ New request")
    async with app.db.read() as session:
        row = await session.scalar(select(Service).where(Service.code == service))
        category = (await sc.get_category(session, row.category_id)).name_en
        name = row.name_en
    await client.click(category)
    await client.click(name)
    await client.click("📝 Apply")
    for choice in choices:
        if choice.startswith("type:"):
            await client.send(choice.removeprefix("type:"))
        else:
            await client.click(choice)
    while "Skip »" in client.buttons():
        await client.click("Skip »")
    await client.click("✅ Submit")
    return re.search(r"Request №(\d+)", client.last_message().text).group(1)


async def _request(app: App, number: str) -> ServiceRequest:
    async with app.db.read() as session:
        request = await session.scalar(
            select(ServiceRequest).where(ServiceRequest.number == number)
        )
        session.expunge(request)
        return request


async def _notices(app: App, request_id: int) -> list[tuple[str, str]]:
    async with app.db.read() as session:
        rows = await session.execute(
            select(Delivery.template, Delivery.params)
            .where(Delivery.ref_type == "service_request", Delivery.ref_id == request_id)
            .order_by(Delivery.id)
        )
        return [(template, params["status"]) for template, params in rows]


async def _open_in_queue(staff, number: str, status: str = "🆕 Submitted") -> None:
    await staff.send("/menu")
    await staff.click("📥 Requests queue")
    await staff.click(status)
    await staff.click(f"№{number}")


async def test_certificate_from_request_to_download(demo_app: App) -> None:
    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "study_certificate", "the employer")
    request = await _request(demo_app, number)

    staff = await demo_app.signed_in(*STAFF)
    assert "📥 Requests queue" in staff.buttons()
    await _open_in_queue(staff, number)
    card = staff.last_message().text
    assert "Қасымов Әлихан Ұлықбекұлы" in card
    assert "Where the certificate is to be presented: the employer" in card

    # Ask for information; the student is told and answers.
    await staff.click("❓ Ask for information")
    await staff.send("Which employer? Name the organisation.")
    assert "The question has been sent to the student" in staff.last_message().text
    assert (await _request(demo_app, number)).status == RequestStatus.needs_info
    assert await _notices(demo_app, request.id) == [("services.status_changed", "needs_info")]

    await student.click("« My requests")
    await student.click(f"№{number}")
    assert "Which employer? Name the organisation." in student.last_message().text
    await student.click("✏️ Answer and resubmit")
    await student.send("ТОО «Атырау Мұнай»")
    await student.click("✅ Resubmit the request")
    assert (await _request(demo_app, number)).status == RequestStatus.submitted

    # Take it, then issue: the bot generates the certificate from the student's record.
    await _open_in_queue(staff, number)
    assert "ТОО «Атырау Мұнай»" in staff.last_message().text
    await staff.click("▶️ Take")
    assert "🔄 In progress" in staff.last_message().text
    await staff.click("🧾 Generate the certificate")
    await staff.click("✅ Generate and issue")
    assert "has been issued" in staff.last_message().text

    async with demo_app.db.read() as session:
        document = await session.scalar(
            select(IssuedDocument).where(IssuedDocument.request_id == request.id)
        )
        pdf, token, doc_number = document.pdf, document.token, document.number
        assert document.kind == DocumentKind.certificate_of_study
        assert len(token) >= 32 and number not in token
        assert document.locale == "en"
        events = list(
            await session.scalars(
                select(RequestEvent.status)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.id)
            )
        )
    assert events == [
        RequestStatus.submitted,
        RequestStatus.needs_info,
        RequestStatus.submitted,
        RequestStatus.in_progress,
        RequestStatus.issued,
    ]
    assert [s for _t, s in await _notices(demo_app, request.id)] == [
        "needs_info",
        "in_progress",
        "issued",
    ]
    assert re.fullmatch(rf"ОА-\d{{4}}-{request.id:06d}", doc_number)

    # The student downloads the very PDF that was issued.
    await student.click("« My requests")
    await student.click(f"№{number}")
    await student.click("Document")
    assert doc_number in student.last_message().text
    assert "✅ Valid" in student.last_message().text
    await student.click("⬇️ Download the document")
    sent = student.last_message()
    assert sent.document_name == f"{doc_number}.pdf"
    assert sent.document_bytes == pdf

    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Қасымов Әлихан Ұлықбекұлы" in " ".join(text.split())
    assert doc_number in text
    images = reader.pages[0].images
    decoded = [r.text for r in zxingcpp.read_barcodes(images[0].image)]
    assert decoded == [f"https://t.me/{BOT_USERNAME}?start=v_{token}"]

    # A second download reuses Telegram's copy instead of uploading again.
    async with demo_app.db.read() as session:
        file_id = await session.scalar(
            select(IssuedDocument.file_id).where(IssuedDocument.request_id == request.id)
        )
    assert file_id == sent.file.file_id


async def test_student_cannot_use_staff_actions(demo_app: App) -> None:
    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "study_certificate", "an embassy")
    request = await _request(demo_app, number)
    for action in ("take", "gen2", "reject", "open", "q"):
        await student.click_data(SqCb(a=action, id=request.id).pack())
        assert student.last_answer().text == "Only the service centre staff can do this."
    assert "📥 Requests queue" not in student.buttons()
    after = await _request(demo_app, number)
    assert after.status == RequestStatus.submitted and after.assignee_id is None
    async with demo_app.db.read() as session:
        assert (
            await session.scalar(
                select(IssuedDocument.id).where(IssuedDocument.request_id == request.id)
            )
            is None
        )


async def test_reject_with_reason_and_double_tap(demo_app: App) -> None:
    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "study_certificate", "an embassy")
    request = await _request(demo_app, number)
    staff = await demo_app.signed_in(*STAFF)
    await _open_in_queue(staff, number)
    await staff.click("⛔ Reject")
    await staff.send("   ")
    assert "The answer is empty" in staff.last_message().text
    await staff.send("You are on academic leave this term.")
    assert "🚫" not in staff.last_message().text
    assert "⛔ Rejected" in staff.last_message().text
    # The "Take" button of an older screen no longer applies.
    await staff.click_data(SqCb(a="take", id=request.id).pack())
    assert "no longer applies" in staff.last_answer().text
    await staff.click_data(SqCb(a="gen2", id=request.id).pack())
    assert "no longer applies" in staff.last_answer().text
    assert (await _request(demo_app, number)).status == RequestStatus.rejected

    await student.click("« My requests")
    await student.click(f"№{number}")
    assert "Reason: You are on academic leave this term." in student.last_message().text


async def test_staff_attaches_a_document_for_other_services(demo_app: App) -> None:
    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "transcript", "English")
    request = await _request(demo_app, number)
    staff = await demo_app.signed_in(*STAFF)
    await _open_in_queue(staff, number)
    await staff.click("📎 Attach the document")
    await staff.send("here")
    assert "as a file" in staff.last_message().text
    await staff.send_photo(b"\xff\xd8 jpeg")
    assert "as a file" in staff.last_message().text
    await staff.send_document("transcript.pdf", b"%PDF-1.4 transcript", "application/pdf")
    assert "has been issued" in staff.last_message().text
    async with demo_app.db.read() as session:
        document = await session.scalar(
            select(IssuedDocument).where(IssuedDocument.request_id == request.id)
        )
        assert document.kind == DocumentKind.attached
        assert document.pdf is None and document.file_id
        assert document.file_name == "transcript.pdf"
    await student.click("« My requests")
    await student.click(f"№{number}")
    await student.click("⬇️ Download the document")
    assert student.last_message().document_bytes == b"%PDF-1.4 transcript"


async def test_paper_service_ready_then_handed_over(demo_app: App) -> None:
    student = await demo_app.signed_in(*STUDENT)
    number = await _file(demo_app, student, "dorm_place", "type:01.09.2027", "orphan")
    request = await _request(demo_app, number)
    staff = await demo_app.signed_in(*STAFF)
    await _open_in_queue(staff, number)
    assert "🧾 Generate the certificate" not in staff.buttons()
    await staff.click("📦 Ready for pickup")
    assert (await _request(demo_app, number)).status == RequestStatus.ready
    await staff.click("✅ Handed over")
    assert (await _request(demo_app, number)).status == RequestStatus.issued
    assert [s for _t, s in await _notices(demo_app, request.id)] == ["ready", "issued"]


async def test_staff_revokes_a_document(demo_app: App) -> None:
    staff = await demo_app.signed_in(*STAFF)
    async with demo_app.db.read() as session:
        document = await session.scalar(select(IssuedDocument))
        request_number = await session.scalar(
            select(ServiceRequest.number).where(ServiceRequest.id == document.request_id)
        )
        document_id = document.id
    await _open_in_queue(staff, request_number, "✅ Issued")
    await staff.click("🚫 Revoke")
    await staff.send("Issued with a wrong course number.")
    assert "has been revoked" in staff.last_message().text
    assert "🚫 Revoke" not in staff.buttons()
    async with demo_app.db.read() as session:
        document = await session.get(IssuedDocument, document_id)
        assert document.revoked_at is not None
        assert document.revoke_reason == "Issued with a wrong course number."
        notice = await session.scalar(
            select(Delivery.template).where(
                Delivery.ref_type == "issued_document", Delivery.ref_id == document_id
            )
        )
    assert notice == "services.document_revoked"


async def test_staff_without_the_service_centre_sub_role_cannot_work_the_queue(
    demo_app: App,
) -> None:
    from bot.services.roles import set_sub_roles
    from db.models import Role, User
    from db.models.admin import SubRole

    async with demo_app.db.write() as session:
        clerk = User(
            login="dean.clerk",
            password_hash="!unset",
            role=Role.staff,
            telegram_id=7501,
            last_name="Clerk",
            first_name="Dean",
        )
        session.add(clerk)
        await session.flush()
        clerk_id = clerk.id
    client = demo_app.client(7501)
    await client.send("/menu")
    await client.click("Requests queue")
    assert "Only the service centre staff" in client.last_answer().text
    await client.click_data(SqCb(a="q", id=0, s="", v=0, p=0).pack())
    assert "Only the service centre staff" in client.last_answer().text

    async with demo_app.db.write() as session:
        await set_sub_roles(session, clerk_id, {SubRole.service_centre})
    await client.click("Requests queue")
    assert "Only the service centre staff" not in (client.last_answer().text or "")
    assert (
        "Requests queue" in client.last_message().text
        or "queue" in client.last_message().text.lower()
    )
