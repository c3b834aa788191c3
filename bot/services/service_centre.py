"""The student service centre (§11): catalogue, requests, staff processing, issued documents and
their verification by the token of a QR code.

Every status change is recorded as a `RequestEvent` and announced to the student through the
outbox in the same unit of work, so the history, the status and the notice never disagree.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from bot.i18n import DOCUMENT_DATE_FORMAT, DOCUMENT_DATE_FORMATS
from bot.services.errors import DomainError
from bot.services.i18n import _, current_locale
from bot.services.notify import NoticeKind, notify
from db.models import Faculty, Group, Programme, Role, Student, User
from db.models.delivery import Delivery
from db.models.documents import IssuedTranscript
from db.models.services import (
    DocumentCheck,
    DocumentKind,
    IssuedDocument,
    RequestEvent,
    RequestStatus,
    Service,
    ServiceCategory,
    ServiceRequest,
)

if TYPE_CHECKING:
    from bot.services.pdf_certificate import CertificateDoc, CertificateLabels

# Who may process requests. One place, so a narrower "service centre" role can replace it.
PROCESSING_ROLES = frozenset({Role.staff, Role.admin})

FIELD_KINDS = ("text", "choice", "date", "file")
DEFAULT_TEXT_LIMIT = 500
COMMENT_LIMIT = 1000
# Telegram lets a bot download files up to 20 MB; anything larger could never be opened.
MAX_FILE_BYTES = 20 * 1024 * 1024
VERIFY_LIMIT = 10
VERIFY_WINDOW = timedelta(minutes=1)
VERIFIED_NOTICE_INTERVAL = timedelta(hours=1)
CHECK_LOG_RETENTION = timedelta(days=180)
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
REQUEST_NUMBER_BASE = 100000

OPEN_FOR_STAFF = (RequestStatus.submitted, RequestStatus.in_progress)
ACTIVE_STATUSES = (
    RequestStatus.submitted,
    RequestStatus.in_progress,
    RequestStatus.needs_info,
    RequestStatus.ready,
)


def can_process(role: Role) -> bool:
    """Whether a person of `role` works the service centre queue."""
    return role in PROCESSING_ROLES


def _refuse(code: str, message: Any) -> DomainError:
    return DomainError(code, message)


def _not_found() -> DomainError:
    return _refuse("sc_not_found", lambda: _("This request is not available."))


def wrong_status() -> DomainError:
    return _refuse(
        "sc_wrong_status",
        lambda: _("The request has changed in the meantime; this action no longer applies."),
    )


def _staff_only() -> DomainError:
    return _refuse("sc_staff_only", lambda: _("Only the service centre staff can do this."))


# ---- the form of a service ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    kind: str
    label: dict[str, str]
    required: bool = True
    choices: tuple[dict[str, Any], ...] = ()
    max_length: int = DEFAULT_TEXT_LIMIT

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FieldSpec:
        kind = raw.get("kind", "text")
        if kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {kind!r}")
        choices = tuple(raw.get("choices") or ())
        if kind == "choice" and not choices:
            raise ValueError(f"choice field {raw.get('key')!r} has no choices")
        return cls(
            key=str(raw["key"]),
            kind=kind,
            label=dict(raw.get("label") or {}),
            required=bool(raw.get("required", True)),
            choices=choices,
            max_length=int(raw.get("max_length") or DEFAULT_TEXT_LIMIT),
        )

    def title(self, locale: str) -> str:
        return localized(self.label, locale) or self.key

    def choice_title(self, value: str, locale: str) -> str:
        for choice in self.choices:
            if choice.get("value") == value:
                return localized(choice.get("label") or {}, locale) or value
        return value


def localized(values: dict[str, str], locale: str) -> str:
    return values.get(locale) or values.get("ru") or values.get("en") or values.get("kk") or ""


def form_of(service: Service) -> list[FieldSpec]:
    return [FieldSpec.parse(raw) for raw in service.fields or []]


def parse_date(text: str) -> date | None:
    """A date typed as 31.12.2026, 31/12/2026 or 2026-12-31."""
    text = text.strip()
    for pattern, order in (
        (r"(\d{1,2})[./](\d{1,2})[./](\d{4})", "dmy"),
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
    ):
        match = re.fullmatch(pattern, text)
        if match is None:
            continue
        a, b, c = (int(part) for part in match.groups())
        day, month, year = (a, b, c) if order == "dmy" else (c, b, a)
        if not 1900 <= year <= 2100:
            return None
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def check_text_answer(spec: FieldSpec, text: str) -> str:
    """The cleaned value of a typed answer, or a DomainError saying what is wrong."""
    value = text.strip()
    if spec.kind == "text":
        if not value:
            raise _refuse("sc_empty", lambda: _("The answer is empty. Please type it."))
        if len(value) > spec.max_length:
            limit = spec.max_length
            raise _refuse(
                "sc_too_long",
                lambda: _("That is too long: at most {n} characters.").format(n=limit),
            )
        return value
    if spec.kind == "date":
        parsed = parse_date(value)
        if parsed is None:
            raise _refuse(
                "sc_bad_date",
                lambda: _("Please type a date as DD.MM.YYYY, for example 01.09.2026."),
            )
        return parsed.isoformat()
    raise _refuse("sc_not_text", lambda: _("Please use the buttons or send a file."))


def check_answers(specs: list[FieldSpec], answers: dict[str, Any]) -> dict[str, Any]:
    """Only the keys of the form, each of the right shape; every required field present."""
    clean: dict[str, Any] = {}
    for spec in specs:
        value = answers.get(spec.key)
        if value in (None, ""):
            if spec.required:
                raise _refuse(
                    "sc_missing",
                    lambda: _("Not every required field is filled in."),
                )
            continue
        if spec.kind == "file":
            if not isinstance(value, dict) or not value.get("file_id"):
                raise _refuse("sc_missing", lambda: _("Not every required field is filled in."))
            clean[spec.key] = {
                "file_id": str(value["file_id"])[:255],
                "name": str(value.get("name") or "file")[:255],
            }
        elif spec.kind == "choice":
            if value not in {choice.get("value") for choice in spec.choices}:
                raise _refuse("sc_missing", lambda: _("Not every required field is filled in."))
            clean[spec.key] = value
        else:
            clean[spec.key] = check_text_answer(spec, str(value))
    return clean


# ---- the catalogue -----------------------------------------------------------------------------


async def list_categories(session: AsyncSession) -> list[tuple[ServiceCategory, int]]:
    """Categories that have active services, with how many."""
    rows = await session.execute(
        select(ServiceCategory, func.count(Service.id))
        .join(Service, Service.category_id == ServiceCategory.id)
        .where(Service.is_active.is_(True))
        .group_by(ServiceCategory.id)
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)
    )
    return [(category, count) for category, count in rows.all()]


async def get_category(session: AsyncSession, category_id: int) -> ServiceCategory:
    category = await session.get(ServiceCategory, category_id)
    if category is None:
        raise _refuse("sc_no_category", lambda: _("This category is not available."))
    return category


async def list_services(session: AsyncSession, category_id: int) -> list[Service]:
    rows = await session.scalars(
        select(Service)
        .where(Service.category_id == category_id, Service.is_active.is_(True))
        .order_by(Service.sort_order, Service.id)
    )
    return list(rows)


async def all_services(session: AsyncSession) -> list[Service]:
    rows = await session.scalars(
        select(Service)
        .options(joinedload(Service.category))
        .order_by(Service.sort_order, Service.id)
    )
    return list(rows)


async def get_service(session: AsyncSession, service_id: int, *, active: bool = True) -> Service:
    service = await session.scalar(
        select(Service).options(joinedload(Service.category)).where(Service.id == service_id)
    )
    if service is None or (active and not service.is_active):
        raise _refuse("sc_no_service", lambda: _("This service is not available."))
    return service


# ---- requests: the student's side --------------------------------------------------------------


def request_number(request_id: int) -> str:
    return str(REQUEST_NUMBER_BASE + request_id)


async def _record(
    session: AsyncSession,
    request: ServiceRequest,
    status: RequestStatus,
    actor_id: int | None,
    now: datetime,
    comment: str | None = None,
    file_id: str | None = None,
    file_name: str | None = None,
    *,
    tell_student: bool = True,
) -> RequestEvent:
    request.status = status
    request.updated_at = now
    event = RequestEvent(
        request_id=request.id,
        status=status,
        actor_id=actor_id,
        comment=comment,
        file_id=file_id,
        file_name=file_name,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    if tell_student:
        service = request.service
        await notify(
            session,
            user_id=request.student.user_id,
            kind=NoticeKind.services,
            template="services.status_changed",
            params={
                "request_id": request.id,
                "number": request.number,
                "service": {"kk": service.name_kk, "ru": service.name_ru, "en": service.name_en},
                "status": status.value,
                "comment": comment,
            },
            now=now,
            dedupe_key=f"services:event:{event.id}",
            ref_type="service_request",
            ref_id=request.id,
        )
    return event


async def create_request(
    session: AsyncSession,
    *,
    student_id: int,
    actor_id: int,
    service_id: int,
    answers: dict[str, Any],
    now: datetime,
) -> ServiceRequest:
    service = await get_service(session, service_id)
    clean = check_answers(form_of(service), answers)
    request = ServiceRequest(
        service_id=service.id,
        student_id=student_id,
        status=RequestStatus.submitted,
        answers=clean,
        submitted_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    request.number = request_number(request.id)
    session.add(
        RequestEvent(
            request_id=request.id,
            status=RequestStatus.submitted,
            actor_id=actor_id,
            created_at=now,
        )
    )
    await session.flush()
    return request


def _request_query() -> Any:
    return select(ServiceRequest).options(
        joinedload(ServiceRequest.service).joinedload(Service.category),
        joinedload(ServiceRequest.student).joinedload(Student.user),
        joinedload(ServiceRequest.student).joinedload(Student.group),
        joinedload(ServiceRequest.assignee),
        joinedload(ServiceRequest.document),
        selectinload(ServiceRequest.events).joinedload(RequestEvent.actor),
    )


async def student_requests(
    session: AsyncSession, student_id: int, offset: int = 0, limit: int = 8
) -> tuple[list[ServiceRequest], int]:
    total = await session.scalar(
        select(func.count(ServiceRequest.id)).where(ServiceRequest.student_id == student_id)
    )
    rows = await session.scalars(
        select(ServiceRequest)
        .options(joinedload(ServiceRequest.service))
        .where(ServiceRequest.student_id == student_id)
        .order_by(ServiceRequest.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def student_request(
    session: AsyncSession, student_id: int | None, request_id: int
) -> ServiceRequest:
    """The request if it belongs to this student; otherwise "not available"."""
    request = await session.scalar(_request_query().where(ServiceRequest.id == request_id))
    if request is None or student_id is None or request.student_id != student_id:
        raise _not_found()
    return request


async def resubmit(
    session: AsyncSession,
    *,
    student_id: int,
    actor_id: int,
    request_id: int,
    comment: str,
    file_id: str | None,
    file_name: str | None,
    now: datetime,
) -> ServiceRequest:
    """The student's answer to "needs information": the request goes back to the queue."""
    request = await student_request(session, student_id, request_id)
    if request.status != RequestStatus.needs_info:
        raise wrong_status()
    comment = comment.strip()
    if not comment and not file_id:
        raise _refuse("sc_empty", lambda: _("The answer is empty. Please type it."))
    if len(comment) > COMMENT_LIMIT:
        raise _refuse(
            "sc_too_long",
            lambda: _("That is too long: at most {n} characters.").format(n=COMMENT_LIMIT),
        )
    request.submitted_at = now
    # The student is the one acting here: no notice back to them about their own step.
    await _record(
        session,
        request,
        RequestStatus.submitted,
        actor_id,
        now,
        comment or None,
        file_id,
        file_name,
        tell_student=False,
    )
    return request


async def active_request_count(session: AsyncSession, student_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(ServiceRequest.id)).where(
                ServiceRequest.student_id == student_id,
                ServiceRequest.status.in_(ACTIVE_STATUSES),
            )
        )
        or 0
    )


# ---- requests: the staff's side ----------------------------------------------------------------


async def queue_counts(session: AsyncSession, service_id: int | None) -> dict[RequestStatus, int]:
    query = select(ServiceRequest.status, func.count(ServiceRequest.id)).group_by(
        ServiceRequest.status
    )
    if service_id:
        query = query.where(ServiceRequest.service_id == service_id)
    counts = {status: 0 for status in RequestStatus}
    for status, count in (await session.execute(query)).all():
        counts[RequestStatus(status)] = int(count)
    return counts


async def queue(
    session: AsyncSession,
    status: RequestStatus,
    service_id: int | None,
    offset: int = 0,
    limit: int = 8,
) -> tuple[list[ServiceRequest], int]:
    """Requests in one status (optionally of one service), the longest waiting first."""
    where = [ServiceRequest.status == status]
    if service_id:
        where.append(ServiceRequest.service_id == service_id)
    total = await session.scalar(select(func.count(ServiceRequest.id)).where(*where))
    rows = await session.scalars(
        select(ServiceRequest)
        .options(
            joinedload(ServiceRequest.service),
            joinedload(ServiceRequest.student).joinedload(Student.user),
        )
        .where(*where)
        .order_by(ServiceRequest.submitted_at, ServiceRequest.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def staff_request(session: AsyncSession, role: Role, request_id: int) -> ServiceRequest:
    if not can_process(role):
        raise _staff_only()
    request = await session.scalar(_request_query().where(ServiceRequest.id == request_id))
    if request is None:
        raise _not_found()
    return request


def _clean_comment(text: str, *, required: bool = True) -> str:
    text = text.strip()
    if required and not text:
        raise _refuse("sc_empty", lambda: _("The answer is empty. Please type it."))
    if len(text) > COMMENT_LIMIT:
        raise _refuse(
            "sc_too_long",
            lambda: _("That is too long: at most {n} characters.").format(n=COMMENT_LIMIT),
        )
    return text


async def take(
    session: AsyncSession, *, role: Role, actor_id: int, request_id: int, now: datetime
) -> ServiceRequest:
    request = await staff_request(session, role, request_id)
    if request.status != RequestStatus.submitted:
        raise wrong_status()
    request.assignee_id = actor_id
    await _record(session, request, RequestStatus.in_progress, actor_id, now)
    return request


async def ask_for_information(
    session: AsyncSession,
    *,
    role: Role,
    actor_id: int,
    request_id: int,
    question: str,
    now: datetime,
) -> ServiceRequest:
    question = _clean_comment(question)
    request = await staff_request(session, role, request_id)
    if request.status not in OPEN_FOR_STAFF:
        raise wrong_status()
    request.assignee_id = actor_id
    await _record(session, request, RequestStatus.needs_info, actor_id, now, question)
    return request


async def reject(
    session: AsyncSession,
    *,
    role: Role,
    actor_id: int,
    request_id: int,
    reason: str,
    now: datetime,
) -> ServiceRequest:
    reason = _clean_comment(reason)
    request = await staff_request(session, role, request_id)
    if request.status not in (*OPEN_FOR_STAFF, RequestStatus.needs_info, RequestStatus.ready):
        raise wrong_status()
    await _record(session, request, RequestStatus.rejected, actor_id, now, reason)
    return request


async def mark_ready(
    session: AsyncSession,
    *,
    role: Role,
    actor_id: int,
    request_id: int,
    note: str | None,
    now: datetime,
) -> ServiceRequest:
    """A paper document waits at the service centre to be collected."""
    request = await staff_request(session, role, request_id)
    if request.status not in OPEN_FOR_STAFF or request.service.electronic:
        raise wrong_status()
    request.assignee_id = actor_id
    await _record(session, request, RequestStatus.ready, actor_id, now, note or None)
    return request


async def hand_over(
    session: AsyncSession, *, role: Role, actor_id: int, request_id: int, now: datetime
) -> ServiceRequest:
    """The student collected the paper document."""
    request = await staff_request(session, role, request_id)
    if request.status != RequestStatus.ready:
        raise wrong_status()
    await _record(session, request, RequestStatus.issued, actor_id, now)
    return request


# ---- issued documents --------------------------------------------------------------------------


def mask_name(first_name: str, last_name: str) -> str:
    """ "Әлихан Қасымов" -> "Ә*** Қ***": enough to match a person, not to identify one."""
    parts = [p.strip() for p in (first_name, last_name) if p and p.strip()]
    return " ".join(f"{p[0].upper()}***" for p in parts) or "***"


def new_token() -> str:
    """192 random bits, URL-safe: fits a /start parameter and cannot be guessed."""
    return secrets.token_urlsafe(24)


def document_number(service: Service, request: ServiceRequest, issued_on: date) -> str:
    return f"{service.number_prefix}-{issued_on.year}-{request.id:06d}"


def verify_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start=v_{token}"


@dataclass(frozen=True, slots=True)
class DocumentDraft:
    """Everything decided before a document exists: made outside the write unit, because
    rendering a PDF is slow and must not hold the database's write lock."""

    request_id: int
    kind: DocumentKind
    number: str
    token: str
    locale: str
    issue_date: date
    valid_until: date | None
    holder_name: str
    holder_masked: str
    file_name: str
    status_seen: RequestStatus
    pdf: bytes | None = None
    file_id: str | None = None
    mime_type: str | None = None


def _check_issuable(request: ServiceRequest) -> None:
    if request.status not in OPEN_FOR_STAFF or request.document is not None:
        raise wrong_status()


async def draft_document(
    session: AsyncSession,
    *,
    role: Role,
    request_id: int,
    now: datetime,
    tz: ZoneInfo,
    default_locale: str,
) -> DocumentDraft:
    request = await staff_request(session, role, request_id)
    _check_issuable(request)
    service = request.service
    user = request.student.user
    issued_on = now.astimezone(tz).date()
    number = document_number(service, request, issued_on)
    valid_until = (
        issued_on + timedelta(days=service.validity_days) if service.validity_days else None
    )
    return DocumentDraft(
        request_id=request.id,
        kind=service.document_kind,
        number=number,
        token=new_token(),
        locale=user.locale or default_locale,
        issue_date=issued_on,
        valid_until=valid_until,
        holder_name=user.full_name,
        holder_masked=mask_name(user.first_name, user.last_name),
        file_name=f"{number}.pdf",
        status_seen=request.status,
    )


async def issue_document(
    session: AsyncSession,
    *,
    role: Role,
    actor_id: int,
    draft: DocumentDraft,
    now: datetime,
) -> IssuedDocument:
    """Store the document and close the request as issued, if nothing changed meanwhile."""
    if draft.pdf is None and draft.file_id is None:
        raise ValueError("a document needs either the PDF or a Telegram file")
    request = await staff_request(session, role, draft.request_id)
    _check_issuable(request)
    document = IssuedDocument(
        request_id=request.id,
        kind=draft.kind,
        number=draft.number,
        token=draft.token,
        locale=draft.locale,
        issued_at=now,
        issue_date=draft.issue_date,
        valid_until=draft.valid_until,
        issued_by_id=actor_id,
        holder_name=draft.holder_name,
        holder_masked=draft.holder_masked,
        pdf=draft.pdf,
        file_id=draft.file_id,
        file_name=draft.file_name,
        mime_type=draft.mime_type or ("application/pdf" if draft.pdf is not None else None),
    )
    session.add(document)
    request.assignee_id = actor_id
    request.document = document
    await session.flush()
    await _record(session, request, RequestStatus.issued, actor_id, now)
    return document


def draft_of(document: IssuedDocument) -> DocumentDraft:
    """The facts of an existing document, to render its certificate again."""
    return DocumentDraft(
        request_id=document.request_id,
        kind=document.kind,
        number=document.number,
        token=document.token,
        locale=document.locale,
        issue_date=document.issue_date,
        valid_until=document.valid_until,
        holder_name=document.holder_name,
        holder_masked=document.holder_masked,
        file_name=document.file_name,
        status_seen=RequestStatus.issued,
    )


async def store_pdf(session: AsyncSession, document_id: int, pdf: bytes) -> IssuedDocument:
    """Keep a rendered PDF, unless another one was stored first (that one stays the original)."""
    document = await session.get(IssuedDocument, document_id)
    if document is None:
        raise _refuse("sc_no_file", lambda: _("This document is not available."))
    if document.pdf is None and document.file_id is None:
        document.pdf = pdf
        await session.flush()
    return document


async def remember_file_id(session: AsyncSession, document_id: int, file_id: str) -> None:
    """Telegram's id of a generated PDF once sent, so later downloads need no upload."""
    document = await session.get(IssuedDocument, document_id)
    if document is not None and document.file_id is None:
        document.file_id = file_id[:255]


async def revoke(
    session: AsyncSession,
    *,
    role: Role,
    actor_id: int,
    request_id: int,
    reason: str,
    now: datetime,
) -> IssuedDocument:
    reason = _clean_comment(reason)
    request = await staff_request(session, role, request_id)
    document = request.document
    if document is None or document.revoked_at is not None:
        raise _refuse("sc_not_revocable", lambda: _("There is no valid document to revoke."))
    document.revoked_at = now
    document.revoked_by_id = actor_id
    document.revoke_reason = reason
    await session.flush()
    await notify(
        session,
        user_id=request.student.user_id,
        kind=NoticeKind.services,
        template="services.document_revoked",
        params={
            "request_id": request.id,
            "number": document.number,
            "reason": reason,
        },
        now=now,
        dedupe_key=f"services:revoked:{document.id}",
        ref_type="issued_document",
        ref_id=document.id,
    )
    return document


def document_state(document: IssuedDocument, today: date) -> str:
    """ "valid", "revoked" or "expired"."""
    if document.revoked_at is not None:
        return "revoked"
    if document.valid_until is not None and document.valid_until < today:
        return "expired"
    return "valid"


# ---- the certificate of study ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UniversityDetails:
    """The letterhead; configured through `Settings.extra` (see the README)."""

    name: str
    address: str
    phone: str
    bin: str | None = None
    website: str | None = None
    email: str | None = None
    logo_file: str | None = None
    registrar_name: str = ""

    @classmethod
    def from_settings(
        cls, university_name: str, extra: dict[str, str], locale: str | None = None
    ) -> UniversityDetails:
        """The letterhead in `locale`: the full official name is `UNIVERSITY_NAME_FULL_<KK|RU|EN>`,
        else `UNIVERSITY_NAME_FULL`, else `UNIVERSITY_NAME` (the demo's has its full name)."""
        localized_name = extra.get(f"university_name_full_{locale}") if locale else None
        demo_name = DEFAULT_NAME_FULL.get(locale or "") if university_name == DEMO_NAME else None
        return cls(
            name=(
                localized_name or extra.get("university_name_full") or demo_name or university_name
            ),
            address=extra.get("university_address") or DEFAULT_ADDRESS,
            phone=extra.get("university_phone") or DEFAULT_PHONE,
            bin=extra.get("university_bin") or DEFAULT_BIN,
            website=extra.get("university_website") or DEFAULT_WEBSITE,
            email=extra.get("university_email") or DEFAULT_EMAIL,
            logo_file=extra.get("university_logo_file") or None,
            registrar_name=extra.get("university_registrar_name") or DEFAULT_REGISTRAR_NAME,
        )


DEFAULT_ADDRESS = "060011, Atyrau, 1 Studenchesky Ave."
DEFAULT_PHONE = "+7 (7122) 27-63-00"
DEFAULT_BIN = "990140001234"
DEFAULT_WEBSITE = "demo-university.kz"
DEFAULT_EMAIL = "cos@demo-university.kz"
DEFAULT_REGISTRAR_NAME = "Ж. Қ. Нұрланова"
DEMO_NAME = "Demo University"
# The demo university's full official name, as its charter gives it in each language.
DEFAULT_NAME_FULL = {
    "kk": "«Демо университеті» коммерциялық емес акционерлік қоғамы",
    "ru": "Некоммерческое акционерное общество «Демо университет»",
    "en": "Demo University Non-profit Joint-Stock Company",
}


@dataclass(frozen=True, slots=True)
class CertificateSource:
    """The student's record as the certificate needs it, in every language it may be written."""

    full_name: str
    birth_date: date | None
    course: int
    study_form: dict[str, str]
    programme_code: str
    programme: dict[str, str]
    faculty: dict[str, str]
    student_no: str
    admission_year: int
    graduation_year: int
    funding: str
    purpose: dict[str, str] | None
    signer_name: str
    extra: dict[str, Any] = field(default_factory=dict)


def _names(obj: Any) -> dict[str, str]:
    return {"kk": obj.name_kk, "ru": obj.name_ru, "en": obj.name_en}


async def certificate_source(
    session: AsyncSession, request_id: int, signer_id: int | None
) -> CertificateSource:
    request = await session.scalar(
        select(ServiceRequest)
        .options(
            joinedload(ServiceRequest.service),
            joinedload(ServiceRequest.student).joinedload(Student.user),
            joinedload(ServiceRequest.student)
            .joinedload(Student.group)
            .joinedload(Group.programme)
            .joinedload(Programme.faculty),
            joinedload(ServiceRequest.student)
            .joinedload(Student.group)
            .joinedload(Group.study_form),
        )
        .where(ServiceRequest.id == request_id)
    )
    if request is None:
        raise _not_found()
    student = request.student
    group = student.group
    programme = group.programme
    faculty: Faculty = programme.faculty
    signer = await session.get(User, signer_id) if signer_id is not None else None
    purpose: dict[str, str] | None = None
    for spec in form_of(request.service):
        value = request.answers.get(spec.key)
        if spec.key == "purpose" and value:
            if spec.kind == "choice":
                purpose = {loc: spec.choice_title(value, loc) for loc in ("kk", "ru", "en")}
            else:
                purpose = {loc: str(value) for loc in ("kk", "ru", "en")}
    signer_name = ""
    if signer is not None:
        initial = f"{signer.first_name[:1]}. " if signer.first_name else ""
        signer_name = f"{initial}{signer.last_name}".strip()
    return CertificateSource(
        full_name=student.user.full_name,
        birth_date=student.birth_date,
        course=group.course,
        study_form=_names(group.study_form),
        programme_code=programme.code,
        programme=_names(programme),
        faculty=_names(faculty),
        student_no=student.student_no,
        admission_year=student.admission_year,
        graduation_year=student.admission_year + programme.duration_years,
        funding=student.funding,
        purpose=purpose,
        signer_name=signer_name,
    )


def certificate_labels() -> CertificateLabels:
    """The certificate's text in the current locale (enter `i18n.use_locale` first)."""
    # Imported here: the renderer's module loads fpdf2, which start-up does not need.
    from bot.services.pdf_certificate import CertificateLabels

    return CertificateLabels(
        title=_("CERTIFICATE"),
        subtitle=_("of study"),
        body=_(
            "This is to certify that {full_name}, born on {birth_date}, student ID {student_id}, "
            "is a year {course} student of {university}, {faculty}, studying the educational "
            "programme «{programme}» in the {form} form of study ({funding}), admitted in "
            "{admission_year}, expected to graduate in {graduation_year}."
        ),
        number=_("No. {number}"),
        issue_date=_("Date of issue: {date}"),
        purpose=_("The certificate is issued for submission to: {purpose}."),
        valid_until=_("The certificate is valid until {date}."),
        address=_("Address: {address}"),
        phone=_("Tel.: {phone}"),
        bin=_("BIN: {bin}"),
        website="{website}",
        email="{email}",
        verify_caption=_("Scan to check that this document is genuine"),
        verify_url=_("Link: {url}"),
        stamp=_("Stamp"),
        date_format=DOCUMENT_DATE_FORMATS.get(current_locale(), DOCUMENT_DATE_FORMAT),
    )


def funding_label(code: str) -> str:
    return {
        "grant": _("state educational grant"),
        "paid": _("paid tuition"),
    }.get(code, code)


def certificate_doc(
    source: CertificateSource,
    draft: DocumentDraft,
    university: UniversityDetails,
    verify_url: str,
) -> CertificateDoc:
    """The certificate's facts in the draft's language (enter `i18n.use_locale` first)."""
    if source.birth_date is None:
        raise _refuse(
            "sc_no_birth_date",
            lambda: _(
                "The student's record has no date of birth, so the certificate cannot be "
                "generated. Ask the registrar's office to complete the record."
            ),
        )
    from bot.services.pdf_certificate import CertificateDoc

    locale = draft.locale
    return CertificateDoc(
        university_name=university.name,
        address=university.address,
        phone=university.phone,
        bin=university.bin,
        website=university.website,
        email=university.email,
        number=draft.number,
        issue_date=draft.issue_date,
        full_name=source.full_name,
        birth_date=source.birth_date,
        course=source.course,
        study_form=localized(source.study_form, locale).lower(),
        programme=f"{source.programme_code} {localized(source.programme, locale)}",
        faculty=localized(source.faculty, locale),
        signer_position=_("Student Service Centre"),
        signer_name=source.signer_name,
        verify_url=verify_url,
        student_id=source.student_no,
        admission_year=source.admission_year,
        graduation_year=source.graduation_year,
        funding=funding_label(source.funding),
        purpose=localized(source.purpose, locale) if source.purpose else None,
        valid_until=draft.valid_until,
        logo_file=university.logo_file,
    )


# ---- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    """What a look-up found. `state` is valid / revoked / expired / not_found / too_many."""

    state: str
    document_id: int | None = None
    number: str | None = None
    service: dict[str, str] | None = None
    issue_date: date | None = None
    valid_until: date | None = None
    revoked_at: datetime | None = None
    holder_masked: str | None = None
    # Set instead of `document_id` when the token is a transcript's.
    transcript_id: int | None = None


# The transcript as verification names it, in the three languages of the university.
TRANSCRIPT_NAMES = {"kk": "Транскрипт", "ru": "Транскрипт", "en": "Academic transcript"}


async def verify(
    session: AsyncSession,
    *,
    token: str,
    telegram_id: int,
    checker_user_id: int | None,
    now: datetime,
    tz: ZoneInfo,
    limit: int = VERIFY_LIMIT,
    window: timedelta = VERIFY_WINDOW,
) -> Verification:
    """Look a token up, at most `limit` times per `window` per Telegram account.

    The limit lives in the database (the `document_checks` rows), so it holds across restarts
    and across several bot processes. Refused look-ups are not recorded: someone slowed down is
    free again a minute after their last counted look-up.
    """
    recent = await session.scalar(
        select(func.count(DocumentCheck.id)).where(
            DocumentCheck.telegram_id == telegram_id, DocumentCheck.created_at > now - window
        )
    )
    if int(recent or 0) >= limit:
        return Verification(state="too_many")
    document = None
    if TOKEN_RE.fullmatch(token):
        document = await session.scalar(
            select(IssuedDocument)
            .options(
                joinedload(IssuedDocument.request).joinedload(ServiceRequest.service),
                joinedload(IssuedDocument.request).joinedload(ServiceRequest.student),
            )
            .where(IssuedDocument.token == token)
        )
    session.add(
        DocumentCheck(
            telegram_id=telegram_id,
            document_id=document.id if document is not None else None,
            created_at=now,
        )
    )
    await session.flush()
    if document is None:
        return await _verify_transcript(session, token, checker_user_id, now)
    holder_id = document.request.student.user_id
    if checker_user_id != holder_id:
        await _tell_holder(session, document, holder_id, now)
    service = document.request.service
    return Verification(
        state=document_state(document, now.astimezone(tz).date()),
        document_id=document.id,
        number=document.number,
        service={"kk": service.name_kk, "ru": service.name_ru, "en": service.name_en},
        issue_date=document.issue_date,
        valid_until=document.valid_until,
        revoked_at=document.revoked_at,
        holder_masked=document.holder_masked,
    )


async def _verify_transcript(
    session: AsyncSession, token: str, checker_user_id: int | None, now: datetime
) -> Verification:
    """The same answer for a transcript's token (its look-up was already counted)."""
    issued = None
    if TOKEN_RE.fullmatch(token):
        issued = await session.scalar(
            select(IssuedTranscript)
            .options(joinedload(IssuedTranscript.student))
            .where(IssuedTranscript.token == token, IssuedTranscript.pdf.is_not(None))
        )
    if issued is None:
        return Verification(state="not_found")
    holder_id = issued.student.user_id
    if checker_user_id != holder_id:
        recent = await session.scalar(
            select(Delivery.id)
            .where(
                Delivery.template == "documents.transcript_verified",
                Delivery.ref_type == "issued_transcript",
                Delivery.ref_id == issued.id,
                Delivery.created_at > now - VERIFIED_NOTICE_INTERVAL,
            )
            .limit(1)
        )
        if recent is None:
            await notify(
                session,
                user_id=holder_id,
                kind=NoticeKind.services,
                template="documents.transcript_verified",
                params={"number": issued.number},
                now=now,
                dedupe_key=f"documents:verified:{issued.id}:{now:%Y%m%d%H%M}",
                ref_type="issued_transcript",
                ref_id=issued.id,
            )
    return Verification(
        state="revoked" if issued.revoked_at is not None else "valid",
        number=issued.number,
        service=TRANSCRIPT_NAMES,
        issue_date=issued.issue_date,
        revoked_at=issued.revoked_at,
        holder_masked=issued.holder_masked,
        transcript_id=issued.id,
    )


async def _tell_holder(
    session: AsyncSession, document: IssuedDocument, holder_id: int, now: datetime
) -> None:
    # A burst of scans (a clerk checking twice, a forwarded link) is one notice per hour.
    recent = await session.scalar(
        select(Delivery.id)
        .where(
            Delivery.template == "services.document_verified",
            Delivery.ref_type == "issued_document",
            Delivery.ref_id == document.id,
            Delivery.created_at > now - VERIFIED_NOTICE_INTERVAL,
        )
        .limit(1)
    )
    if recent is not None:
        return
    service = document.request.service
    await notify(
        session,
        user_id=holder_id,
        kind=NoticeKind.services,
        template="services.document_verified",
        params={
            "request_id": document.request_id,
            "number": document.number,
            "service": {"kk": service.name_kk, "ru": service.name_ru, "en": service.name_en},
        },
        now=now,
        dedupe_key=f"services:verified:{document.id}:{now:%Y%m%d%H%M}",
        ref_type="issued_document",
        ref_id=document.id,
    )


async def document_for_download(session: AsyncSession, token: str) -> IssuedDocument | None:
    if not TOKEN_RE.fullmatch(token):
        return None
    return await session.scalar(select(IssuedDocument).where(IssuedDocument.token == token))


async def prune_checks(session: AsyncSession, now: datetime) -> int:
    """Forget look-ups older than the retention period; returns how many were deleted."""
    result = await session.execute(
        delete(DocumentCheck).where(DocumentCheck.created_at < now - CHECK_LOG_RETENTION)
    )
    return int(result.rowcount or 0)
