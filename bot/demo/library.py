"""The demo library: a few hundred catalogue items in Kazakh, Russian and English."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo.context import DemoContext
from bot.services.library import upsert_items

# kk, ru, en names of the subjects the generated textbooks cover.
SUBJECTS = [
    ("Қазақстан тарихы", "История Казахстана", "History of Kazakhstan"),
    ("Философия", "Философия", "Philosophy"),
    ("Қазақ тілі", "Казахский язык", "Kazakh Language"),
    ("Ағылшын тілі", "Английский язык", "English Language"),
    ("Ақпараттық технологиялар", "Информационные технологии", "Information Technology"),
    ("Математикалық талдау", "Математический анализ", "Calculus"),
    ("Сызықтық алгебра", "Линейная алгебра", "Linear Algebra"),
    ("Python тілінде бағдарламалау", "Программирование на Python", "Programming in Python"),
    ("Деректер қоры", "Базы данных", "Databases"),
    ("Алгоритмдер", "Алгоритмы", "Algorithms"),
    ("Компьютерлік желілер", "Компьютерные сети", "Computer Networks"),
    ("Веб-әзірлеу", "Веб-разработка", "Web Development"),
    ("Операциялық жүйелер", "Операционные системы", "Operating Systems"),
    ("Ықтималдықтар теориясы", "Теория вероятностей", "Probability Theory"),
    ("Экономикалық теория", "Экономическая теория", "Economic Theory"),
    ("Менеджмент", "Менеджмент", "Management"),
    ("Маркетинг", "Маркетинг", "Marketing"),
    ("Бухгалтерлік есеп", "Бухгалтерский учёт", "Accounting"),
    ("Мемлекет және құқық теориясы", "Теория государства и права", "Theory of State and Law"),
    ("Азаматтық құқық", "Гражданское право", "Civil Law"),
    ("Педагогика", "Педагогика", "Pedagogy"),
    ("Психология", "Психология", "Psychology"),
    ("Физика", "Физика", "Physics"),
    ("Химия", "Химия", "Chemistry"),
    ("Экология", "Экология", "Ecology"),
]

TITLE_PATTERNS = {
    "kk": ["{s}: оқулық", "{s}: оқу құралы", "{s} бойынша практикум", "{s}: дәрістер курсы"],
    "ru": ["{s}: учебник", "{s}: учебное пособие", "Практикум по курсу «{s}»", "{s}: курс лекций"],
    "en": [
        "{s}: A Textbook",
        "Introduction to {s}",
        "{s}: Exercises and Problems",
        "{s} in Practice",
    ],
}

AUTHORS = {
    "kk": [
        "Жұмабаев Қ.Ә.",
        "Сәрсенбаева Г.Н.",
        "Нұрпейісов Ә.Т.",
        "Құрманғалиев Е.С.",
        "Өтепова Ж.Қ.",
        "Ғабдуллин М.Ғ.",
        "Әбдірахманова С.Н.",
        "Төлеуов Б.Ө.",
    ],
    "ru": [
        "Иванов А.П.",
        "Петрова Е.С.",
        "Кузнецов Д.О.",
        "Волкова Е.В.",
        "Смирнов А.И.",
        "Лебедева О.Н.",
        "Попов С.В.",
        "Козлова М.А.",
    ],
    "en": [
        "Smith J.",
        "Brown A.",
        "Taylor R.",
        "Wilson K.",
        "Johnson M.",
        "Clarke P.",
        "Evans L.",
        "Walker D.",
    ],
}

PUBLISHERS = {
    "kk": ["Атамұра", "Мектеп", "Фолиант", "Қазақ университеті", "Эверо"],
    "ru": ["Юрайт", "Питер", "Фолиант", "Эверо", "Лань"],
    "en": ["Pearson", "Springer", "O'Reilly", "Cambridge University Press", "Wiley"],
}

DESCRIPTIONS = {
    "kk": (
        "«{s}» пәні бойынша жоғары оқу орындарының студенттеріне арналған басылым. "
        "Негізгі ұғымдар, мысалдар мен өзін-өзі тексеру сұрақтары берілген."
    ),
    "ru": (
        "Издание для студентов высших учебных заведений по дисциплине «{s}». "
        "Содержит основные понятия, примеры и вопросы для самопроверки."
    ),
    "en": (
        "A book for university students of {s}. It covers the key concepts with worked "
        "examples and review questions."
    ),
}

BODY_CHAPTERS = {
    "kk": [
        "Кіріспе",
        "1-тарау. Негізгі ұғымдар",
        "2-тарау. Мысалдар",
        "Өзін-өзі тексеру сұрақтары",
    ],
    "ru": [
        "Введение",
        "Глава 1. Основные понятия",
        "Глава 2. Примеры",
        "Вопросы для самопроверки",
    ],
    "en": ["Introduction", "Chapter 1. Key concepts", "Chapter 2. Examples", "Review questions"],
}

LOCATIONS = [
    "Абонемент, 1-қабат, {n}-сөре",
    "Оқу залы №2, {n}-сөре",
    "Читальный зал №1, стеллаж {n}",
    "Абонемент учебной литературы, стеллаж {n}",
]

# Well-known books, so that searches by a real author or title find something familiar.
CLASSICS = [
    {
        "code": "KZ-0001",
        "title": "Абай жолы",
        "authors": "Әуезов М.О.",
        "publisher": "Жазушы",
        "year": 2013,
        "language": "kk",
        "kind": "paper",
        "description": "Ұлы ақын Абай Құнанбайұлының өмірі туралы роман-эпопея.",
    },
    {
        "code": "KZ-0002",
        "title": "Қара сөздер",
        "authors": "Абай Құнанбайұлы",
        "publisher": "Атамұра",
        "year": 2020,
        "language": "kk",
        "kind": "electronic",
        "description": "Абайдың қырық бес қара сөзі: философиялық және ағартушылық ойлар.",
    },
    {
        "code": "KZ-0003",
        "title": "Путь Абая",
        "authors": "Ауэзов М.О.",
        "publisher": "Жазушы",
        "year": 2011,
        "language": "ru",
        "kind": "paper",
        "description": "Роман-эпопея о жизни поэта Абая Кунанбаева в переводе на русский язык.",
    },
    {
        "code": "KZ-0004",
        "title": "Көшпенділер",
        "authors": "Есенберлин І.",
        "publisher": "Жазушы",
        "year": 2018,
        "language": "kk",
        "kind": "paper",
        "description": "Қазақ хандығының тарихы туралы трилогия.",
    },
    {
        "code": "KZ-0005",
        "title": "Кочевники",
        "authors": "Есенберлин И.",
        "publisher": "Фолиант",
        "year": 2016,
        "language": "ru",
        "kind": "electronic",
        "description": "Историческая трилогия о Казахском ханстве.",
    },
    {
        "code": "CS-0001",
        "title": "Structure and Interpretation of Computer Programs",
        "authors": "Abelson H., Sussman G.J.",
        "publisher": "MIT Press",
        "year": 1996,
        "language": "en",
        "kind": "paper",
        "description": "The classic introduction to programming and abstraction.",
    },
    {
        "code": "CS-0002",
        "title": "Database System Concepts",
        "authors": "Silberschatz A., Korth H.F., Sudarshan S.",
        "publisher": "McGraw-Hill",
        "year": 2019,
        "language": "en",
        "kind": "paper",
        "description": "Relational model, SQL, storage, indexing and transactions.",
    },
    {
        "code": "CS-0003",
        "title": "Introduction to Algorithms",
        "authors": "Cormen T.H., Leiserson C.E., Rivest R.L., Stein C.",
        "publisher": "MIT Press",
        "year": 2022,
        "language": "en",
        "kind": "paper",
        "description": "Sorting, graphs, dynamic programming and the analysis of algorithms.",
    },
]


def build_rows(seed: int = 20250901) -> list[dict[str, object]]:
    """The demo catalogue: classics plus four books per subject and language."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for classic in CLASSICS:
        row = dict(classic)
        if row["kind"] == "paper":
            total = rng.randint(3, 25)
            row.update(
                location=rng.choice(LOCATIONS).format(n=rng.randint(1, 40)),
                copies_total=total,
                copies_free=rng.randint(0, total),
            )
        else:
            row["body"] = f"{row['title']}\n\n{row['description']}"
        rows.append(row)
    number = 1
    for names in SUBJECTS:
        for language, subject in zip(("kk", "ru", "en"), names, strict=True):
            for pattern in TITLE_PATTERNS[language]:
                kind = "electronic" if rng.random() < 0.5 else "paper"
                authors = ", ".join(rng.sample(AUTHORS[language], rng.choice((1, 1, 2))))
                description = DESCRIPTIONS[language].format(s=subject)
                row: dict[str, object] = {
                    "code": f"LIB-{number:05d}",
                    "title": pattern.format(s=subject),
                    "authors": authors,
                    "publisher": rng.choice(PUBLISHERS[language]),
                    "year": rng.randint(1998, 2025),
                    "language": language,
                    "kind": kind,
                    "description": description,
                }
                if kind == "paper":
                    total = rng.randint(1, 30)
                    row.update(
                        location=rng.choice(LOCATIONS).format(n=rng.randint(1, 40)),
                        copies_total=total,
                        copies_free=rng.randint(0, total),
                    )
                else:
                    chapters = BODY_CHAPTERS[language]
                    row["body"] = "\n\n".join(
                        [f"{chapter}\n{description}" for chapter in chapters]
                    )
                rows.append(row)
                number += 1
    return rows


async def seed(session: AsyncSession, ctx: DemoContext) -> None:
    report = await upsert_items(session, build_rows())
    if report.errors:
        raise RuntimeError(f"demo library rows rejected: {report.errors[:3]}")
