"""The demo service centre: a catalogue in three languages and the demo student's requests."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.demo.core import DEMO_ACCOUNTS
from bot.services import service_centre as sc
from db.models import Student, User
from db.models.services import (
    DocumentKind,
    IssuedDocument,
    RequestEvent,
    RequestStatus,
    Service,
    ServiceCategory,
    ServiceRequest,
)

CATEGORIES = [
    ("certificates", 10, "Анықтамалар", "Справки", "Certificates"),
    ("academic", 20, "Оқу процесі", "Учебный процесс", "Studies"),
    (
        "movement",
        30,
        "Академиялық демалыс және ауысу",
        "Академический отпуск и переводы",
        "Academic leave and transfer",
    ),
    ("dormitory", 40, "Жатақхана", "Общежитие", "Dormitory"),
    ("documents", 50, "Құжаттар", "Документы", "Documents"),
]


def _label(kk: str, ru: str, en: str) -> dict[str, str]:
    return {"kk": kk, "ru": ru, "en": en}


PURPOSE_FIELD: dict[str, Any] = {
    "key": "purpose",
    "kind": "choice",
    "label": _label(
        "Анықтама қайда ұсынылады",
        "Куда предоставляется справка",
        "Where the certificate is to be presented",
    ),
    "required": True,
    "choices": [
        {"value": "employer", "label": _label("жұмыс орнына", "по месту работы", "the employer")},
        {
            "value": "military",
            "label": _label(
                "әскери комиссариатқа", "в военкомат", "the military registration office"
            ),
        },
        {
            "value": "social",
            "label": _label(
                "әлеуметтік қорғау органдарына",
                "в органы социальной защиты",
                "the social protection office",
            ),
        },
        {"value": "embassy", "label": _label("елшілікке", "в посольство", "an embassy")},
    ],
}
COPIES_FIELD: dict[str, Any] = {
    "key": "comment",
    "kind": "text",
    "label": _label("Қосымша ескертпе", "Дополнительный комментарий", "Additional comment"),
    "required": False,
    "max_length": 300,
}


def _service(
    code: str,
    category: str,
    order: int,
    names: tuple[str, str, str],
    descriptions: tuple[str, str, str],
    documents: tuple[str, str, str],
    *,
    days: int,
    electronic: bool,
    prefix: str,
    fields: list[dict[str, Any]],
    kind: DocumentKind = DocumentKind.attached,
    validity: int | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "category": category,
        "sort_order": order,
        "name_kk": names[0],
        "name_ru": names[1],
        "name_en": names[2],
        "description_kk": descriptions[0],
        "description_ru": descriptions[1],
        "description_en": descriptions[2],
        "documents_kk": documents[0],
        "documents_ru": documents[1],
        "documents_en": documents[2],
        "duration_days": days,
        "electronic": electronic,
        "number_prefix": prefix,
        "fields": fields,
        "document_kind": kind,
        "validity_days": validity,
    }


NONE = ("Қажет емес", "Не требуются", "None")

SERVICES = [
    _service(
        "study_certificate",
        "certificates",
        10,
        ("Оқу орнынан анықтама", "Справка с места учебы", "Certificate of study"),
        (
            "Білім алушының университетте оқитынын растайтын анықтама (ГЦВП, әскери "
            "комиссариат, жұмыс орны үшін). QR-кодпен электронды түрде беріледі.",
            "Справка, подтверждающая обучение в университете (для ГЦВП, военкомата, по месту "
            "работы). Выдаётся в электронном виде с QR-кодом.",
            "Confirms that you study at the university (for the pension centre, the military "
            "office, an employer). Issued electronically with a QR code.",
        ),
        NONE,
        days=1,
        electronic=True,
        prefix="ОА",
        kind=DocumentKind.certificate_of_study,
        validity=180,
        fields=[PURPOSE_FIELD, COPIES_FIELD],
    ),
    _service(
        "transcript",
        "certificates",
        20,
        ("Транскрипт", "Транскрипт", "Transcript"),
        (
            "Барлық оқылған пәндер мен бағалар көрсетілген ресми транскрипт.",
            "Официальный транскрипт со всеми изученными дисциплинами и оценками.",
            "The official transcript with every discipline studied and its grades.",
        ),
        NONE,
        days=3,
        electronic=True,
        prefix="TR",
        fields=[
            {
                "key": "language",
                "kind": "choice",
                "label": _label(
                    "Транскрипт тілі", "Язык транскрипта", "Language of the transcript"
                ),
                "choices": [
                    {"value": "kk", "label": _label("қазақ", "казахский", "Kazakh")},
                    {"value": "ru", "label": _label("орыс", "русский", "Russian")},
                    {"value": "en", "label": _label("ағылшын", "английский", "English")},
                ],
            },
        ],
    ),
    _service(
        "archive_certificate",
        "certificates",
        30,
        ("Архивтік анықтама", "Архивная справка", "Archive certificate"),
        (
            "Бұрынғы оқу кезеңдері туралы архивтік анықтама.",
            "Архивная справка о прежних периодах обучения.",
            "An archive certificate about earlier periods of study.",
        ),
        ("Жеке куәліктің көшірмесі", "Копия удостоверения личности", "A copy of the ID card"),
        days=10,
        electronic=False,
        prefix="АР",
        fields=[
            {
                "key": "period",
                "kind": "text",
                "label": _label(
                    "Оқу кезеңі (жылдар)", "Период обучения (годы)", "Period of study (years)"
                ),
                "max_length": 100,
            },
            {
                "key": "id_copy",
                "kind": "file",
                "label": _label(
                    "Жеке куәліктің көшірмесі",
                    "Копия удостоверения личности",
                    "Copy of the ID card",
                ),
            },
        ],
    ),
    _service(
        "retake",
        "academic",
        10,
        ("Пәнді қайта тапсыруға рұқсат", "Разрешение на пересдачу", "Permission to retake"),
        (
            "Емтиханды немесе пәнді қайта тапсыруға өтініш (жазғы семестр).",
            "Заявление на пересдачу экзамена или дисциплины (летний семестр).",
            "An application to retake an exam or a discipline (summer term).",
        ),
        ("Төлем түбіртегі", "Квитанция об оплате", "The payment receipt"),
        days=5,
        electronic=True,
        prefix="ҚТ",
        fields=[
            {
                "key": "discipline",
                "kind": "text",
                "label": _label("Пән атауы", "Название дисциплины", "Discipline"),
                "max_length": 200,
            },
            {
                "key": "receipt",
                "kind": "file",
                "label": _label("Төлем түбіртегі", "Квитанция об оплате", "Payment receipt"),
            },
        ],
    ),
    _service(
        "individual_plan",
        "academic",
        20,
        (
            "Жеке оқу жоспарының көшірмесі",
            "Копия индивидуального учебного плана",
            "Copy of the individual study plan",
        ),
        (
            "Ағымдағы оқу жылына бекітілген ЖОЖ көшірмесі.",
            "Копия утверждённого ИУП на текущий учебный год.",
            "A copy of the approved individual study plan for this academic year.",
        ),
        NONE,
        days=2,
        electronic=True,
        prefix="ЖОЖ",
        fields=[],
    ),
    _service(
        "academic_leave",
        "movement",
        10,
        ("Академиялық демалыс", "Академический отпуск", "Academic leave"),
        (
            "Денсаулығына байланысты, әскери қызметке немесе бала күтіміне байланысты академиялық "
            "демалыс беру.",
            "Предоставление академического отпуска по болезни, в связи с призывом на воинскую "
            "службу или по уходу за ребёнком.",
            "Academic leave for health reasons, military service or childcare.",
        ),
        (
            "ДКК қорытындысы немесе шақыру қағазы",
            "Заключение ВКК или повестка",
            "A medical board conclusion or the call-up paper",
        ),
        days=10,
        electronic=False,
        prefix="АД",
        fields=[
            {
                "key": "reason",
                "kind": "choice",
                "label": _label("Себебі", "Основание", "Reason"),
                "choices": [
                    {"value": "health", "label": _label("денсаулық", "по болезни", "health")},
                    {
                        "value": "army",
                        "label": _label("әскери қызмет", "воинская служба", "military service"),
                    },
                    {
                        "value": "child",
                        "label": _label("бала күтімі", "уход за ребёнком", "childcare"),
                    },
                ],
            },
            {
                "key": "start",
                "kind": "date",
                "label": _label("Басталу күні", "Дата начала", "Start date"),
            },
            {
                "key": "proof",
                "kind": "file",
                "label": _label(
                    "Растайтын құжат", "Подтверждающий документ", "Supporting document"
                ),
            },
        ],
    ),
    _service(
        "transfer",
        "movement",
        20,
        ("Басқа ЖОО-ға ауысу", "Перевод в другой вуз", "Transfer to another university"),
        (
            "Басқа жоғары оқу орнына ауысу үшін құжаттарды рәсімдеу.",
            "Оформление документов для перевода в другой вуз.",
            "Paperwork for a transfer to another university.",
        ),
        (
            "Қабылдаушы ЖОО-ның келісімі",
            "Согласие принимающего вуза",
            "Consent of the receiving university",
        ),
        days=15,
        electronic=False,
        prefix="АУ",
        fields=[
            {
                "key": "university",
                "kind": "text",
                "label": _label("Қабылдаушы ЖОО", "Принимающий вуз", "Receiving university"),
                "max_length": 300,
            },
            {
                "key": "consent",
                "kind": "file",
                "label": _label("Келісім хат", "Письмо-согласие", "Letter of consent"),
            },
        ],
    ),
    _service(
        "dorm_place",
        "dormitory",
        10,
        ("Жатақханадан орын", "Место в общежитии", "A place in the dormitory"),
        (
            "Оқу жылына жатақханадан орын беру.",
            "Предоставление места в общежитии на учебный год.",
            "A place in the dormitory for the academic year.",
        ),
        ("Медициналық анықтама 075/у", "Медицинская справка 075/у", "Medical certificate 075/u"),
        days=7,
        electronic=False,
        prefix="ЖТ",
        fields=[
            {
                "key": "move_in",
                "kind": "date",
                "label": _label("Кіру күні", "Дата заселения", "Move-in date"),
            },
            {
                "key": "benefit",
                "kind": "choice",
                "label": _label("Жеңілдік санаты", "Льготная категория", "Priority category"),
                "required": False,
                "choices": [
                    {"value": "orphan", "label": _label("жетім", "сирота", "orphan")},
                    {
                        "value": "large_family",
                        "label": _label("көп балалы отбасы", "многодетная семья", "large family"),
                    },
                    {
                        "value": "disability",
                        "label": _label("мүгедектік", "инвалидность", "disability"),
                    },
                ],
            },
        ],
    ),
    _service(
        "dorm_certificate",
        "dormitory",
        20,
        (
            "Жатақханада тұратыны туралы анықтама",
            "Справка о проживании в общежитии",
            "Certificate of dormitory residence",
        ),
        (
            "Жатақханада тұратынын растайтын анықтама.",
            "Справка, подтверждающая проживание в общежитии.",
            "Confirms that you live in the university dormitory.",
        ),
        NONE,
        days=2,
        electronic=True,
        prefix="ЖА",
        fields=[COPIES_FIELD],
    ),
    _service(
        "diploma_duplicate",
        "documents",
        10,
        ("Диплом телнұсқасы", "Дубликат диплома", "Duplicate diploma"),
        (
            "Жоғалған немесе бүлінген дипломның телнұсқасын беру.",
            "Выдача дубликата утерянного или испорченного диплома.",
            "A duplicate of a lost or damaged diploma.",
        ),
        (
            "Газеттегі хабарландыру, өтініш",
            "Объявление в газете, заявление",
            "A newspaper notice and an application",
        ),
        days=30,
        electronic=False,
        prefix="ДТ",
        fields=[
            {
                "key": "notice",
                "kind": "file",
                "label": _label(
                    "Газеттегі хабарландыру", "Объявление в газете", "Newspaper notice"
                ),
            },
        ],
    ),
]


async def _ensure_catalogue(session: AsyncSession) -> dict[str, Service]:
    categories: dict[str, ServiceCategory] = {}
    for code, order, kk, ru, en in CATEGORIES:
        category = await session.scalar(
            select(ServiceCategory).where(ServiceCategory.code == code)
        )
        if category is None:
            category = ServiceCategory(
                code=code, sort_order=order, name_kk=kk, name_ru=ru, name_en=en
            )
            session.add(category)
            await session.flush()
        categories[code] = category
    services: dict[str, Service] = {}
    for spec in SERVICES:
        values = dict(spec)
        category_code = values.pop("category")
        service = await session.scalar(select(Service).where(Service.code == values["code"]))
        if service is None:
            service = Service(category_id=categories[category_code].id, **values)
            session.add(service)
            await session.flush()
        services[service.code] = service
    return services


def _at(ctx: DemoContext, days_ago: int, hour: int) -> datetime:
    local = datetime.combine(ctx.today - timedelta(days=days_ago), time(hour), tzinfo=ctx.tz)
    return local.astimezone(UTC)


async def _request(
    session: AsyncSession,
    service: Service,
    student: Student,
    answers: dict[str, Any],
    history: list[tuple[RequestStatus, int | None, datetime, str | None]],
) -> ServiceRequest:
    first = history[0][2]
    request = ServiceRequest(
        service_id=service.id,
        student_id=student.id,
        status=history[-1][0],
        answers=answers,
        submitted_at=first,
        created_at=first,
        updated_at=history[-1][2],
    )
    session.add(request)
    await session.flush()
    request.number = sc.request_number(request.id)
    for status, actor_id, when, comment in history:
        session.add(
            RequestEvent(
                request_id=request.id,
                status=status,
                actor_id=actor_id,
                created_at=when,
                comment=comment,
            )
        )
    await session.flush()
    return request


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    services = await _ensure_catalogue(session)
    student_user = await session.scalar(
        select(User).where(User.login == DEMO_ACCOUNTS["student"][0])
    )
    staff_user = await session.scalar(select(User).where(User.login == DEMO_ACCOUNTS["staff"][0]))
    if student_user is None or staff_user is None:
        return
    student = await session.scalar(select(Student).where(Student.user_id == student_user.id))
    if student is None:
        return
    existing = await session.scalar(
        select(ServiceRequest.id).where(ServiceRequest.student_id == student.id).limit(1)
    )
    if existing is not None:
        return
    me, staff = student_user.id, staff_user.id
    S = RequestStatus

    # An issued certificate of study. Its PDF is made on the first download, because the
    # link in its QR code names the bot, whose username is known only once the bot runs.
    issued = await _request(
        session,
        services["study_certificate"],
        student,
        {"purpose": "employer"},
        [
            (S.submitted, me, _at(ctx, 20, 10), None),
            (S.in_progress, staff, _at(ctx, 20, 14), None),
            (S.issued, staff, _at(ctx, 19, 9), None),
        ],
    )
    issued.assignee_id = staff
    issued_on = ctx.today - timedelta(days=19)
    number = sc.document_number(services["study_certificate"], issued, issued_on)
    session.add(
        IssuedDocument(
            request_id=issued.id,
            kind=DocumentKind.certificate_of_study,
            number=number,
            token=sc.new_token(),
            locale=student_user.locale or "kk",
            issued_at=_at(ctx, 19, 9),
            issue_date=issued_on,
            valid_until=issued_on + timedelta(days=180),
            issued_by_id=staff,
            holder_name=student_user.full_name,
            holder_masked=sc.mask_name(student_user.first_name, student_user.last_name),
            pdf=None,
            file_name=f"{number}.pdf",
            mime_type="application/pdf",
        )
    )

    await _request(
        session,
        services["transcript"],
        student,
        {"language": "en"},
        [
            (S.submitted, me, _at(ctx, 3, 11), None),
            (S.in_progress, staff, _at(ctx, 2, 10), None),
        ],
    )
    await _request(
        session,
        services["dorm_place"],
        student,
        {"move_in": (ctx.today + timedelta(days=20)).isoformat()},
        [
            (S.submitted, me, _at(ctx, 5, 9), None),
            (
                S.needs_info,
                staff,
                _at(ctx, 4, 15),
                "Please attach the medical certificate 075/u or tell us when you can bring it.",
            ),
        ],
    )
    await _request(
        session,
        services["dorm_certificate"],
        student,
        {},
        [(S.submitted, me, _at(ctx, 1, 16), None)],
    )
    await session.flush()
