"""Tests for question-bank import (Platonus tags, GIFT, Aiken; .txt and .docx)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from PIL import Image

from bot.services.question_import import (
    MAX_OPTION_LENGTH,
    MAX_TEXT_LENGTH,
    BankFormat,
    Difficulty,
    ImportProblem,
    ParseResult,
    ProblemReason,
    QuestionKind,
    parse_bank,
)

R = ProblemReason


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def problems(result: ParseResult) -> list[tuple[int, ProblemReason]]:
    return [(p.line, p.reason) for p in result.problems]


def texts(result: ParseResult) -> list[str]:
    return [q.text for q in result.questions]


def docx_bytes(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    """Build a .docx: the paragraphs, then (optionally) a table with one string per cell."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------- Platonus

PLATONUS = """Пән: Қазақстан тарихы (title lines before the first tag are ignored)

<question>Қазақ хандығы қай жылы құрылды?
<variant>1465
<variant>1511
<variant>1731
<variant>1991

<question1>Столица Казахстана с 1997 года?
<variant>Астана
<variant>Алматы
<variant>Шымкент

<Question2>Вопрос, текст которого
продолжается на следующей строке
<variant>правильный ответ,
тоже на двух строках
<variant>неправильный

< question3 >Hard one: 2 + 2 = ?
<variant>4
<variant>5

<question difficulty=hard>Attribute style level
<VARIANT>yes
<variant>no
"""


def test_platonus_well_formed() -> None:
    result = parse_bank("bank.txt", PLATONUS.encode())
    assert result.format == BankFormat.platonus == "platonus"
    assert result.problems == []
    assert len(result.questions) == 5

    first, second, third, fourth, fifth = result.questions
    assert first.text == "Қазақ хандығы қай жылы құрылды?"
    assert first.options == ["1465", "1511", "1731", "1991"]
    # The Platonus convention: the first variant is the correct one.
    assert first.correct == [0]
    assert first.kind is QuestionKind.single
    assert first.line == line_of(PLATONUS, "Қазақ хандығы")

    assert second.options == ["Астана", "Алматы", "Шымкент"]
    assert third.text == "Вопрос, текст которого продолжается на следующей строке"
    assert third.options == ["правильный ответ, тоже на двух строках", "неправильный"]
    assert third.line == line_of(PLATONUS, "<Question2>")
    assert fourth.text == "Hard one: 2 + 2 = ?"
    assert fifth.options == ["yes", "no"]

    levels = [q.difficulty for q in result.questions]
    assert levels == [
        Difficulty.medium,  # plain <question> takes the default
        Difficulty.easy,
        Difficulty.medium,
        Difficulty.hard,
        Difficulty.hard,
    ]


def test_platonus_default_difficulty_applies_only_to_plain_tags() -> None:
    result = parse_bank("bank.txt", PLATONUS.encode(), Difficulty.hard)
    assert [q.difficulty for q in result.questions][:2] == [Difficulty.hard, Difficulty.easy]
    result = parse_bank("bank.txt", PLATONUS.encode(), None)
    assert result.questions[0].difficulty is None
    assert result.questions[3].difficulty is Difficulty.hard


def test_platonus_variantright_marks_the_correct_set() -> None:
    text = "\n".join(
        [
            "<question>Select the prime numbers",
            "<variant>4",
            "<variantright>2",
            "<variant>9",
            "<Variant Right>7",
            "<question>Only one marked: first-variant rule is off",
            "<variant>wrong first",
            "<variant_right>right second",
            "<question>No marks: first variant is right",
            "<variant>right",
            "<variant>wrong",
        ]
    )
    result = parse_bank("bank.txt", text.encode())
    assert result.problems == []
    multi, single, plain = result.questions
    assert multi.correct == [1, 3]
    assert multi.kind is QuestionKind.multiple
    assert single.correct == [1]
    assert single.kind is QuestionKind.single
    assert plain.correct == [0]


def test_platonus_tags_on_one_line_and_closing_tags() -> None:
    text = (
        "<question>2+2?<variant>4</variant><variant>5</variant>"
        " <question>3+3? <variant>6<variant>7"
    )
    result = parse_bank("bank.txt", text.encode())
    assert [(q.text, q.options, q.line) for q in result.questions] == [
        ("2+2?", ["4", "5"], 1),
        ("3+3?", ["6", "7"], 1),
    ]


PLATONUS_BROKEN = "\n".join(
    [
        "<variant>orphan option before any question",
        "<question>Good one",
        "<variant>a",
        "<variant>b",
        "<question>No options at all",
        "<question>Only one option",
        "<variant>lonely",
        "<question>",
        "<variant>x",
        "<variant>y",
        "<question>Empty option in the middle",
        "<variant>a",
        "<variant>   ",
        "<variant>c",
        "<question>Repeated option",
        "<variant>Same  answer",
        "<variant>same answer",
        "<question>" + "L" * (MAX_TEXT_LENGTH + 1),
        "<variant>a",
        "<variant>b",
        "<question>Option too long",
        "<variant>" + "o" * (MAX_OPTION_LENGTH + 1),
        "<variant>b",
        "<question>good   ONE",
        "<variant>B",
        "<variant>a",
        "<question7>Unknown level",
        "<variant>a",
        "<variant>b",
        "<question>Bad variant tag",
        "<variant wrong>a",
        "<variant>b",
        "<question>Last good one",
        "<variant>yes",
        "<variant>no",
    ]
)


def test_platonus_each_broken_question_is_reported_at_its_line() -> None:
    result = parse_bank("bank.txt", PLATONUS_BROKEN.encode())
    assert texts(result) == ["Good one", "Last good one"]
    assert result.questions[1].options == ["yes", "no"]
    assert problems(result) == [
        (line_of(PLATONUS_BROKEN, "orphan option"), R.bad_syntax),
        (line_of(PLATONUS_BROKEN, "No options at all"), R.no_options),
        (line_of(PLATONUS_BROKEN, "Only one option"), R.one_option),
        (line_of(PLATONUS_BROKEN, "<variant>x") - 1, R.empty_text),
        (line_of(PLATONUS_BROKEN, "Empty option in"), R.empty_option),
        (line_of(PLATONUS_BROKEN, "Repeated option"), R.duplicate_option),
        (line_of(PLATONUS_BROKEN, "LLLL"), R.too_long),
        (line_of(PLATONUS_BROKEN, "Option too long"), R.too_long),
        # Same text and option set as "Good one", up to case, spacing and option order.
        (line_of(PLATONUS_BROKEN, "good   ONE"), R.duplicate),
        (line_of(PLATONUS_BROKEN, "<question7>"), R.bad_syntax),
        (line_of(PLATONUS_BROKEN, "Bad variant tag"), R.bad_syntax),
    ]
    details = {p.line: p.detail for p in result.problems}
    assert details[line_of(PLATONUS_BROKEN, "Repeated option")] == "same answer"
    assert details[line_of(PLATONUS_BROKEN, "<question7>")] == "<question7>"
    assert all(len(p.detail) <= 60 for p in result.problems)


def test_platonus_broken_question_does_not_leak_into_neighbours() -> None:
    text = "\n".join(
        [
            "<question>Before",
            "<variant>b1",
            "<variant>b2",
            "<question>Broken: options never come",
            "<question>After",
            "<variant>a1",
            "<variant>a2",
        ]
    )
    result = parse_bank("bank.txt", text.encode())
    assert [(q.text, q.options, q.correct) for q in result.questions] == [
        ("Before", ["b1", "b2"], [0]),
        ("After", ["a1", "a2"], [0]),
    ]
    assert problems(result) == [(4, R.no_options)]


def test_platonus_unclosed_tag_is_a_boundary_not_text() -> None:
    text = "\n".join(
        [
            "<question>First",
            "<variant>a",
            "<variant>b",
            "<question Second, the tag was never closed",
            "<variant>c",
            "<variant>d",
            "<question>Third",
            "<variant>e",
            "<variant>f",
        ]
    )
    result = parse_bank("bank.txt", text.encode())
    assert [(q.text, q.options) for q in result.questions] == [
        ("First", ["a", "b"]),
        ("Third", ["e", "f"]),
    ]
    assert problems(result) == [(4, R.bad_syntax)]


def test_platonus_html_image_makes_question_unsupported() -> None:
    text = '<question>Что на рисунке? <img src="q1.png">\n<variant>a\n<variant>b'
    result = parse_bank("bank.txt", text.encode())
    assert result.questions == []
    assert [(p.line, p.reason, p.detail) for p in result.problems] == [
        (1, R.unsupported, "Что на рисунке? [?]")
    ]


def test_platonus_html_leftovers_are_stripped() -> None:
    text = "<question><p>Пример&nbsp;<b>жирного</b> текста</p>\n<variant>a<br>b\n<variant>x &lt; y"
    result = parse_bank("bank.txt", text.encode())
    (question,) = result.questions
    assert question.text == "Пример жирного текста"
    # The option without tags keeps its entity verbatim: only HTML exports are unescaped.
    assert question.options == ["a b", "x &lt; y"]


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "cp1251"],
)
def test_platonus_encodings(encoding: str) -> None:
    text = "<question>Какой город — столица?\r\n<variant>Астана\r\n<variant>Алматы\r\n"
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    result = parse_bank("bank.txt", data)
    assert result.problems == []
    assert [(q.text, q.options) for q in result.questions] == [
        ("Какой город — столица?", ["Астана", "Алматы"])
    ]


def test_kazakh_letters_in_utf8_are_kept() -> None:
    # cp1251 has no Ұ, ң and the like, so a UTF-8 file must never go through the fallback.
    text = "<question>Ұлттық валюта?\n<variant>Теңге\n<variant>Рубль"
    result = parse_bank("bank.txt", text.encode("utf-8"))
    assert result.questions[0].options == ["Теңге", "Рубль"]


def test_detection_prefers_platonus_tags() -> None:
    text = "<question>Which set is {1, 2}?\nANSWER: none\n<variant>A\n<variant>B"
    result = parse_bank("bank.txt", text.encode())
    assert result.format == BankFormat.platonus
    assert result.questions[0].text == "Which set is {1, 2}? ANSWER: none"


# ------------------------------------------------------------------------------------- .docx


def test_docx_paragraphs_and_paragraph_numbers() -> None:
    data = docx_bytes(
        "Тест: Информатика",
        "<question>Что такое байт?",
        "<variant>8 бит",
        "<variant>4 бит",
        "",
        "<question2>Пустой вопрос без вариантов",
        "<question3>Сложный вопрос",
        "<variant>да",
        "<variant>нет",
    )
    result = parse_bank("Банк.DOCX", data)
    assert result.format == BankFormat.platonus
    assert [(q.text, q.line, q.difficulty) for q in result.questions] == [
        ("Что такое байт?", 2, Difficulty.medium),
        ("Сложный вопрос", 7, Difficulty.hard),
    ]
    assert problems(result) == [(6, R.no_options)]


def test_docx_table_cells_are_read_in_order() -> None:
    data = docx_bytes(
        "Intro paragraph",
        table=[
            ["<question>Capital of France?", "<variant>Paris", "<variant>Rome"],
            ["<question>Capital of Italy?", "<variant>Rome", "<variant>Paris"],
        ],
    )
    result = parse_bank("bank.docx", data)
    assert result.problems == []
    assert [(q.text, q.options, q.line) for q in result.questions] == [
        ("Capital of France?", ["Paris", "Rome"], 2),
        ("Capital of Italy?", ["Rome", "Paris"], 5),
    ]


def test_docx_line_breaks_inside_a_paragraph() -> None:
    document = Document()
    paragraph = document.add_paragraph("<question>Two plus two?")
    run = paragraph.add_run()
    run.add_break()
    paragraph.add_run("<variant>four")
    paragraph.add_run().add_break()
    paragraph.add_run("<variant>five")
    buffer = io.BytesIO()
    document.save(buffer)
    (question,) = parse_bank("bank.docx", buffer.getvalue()).questions
    assert question.text == "Two plus two?"
    assert question.options == ["four", "five"]
    assert question.line == 1


def test_docx_question_with_picture_is_refused_not_imported_without_it() -> None:
    image = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(image, format="PNG")
    document = Document()
    document.add_paragraph("<question>Good question")
    document.add_paragraph("<variant>a")
    document.add_paragraph("<variant>b")
    document.add_paragraph("<question>What is shown in the picture?")
    image.seek(0)
    document.add_picture(image)
    document.add_paragraph("<variant>a square")
    document.add_paragraph("<variant>a circle")
    document.add_paragraph("<question>Another good question")
    document.add_paragraph("<variant>c")
    document.add_paragraph("<variant>d")
    buffer = io.BytesIO()
    document.save(buffer)
    result = parse_bank("bank.docx", buffer.getvalue())
    assert texts(result) == ["Good question", "Another good question"]
    assert problems(result) == [(4, R.unsupported)]


def test_docx_recognised_by_content_whatever_the_extension() -> None:
    data = docx_bytes("<question>Renamed file", "<variant>a", "<variant>b")
    assert texts(parse_bank("bank.txt", data)) == ["Renamed file"]


def test_docx_in_aiken_syntax() -> None:
    data = docx_bytes("Which is a vowel?", "A) b", "B) e", "ANSWER: B")
    result = parse_bank("bank.docx", data)
    assert result.format == BankFormat.aiken
    assert result.questions[0].correct == [1]


# ---------------------------------------------------------------------------------- bad files


def test_bad_files() -> None:
    def reason(filename: str, data: bytes, **kwargs: int) -> list[ImportProblem]:
        result = parse_bank(filename, data, **kwargs)
        assert result.questions == []
        assert [(p.line, p.reason) for p in result.problems] == [(0, R.bad_file)]
        return result.problems

    good = b"<question>q\n<variant>a\n<variant>b"
    reason("bank.txt", good, max_bytes=10)
    reason("bank.txt", b"x" * 20, max_bytes=10)
    reason("bank.pdf", good)
    reason("bank.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    reason("bank.docx", b"not a zip at all")
    reason("bank.docx", b"PK\x03\x04 truncated")
    reason("bank.txt", b"")
    reason("bank.txt", b"   \n\n")
    reason("bank.txt", "Просто текст без разметки.\nВторая строка.".encode())
    reason("bank.txt", "<question>x".encode("utf-16-le"))  # UTF-16 without BOM
    reason("bank.gift", b"// only a comment\n")
    assert parse_bank("bank.txt", good).questions


def test_default_size_limit_is_five_megabytes() -> None:
    data = b"<question>q\n<variant>a\n<variant>b\n" + b" " * (5 * 1024 * 1024)
    assert problems(parse_bank("bank.txt", data)) == [(0, R.bad_file)]


# -------------------------------------------------------------------------------------- GIFT

GIFT = r"""// Moodle export
$CATEGORY: $course$/Информатика

::Q1:: Столица Казахстана? {=Астана ~Алматы#Нет, это бывшая столица ~Шымкент}

::Q2::[html]<p>Which are prime?</p> {
  ~%50%2
  ~%50%3
  ~%-100%4
  ####General feedback is dropped
}

Escapes\: 1 \= 1, braces \{\}, hash \# and tilde \~ {
  =a \= b
  ~c \~ d
  ~e \# f
  ~g \{h\}
}

// a comment between questions
Қазақстан Тәуелсіздігін 1991 жылы алды. {T}

The Earth is flat.{FALSE#Wrong!}

Moodle costs {~lots of money =nothing ~a small amount} to download.
"""


def test_gift_well_formed() -> None:
    result = parse_bank("bank.gift", GIFT.encode())
    assert result.format == BankFormat.gift
    assert result.problems == []
    q1, q2, q3, q4, q5, q6 = result.questions

    assert q1.text == "Столица Казахстана?"
    assert q1.options == ["Астана", "Алматы", "Шымкент"]
    assert q1.correct == [0]
    assert q1.line == line_of(GIFT, "::Q1::")

    assert q2.text == "Which are prime?"
    assert q2.options == ["2", "3", "4"]
    assert q2.correct == [0, 1]
    assert q2.kind is QuestionKind.multiple
    assert q2.line == line_of(GIFT, "::Q2::")

    assert q3.text == "Escapes: 1 = 1, braces {}, hash # and tilde ~"
    assert q3.options == ["a = b", "c ~ d", "e # f", "g {h}"]
    assert q3.correct == [0]

    assert (q4.options, q4.correct) == (["True", "False"], [0])
    assert q4.text == "Қазақстан Тәуелсіздігін 1991 жылы алды."
    assert (q5.options, q5.correct) == (["True", "False"], [1])

    assert q6.text == "Moodle costs _____ to download."
    assert q6.correct == [1]
    assert all(q.difficulty is Difficulty.medium for q in result.questions)


def test_gift_partial_credit_next_to_equals_is_not_a_correct_answer() -> None:
    text = "Pick the best {=best ~%50%half right ~wrong}"
    (question,) = parse_bank("bank.gift", text.encode()).questions
    assert question.correct == [0]
    assert question.kind is QuestionKind.single


GIFT_MIXED = """Good one {=yes ~no}

Matching {
=cat -> mammal
=eagle -> bird
}

Numeric answer {#42:1}

Short answer {=Paris =paris}

Essay {}

Just a description with no answers.

Unbalanced {=a ~b

Another good one {~%100%only ~%0%not}

No correct here {~a ~b}

Good one {=yes ~no}
"""


def test_gift_unsupported_kinds_next_to_good_ones() -> None:
    result = parse_bank("bank.gift", GIFT_MIXED.encode())
    assert texts(result) == ["Good one", "Another good one"]
    assert result.questions[1].correct == [0]
    assert problems(result) == [
        (line_of(GIFT_MIXED, "Matching"), R.unsupported),
        (line_of(GIFT_MIXED, "Numeric"), R.unsupported),
        (line_of(GIFT_MIXED, "Short answer"), R.unsupported),
        (line_of(GIFT_MIXED, "Essay"), R.unsupported),
        (line_of(GIFT_MIXED, "description"), R.unsupported),
        (line_of(GIFT_MIXED, "Unbalanced"), R.bad_syntax),
        (line_of(GIFT_MIXED, "No correct"), R.no_correct),
        (len(GIFT_MIXED.rstrip("\n").split("\n")), R.duplicate),
    ]


def test_gift_detected_in_txt() -> None:
    result = parse_bank("bank.txt", "What is 2+2? {=4 ~3 ~5}".encode("cp1251"))
    assert result.format == BankFormat.gift
    assert result.questions[0].options == ["4", "3", "5"]


# ------------------------------------------------------------------------------------- Aiken

AIKEN = """Қазақстанның астанасы қай қала?
A) Астана
B) Алматы
C) Шымкент
ANSWER: A

Which of these are
programming languages?
A. Python
B. HTML
C. Rust
D. CSS
ANSWER: A, C

Вопрос с русскими буквами вариантов
А) первый
Б) второй
В) третий
ANSWER: В
"""


def test_aiken_single_and_multiple() -> None:
    result = parse_bank("bank.txt", AIKEN.encode())
    assert result.format == BankFormat.aiken
    assert result.problems == []
    first, second, third = result.questions
    assert first.options == ["Астана", "Алматы", "Шымкент"]
    assert (first.correct, first.kind) == ([0], QuestionKind.single)
    assert second.text == "Which of these are programming languages?"
    assert (second.correct, second.kind) == ([0, 2], QuestionKind.multiple)
    assert second.line == line_of(AIKEN, "Which of these")
    # Cyrillic labels: "В" is the third option, not the Latin "B".
    assert third.correct == [2]


def test_aiken_extension_and_lookalike_answer_letter() -> None:
    # Latin labels, answer typed with a Cyrillic "С" on a Russian keyboard layout, and
    # labels without a space after the bracket.
    text = "Pick C\nA)a\nB)b\nC)c\nANSWER: С"
    result = parse_bank("bank.aiken", text.encode())
    assert result.format == BankFormat.aiken
    assert result.questions[0].options == ["a", "b", "c"]
    assert result.questions[0].correct == [2]


def test_aiken_first_line_is_text_even_if_it_looks_like_an_option() -> None:
    text = "A. Baitursynuly reformed which alphabet?\nA. Kazakh\nB. Latin\nANSWER: A"
    (question,) = parse_bank("bank.txt", text.encode()).questions
    assert question.text == "A. Baitursynuly reformed which alphabet?"
    assert question.options == ["Kazakh", "Latin"]


AIKEN_BROKEN = """Good first
A) one
B) two
ANSWER: B

Missing answer line
A) x
B) y

Second good
A) p
B) q
ANSWER: A

Answer out of range
A) a
B) b
ANSWER: D

ANSWER: A

Only one option
A) single
ANSWER: A

Bad answer syntax
A) a
B) b
ANSWER: first

Good first
A) two
B) one
ANSWER: A

Last good
A) l1
B) l2
ANSWER: B
"""


def test_aiken_broken_questions_do_not_affect_neighbours() -> None:
    result = parse_bank("bank.txt", AIKEN_BROKEN.encode())
    assert [(q.text, q.options, q.correct) for q in result.questions] == [
        ("Good first", ["one", "two"], [1]),
        ("Second good", ["p", "q"], [0]),
        ("Last good", ["l1", "l2"], [1]),
    ]
    assert problems(result) == [
        (line_of(AIKEN_BROKEN, "Missing answer"), R.no_correct),
        (line_of(AIKEN_BROKEN, "out of range"), R.no_correct),
        (line_of(AIKEN_BROKEN, "Only one option") - 2, R.bad_syntax),  # orphan ANSWER
        (line_of(AIKEN_BROKEN, "Only one option"), R.one_option),
        (line_of(AIKEN_BROKEN, "Bad answer syntax"), R.bad_syntax),
        (line_of(AIKEN_BROKEN, "A) two") - 1, R.duplicate),
    ]
