"""Students and the service centre (§11): the catalogue, filing a request, following it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.delivery.render import render
from bot.demo.core import DEMO_ACCOUNTS
from bot.keyboards.service_centre import ScCb
from bot.services import service_centre as sc
from bot.services.errors import DomainError
from db.models import Student, User
from db.models.services import RequestEvent, RequestStatus, Service, ServiceRequest
from tests.conftest import App

STUDENT = DEMO_ACCOUNTS["student"]


async def _student_id(app: App, login: str = STUDENT[0]) -> int:
    async with app.db.read() as session:
        return await session.scalar(
            select(Student.id).join(User, User.id == Student.user_id).where(User.login == login)
        )


async def _requests(app: App, student_id: int) -> list[tuple[str, RequestStatus, dict]]:
    async with app.db.read() as session:
        rows = await session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.student_id == student_id)
            .order_by(ServiceRequest.id)
        )
        return [(r.number, r.status, dict(r.answers)) for r in rows]


async def test_catalogue_shows_services_by_category(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    assert "🏛 Service centre" in client.buttons()
    await client.click("🏛 Service centre")
    await client.click("ℹ️ Information support")
    async with demo_app.db.read() as session:
        expected = [f"{c.name_en} ({n})" for c, n in await sc.list_categories(session)]
    assert expected == client.buttons()[:-1]
    await client.click("Dormitory")
    assert "A place in the dormitory" in " ".join(client.buttons())
    await client.click("A place in the dormitory")
    card = client.last_message().text
    assert "Medical certificate 075/u" in card  # the documents needed
    assert "Processing time, working days: 7" in card
    assert "Issued in electronic form: no" in card
    assert "Move-in date" in card and "Priority category (optional)" in card
    assert client.buttons() == ["📝 Apply", "« Back"]
    await client.click("« Back")
    assert "Choose a service:" in client.last_message().text


async def test_file_a_certificate_request(demo_app: App) -> None:
    student_id = await _student_id(demo_app)
    before = await _requests(demo_app, student_id)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("🏛 Service centre")
    await client.click("➕ New request")
    await client.click("Certificates")
    await client.click("Certificate of study")
    await client.click("📝 Apply")
    assert "step 1 of 2" in client.last_message().text
    await client.click("the military registration office")
    assert "Additional comment (optional)" in client.last_message().text
    await client.send("Two copies, please")
    preview = client.last_message().text
    assert "Check your request" in preview
    assert "Where the certificate is to be presented: the military registration office" in preview
    assert "Additional comment: Two copies, please" in preview
    await client.click("✅ Submit")

    after = await _requests(demo_app, student_id)
    assert len(after) == len(before) + 1
    number, status, answers = after[-1]
    assert status == RequestStatus.submitted
    assert answers == {"purpose": "military", "comment": "Two copies, please"}
    assert f"Request №{number} has been submitted" in client.last_message().text
    assert "Status: 🆕 Submitted" in client.last_message().text

    # A second tap on the old "Submit" files nothing twice.
    await client.click_data(ScCb(a="submit").pack())
    assert "already sent" in client.last_answer().text
    assert len(await _requests(demo_app, student_id)) == len(after)

    await client.click("History")
    assert "🆕 Submitted — Қасымов Әлихан" in client.last_message().text
    await client.click("« My requests")
    assert any(f"№{number}" in b for b in client.buttons())


async def test_form_checks_dates_files_and_lengths(demo_app: App) -> None:
    student_id = await _student_id(demo_app)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("🏛 Service centre")
    await client.click("ℹ️ Information support")
    await client.click("Academic leave and transfer")
    await client.click("Academic leave")
    await client.click("📝 Apply")
    await client.send("health")  # a choice must be pressed, not typed
    assert "choose one of the options" in client.last_message().text.lower()
    await client.click("health")
    await client.send("31.02.2026")
    assert "DD.MM.YYYY" in client.last_message().text
    await client.send("15.01.2027")
    assert "Supporting document" in client.last_message().text
    await client.send("here it is")
    assert "Please send a file" in client.last_message().text
    await client.send_document("vkk.pdf", b"%PDF-1.4 medical", "application/pdf")
    preview = client.last_message().text
    assert "Start date: 15 Jan 2027" in preview
    assert "📎 vkk.pdf" in preview
    await client.click("✅ Submit")
    _number, status, answers = (await _requests(demo_app, student_id))[-1]
    assert status == RequestStatus.submitted
    assert answers["reason"] == "health" and answers["start"] == "2027-01-15"
    assert answers["proof"]["name"] == "vkk.pdf"
    # The attachment can be opened again from the details tab.
    await client.click("Details")
    await client.click("📎 Supporting document")
    assert client.last_message().document_bytes == b"%PDF-1.4 medical"

    # A huge answer is refused with a reason, not stored.
    await client.click("« My requests")
    await client.click("➕ New request")
    await client.click("Certificates")
    await client.click("Certificate of study")
    await client.click("📝 Apply")
    await client.click("an embassy")
    await client.send("x" * 5000)
    assert "at most 300 characters" in client.last_message().text


async def test_foreign_or_forged_request_is_not_shown(demo_app: App) -> None:
    client = await demo_app.signed_in(*STUDENT)
    async with demo_app.db.read() as session:
        other_student = await session.scalar(
            select(Student.id).where(Student.id != await _student_id(demo_app)).limit(1)
        )
        service_id = await session.scalar(select(Service.id).limit(1))
    async with demo_app.db.write() as session:
        other = await sc.create_request(
            session,
            student_id=other_student,
            actor_id=1,
            service_id=service_id,
            answers={"purpose": "employer"},
            now=demo_app.clock.now(),
        )
        other_id = other.id
    await client.click("🏛 Service centre")
    await client.click_data(ScCb(a="req", id=other_id).pack())
    assert client.last_answer().text == "This request is not available."
    await client.click_data(ScCb(a="dl", id=other_id).pack())
    assert client.last_answer().text == "This request is not available."
    await client.click_data(ScCb(a="zzz").pack())
    assert client.last_answer().text == "This button is no longer available."
    await client.click_data(ScCb(a="svc", id=999999).pack())
    assert client.last_answer().text == "This service is not available."


async def test_demo_student_sees_needs_information_and_answers(demo_app: App) -> None:
    student_id = await _student_id(demo_app)
    client = await demo_app.signed_in(*STUDENT)
    await client.click("🏛 Service centre")
    await client.click("📝 My requests")
    await client.click("❓ Needs information")
    text = client.last_message().text
    assert "The service centre asks: Please attach the medical certificate" in text
    await client.click("✏️ Answer and resubmit")
    await client.send_document("075u.pdf", b"%PDF-1.4 075", "application/pdf", caption="Done")
    assert "📎 075u.pdf" in client.last_message().text
    await client.click("✅ Resubmit the request")
    assert "sent back to the service centre" in client.last_message().text
    async with demo_app.db.read() as session:
        request = await session.scalar(
            select(ServiceRequest)
            .join(Service, Service.id == ServiceRequest.service_id)
            .where(ServiceRequest.student_id == student_id, Service.code == "dorm_place")
        )
        assert request.status == RequestStatus.submitted
        event = await session.scalar(
            select(RequestEvent)
            .where(RequestEvent.request_id == request.id)
            .order_by(RequestEvent.id.desc())
        )
        assert (event.comment, event.file_name) == ("Done", "075u.pdf")


def test_form_rules() -> None:
    assert sc.parse_date("01.09.2026") == date(2026, 9, 1)
    assert sc.parse_date("2026-09-01") == date(2026, 9, 1)
    assert sc.parse_date("31.02.2026") is None
    assert sc.parse_date("01.09.1800") is None
    assert sc.parse_date("tomorrow") is None
    specs = [
        sc.FieldSpec.parse({"key": "a", "kind": "text", "label": {"en": "A"}, "max_length": 5}),
        sc.FieldSpec.parse(
            {
                "key": "b",
                "kind": "choice",
                "label": {"en": "B"},
                "required": False,
                "choices": [{"value": "x", "label": {"en": "X"}}],
            }
        ),
    ]
    assert sc.check_answers(specs, {"a": " hi ", "junk": 1}) == {"a": "hi"}
    with pytest.raises(DomainError):
        sc.check_answers(specs, {})
    with pytest.raises(DomainError):
        sc.check_answers(specs, {"a": "toolong"})
    with pytest.raises(DomainError):
        sc.check_answers(specs, {"a": "ok", "b": "forged"})
    with pytest.raises(ValueError):
        sc.FieldSpec.parse({"key": "c", "kind": "choice"})
    assert sc.mask_name("Әлихан", "Қасымов") == "Ә*** Қ***"
    assert len(sc.new_token()) == 32 and sc.new_token() != sc.new_token()


async def test_status_notice_renders_in_the_recipients_language(demo_app: App) -> None:
    params = {
        "request_id": 5,
        "number": "100005",
        "service": {"kk": "Оқу орнынан анықтама", "ru": "Справка", "en": "Certificate"},
        "status": "needs_info",
        "comment": "Attach <ID> & photo",
    }
    with demo_app.i18n.context(), demo_app.i18n.use_locale("kk"):
        rendered = render("services.status_changed", params, "kk")
    assert "Оқу орнынан анықтама" in rendered.text
    assert "&lt;ID&gt; &amp; photo" in rendered.text
    assert rendered.buttons[0][0].callback_data == ScCb(a="req", id=5).pack()
    async with demo_app.db.read() as session:
        assert await session.scalar(select(func.count(Service.id))) == 10
