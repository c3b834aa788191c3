"""The demo university's structure and people."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.services.auth import hash_password
from db.models import (
    AcademicPeriod,
    Discipline,
    Faculty,
    Group,
    Programme,
    Role,
    Student,
    StudyForm,
    Teacher,
    User,
)

# A hash no password matches: such accounts sign in only after the registrar issues a password.
UNUSABLE_PASSWORD = "!unset"

DEMO_ACCOUNTS = {
    "student": ("demo.student", "Student-2026!"),
    "teacher": ("demo.teacher", "Teacher-2026!"),
    "staff": ("demo.staff", "Staff-2026!"),
    "admin": ("demo.admin", "Admin-2026!"),
}

FACULTIES = [
    (
        "FMIT",
        "Физика, математика және ақпараттық технологиялар факультеті",
        "Факультет физики, математики и информационных технологий",
        "Faculty of Physics, Mathematics and Information Technology",
    ),
    (
        "FEL",
        "Экономика және құқық факультеті",
        "Факультет экономики и права",
        "Faculty of Economics and Law",
    ),
]

PROGRAMMES = [
    ("6B06101", "FMIT", "Ақпараттық жүйелер", "Информационные системы", "Information Systems"),
    (
        "6B01501",
        "FMIT",
        "Математика мұғалімдерін даярлау",
        "Подготовка учителей математики",
        "Mathematics Teacher Education",
    ),
    ("6B04101", "FEL", "Экономика", "Экономика", "Economics"),
    ("6B04201", "FEL", "Құқықтану", "Юриспруденция", "Jurisprudence"),
]

STUDY_FORMS = [
    ("full_time", "Күндізгі", "Очная", "Full-time"),
    ("part_time", "Сырттай", "Заочная", "Part-time"),
]

# code, kk, ru, en, credits
DISCIPLINES = [
    (
        "HIS1101",
        "Қазақстанның қазіргі заман тарихы",
        "Современная история Казахстана",
        "Modern History of Kazakhstan",
        5,
    ),
    ("PHI1102", "Философия", "Философия", "Philosophy", 5),
    ("KAZ1103", "Қазақ тілі", "Казахский язык", "Kazakh Language", 5),
    (
        "ENG1104",
        "Шетел тілі (ағылшын)",
        "Иностранный язык (английский)",
        "Foreign Language (English)",
        5,
    ),
    (
        "ICT1105",
        "Ақпараттық-коммуникациялық технологиялар",
        "Информационно-коммуникационные технологии",
        "Information and Communication Technologies",
        5,
    ),
    ("MAT1201", "Математикалық талдау", "Математический анализ", "Calculus", 5),
    ("ALG1202", "Сызықтық алгебра", "Линейная алгебра", "Linear Algebra", 4),
    (
        "PRG1203",
        "Python тілінде бағдарламалау",
        "Программирование на Python",
        "Programming in Python",
        5,
    ),
    ("DBS2201", "Деректер қоры жүйелері", "Системы баз данных", "Database Systems", 5),
    (
        "ALG2202",
        "Алгоритмдер және деректер құрылымы",
        "Алгоритмы и структуры данных",
        "Algorithms and Data Structures",
        5,
    ),
    ("NET2203", "Компьютерлік желілер", "Компьютерные сети", "Computer Networks", 4),
    ("WEB2204", "Веб-әзірлеу", "Веб-разработка", "Web Development", 4),
    ("OSY2205", "Операциялық жүйелер", "Операционные системы", "Operating Systems", 4),
    (
        "PRB2206",
        "Ықтималдықтар теориясы және статистика",
        "Теория вероятностей и статистика",
        "Probability and Statistics",
        4,
    ),
    ("ECO1301", "Экономикалық теория", "Экономическая теория", "Economic Theory", 5),
    (
        "LAW1401",
        "Мемлекет және құқық теориясы",
        "Теория государства и права",
        "Theory of State and Law",
        5,
    ),
]

TEACHERS = [
    (
        "demo.teacher",
        "Мұхамедиева",
        "Гүлнар",
        "Серікқызы",
        "Ақпараттық жүйелер кафедрасы",
        "Қауымдастырылған профессор",
        "PhD",
    ),
    (
        "t.ospanov",
        "Оспанов",
        "Бауыржан",
        "Қайратұлы",
        "Ақпараттық жүйелер кафедрасы",
        "Аға оқытушы",
        "Магистр",
    ),
    ("t.volkova", "Волкова", "Елена", "Викторовна", "Кафедра математики", "Доцент", "к.ф.-м.н."),
    ("t.serikbayev", "Серікбаев", "Ерлан", "Маратұлы", "Тарих кафедрасы", "Профессор", "т.ғ.д."),
    (
        "t.smirnov",
        "Смирнов",
        "Андрей",
        "Игоревич",
        "Кафедра иностранных языков",
        "Старший преподаватель",
        "Магистр",
    ),
    (
        "t.abdrakhmanova",
        "Әбдірахманова",
        "Сәуле",
        "Нұрланқызы",
        "Қазақ тілі кафедрасы",
        "Доцент",
        "ф.ғ.к.",
    ),
    ("t.kuznetsov", "Кузнецов", "Дмитрий", "Олегович", "Кафедра экономики", "Доцент", "к.э.н."),
    (
        "t.zhumabayeva",
        "Жұмабаева",
        "Ақмарал",
        "Болатқызы",
        "Құқық кафедрасы",
        "Аға оқытушы",
        "Магистр",
    ),
]

KK_MALE = [
    "Нұрлан",
    "Дәулет",
    "Ерлан",
    "Асқар",
    "Бауыржан",
    "Қуаныш",
    "Ержан",
    "Темірлан",
    "Айбек",
    "Санжар",
]
KK_FEMALE = [
    "Айгерім",
    "Жансая",
    "Ақбота",
    "Мәдина",
    "Гүлнұр",
    "Аружан",
    "Дана",
    "Әсел",
    "Томирис",
    "Інжу",
]
KK_SURNAMES = [
    "Сәрсенбаев",
    "Нұрпейісов",
    "Жұмабаев",
    "Төлеуов",
    "Оспанов",
    "Құрманғалиев",
    "Серікбаев",
    "Әбдірахманов",
    "Ғабдуллин",
    "Өтепов",
]
RU_MALE = ["Иван", "Дмитрий", "Сергей", "Алексей", "Максим"]
RU_FEMALE = ["Анна", "Екатерина", "Мария", "Ольга", "Виктория"]
RU_SURNAMES = ["Петров", "Кузнецов", "Попов", "Волков", "Козлов", "Лебедев"]


def _feminine(surname: str) -> str:
    return surname + "а" if surname.endswith(("ов", "ев", "ин")) else surname


def _kk_patronymic(father: str, female: bool) -> str:
    return father + ("қызы" if female else "ұлы")


async def _get_or_create(session: AsyncSession, model: type, key: dict, **values: object):
    existing = await session.scalar(select(model).filter_by(**key))
    if existing is not None:
        return existing
    obj = model(**key, **values)
    session.add(obj)
    await session.flush()
    return obj


def period_code(year: int, term: int) -> str:
    return f"{year}-{year + 1}-{term}"


def period_dates(year: int, term: int) -> tuple[date, date]:
    if term == 1:
        return date(year, 9, 1), date(year + 1, 1, 17)
    return date(year + 1, 1, 19), date(year + 1, 6, 30)


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    year = ctx.year
    faculties = {}
    for code, kk, ru, en in FACULTIES:
        faculties[code] = await _get_or_create(
            session, Faculty, {"code": code}, name_kk=kk, name_ru=ru, name_en=en
        )
    programmes = {}
    for code, fac, kk, ru, en in PROGRAMMES:
        programmes[code] = await _get_or_create(
            session,
            Programme,
            {"code": code},
            faculty_id=faculties[fac].id,
            name_kk=kk,
            name_ru=ru,
            name_en=en,
        )
    forms = {}
    for code, kk, ru, en in STUDY_FORMS:
        forms[code] = await _get_or_create(
            session, StudyForm, {"code": code}, name_kk=kk, name_ru=ru, name_en=en
        )
    for code, kk, ru, en, credits in DISCIPLINES:
        await _get_or_create(
            session,
            Discipline,
            {"code": code},
            name_kk=kk,
            name_ru=ru,
            name_en=en,
            credits=credits,
        )
    for y in (year - 2, year - 1, year):
        for term in (1, 2):
            starts, ends = period_dates(y, term)
            await _get_or_create(
                session,
                AcademicPeriod,
                {"code": period_code(y, term)},
                academic_year=f"{y}-{y + 1}",
                term=term,
                starts_on=starts,
                ends_on=ends,
            )

    # Groups: (code, programme, form, course)
    group_specs = [
        (f"IS-{(year - 1) % 100:02d}-1", "6B06101", "full_time", 2),
        (f"IS-{(year - 2) % 100:02d}-1", "6B06101", "full_time", 3),
        (f"MT-{(year - 1) % 100:02d}-1", "6B01501", "full_time", 2),
        (f"EC-{year % 100:02d}-1", "6B04101", "full_time", 1),
        (f"EC-{(year - 2) % 100:02d}-2z", "6B04101", "part_time", 3),
        (f"LAW-{year % 100:02d}-1", "6B04201", "full_time", 1),
    ]
    groups = []
    for code, prog, form, course in group_specs:
        groups.append(
            await _get_or_create(
                session,
                Group,
                {"code": code},
                programme_id=programmes[prog].id,
                study_form_id=forms[form].id,
                course=course,
                admission_year=year - course + 1,
                language="kk" if "z" not in code else "ru",
            )
        )

    teachers = []
    for login, last, first, middle, dept, position, degree in TEACHERS:
        password = DEMO_ACCOUNTS["teacher"][1] if login == "demo.teacher" else None
        user = await _user(session, login, password, Role.teacher, last, first, middle)
        teachers.append(
            await _get_or_create(
                session,
                Teacher,
                {"user_id": user.id},
                department=dept,
                position=position,
                academic_degree=degree,
            )
        )

    for role in ("staff", "admin"):
        login, password = DEMO_ACCOUNTS[role]
        last, first = ("Төлегенова", "Динара") if role == "staff" else ("Ахметов", "Самат")
        await _user(session, login, password, Role(role), last, first, None)

    # The demo student: Kazakh letters in the name, in the first group.
    login, password = DEMO_ACCOUNTS["student"]
    user = await _user(session, login, password, Role.student, "Қасымов", "Әлихан", "Ұлықбекұлы")
    await _student(
        session,
        ctx,
        user,
        groups[0],
        teachers[0],
        "S" + f"{year - 1}0001",
        "M",
        date(year - 19, 3, 14),
    )

    rng = ctx.rng
    number = 2
    for group_index, group in enumerate(groups):
        for i in range(7):
            kazakh = rng.random() < 0.7
            female = rng.random() < 0.5
            if kazakh:
                first = rng.choice(KK_FEMALE if female else KK_MALE)
                surname = rng.choice(KK_SURNAMES)
                last = _feminine(surname) if female else surname
                middle = _kk_patronymic(rng.choice(KK_MALE), female)
            else:
                first = rng.choice(RU_FEMALE if female else RU_MALE)
                surname = rng.choice(RU_SURNAMES)
                last = _feminine(surname) if female else surname
                middle = rng.choice(
                    ["Сергеевна", "Игоревна"] if female else ["Сергеевич", "Игоревич"]
                )
            login = f"s{group.admission_year}{group_index}{i:02d}"
            u = await _user(session, login, None, Role.student, last, first, middle)
            birth = date(year - 17 - group.course, rng.randint(1, 12), rng.randint(1, 28))
            await _student(
                session,
                ctx,
                u,
                group,
                teachers[group_index % len(teachers)],
                f"S{group.admission_year}{number:04d}",
                "F" if female else "M",
                birth,
            )
            number += 1

    for role in ("student", "teacher", "staff", "admin"):
        login, password = DEMO_ACCOUNTS[role]
        ctx.accounts.append((role, login, password))


async def _user(
    session: AsyncSession,
    login: str,
    password: str | None,
    role: Role,
    last: str,
    first: str,
    middle: str | None,
) -> User:
    existing = await session.scalar(select(User).where(User.login == login))
    if existing is not None:
        return existing
    user = User(
        login=login,
        password_hash=await hash_password(password) if password else UNUSABLE_PASSWORD,
        role=role,
        last_name=last,
        first_name=first,
        middle_name=middle,
    )
    session.add(user)
    await session.flush()
    return user


async def _student(
    session: AsyncSession,
    ctx: DemoContext,
    user: User,
    group: Group,
    advisor: Teacher,
    student_no: str,
    gender: str,
    birth: date,
) -> Student:
    translit = user.login.replace(".", "_")
    return await _get_or_create(
        session,
        Student,
        {"user_id": user.id},
        student_no=student_no,
        group_id=group.id,
        advisor_id=advisor.id,
        birth_date=birth,
        gender=gender,
        citizenship="KZ",
        phone=f"+7 70{ctx.rng.randint(0, 9)} {ctx.rng.randint(100, 999)} "
        f"{ctx.rng.randint(10, 99)} {ctx.rng.randint(10, 99)}",
        email=f"{translit}@student.demo-university.kz",
        address="Атырау қ., Студенттер даңғылы, 1",
        admission_year=group.admission_year,
        funding="grant",
        status="active",
    )
