"""Import of multiple-choice question banks from the formats teachers already use.

Supported syntaxes:

* **Platonus-style tags** (``.txt`` or ``.docx``), the format Kazakh university systems load
  banks from::

      <question>Text of the question
      <variant>correct answer
      <variant>wrong answer

  The first ``<variant>`` is the correct one unless the question marks its correct options
  with ``<variantright>`` (also ``<variant right>``), in which case exactly those are correct
  and several may be. ``<question>`` takes the caller's default difficulty, while
  ``<question1>``, ``<question2>`` and ``<question3>`` are the three Platonus levels (easy,
  medium, hard). ``<question difficulty=hard>`` / ``<question level=3>`` are read too. Tags
  are case-insensitive and may contain spaces; a question's or option's text may run over
  several lines until the next tag.
* **Moodle GIFT** (``.gift``, or ``.txt`` that looks like it): single answer ``{=a ~b}``,
  multiple answer ``{~%50%a ~%50%b ~%-100%c}``, true/false ``{T}``/``{F}``. Matching,
  numeric, short-answer, essay and description items are reported as ``unsupported``.
* **Moodle Aiken** (``.aiken``, or ``.txt`` with ``ANSWER:`` lines), with ``ANSWER: A, C``
  accepted for multiple answers.

The parser never imports part of a question: anything wrong with a question turns the whole
question into an :class:`ImportProblem` carrying the line where it starts (for ``.docx``, the
paragraph number, counting paragraphs inside tables), and the next question is parsed
independently. File-level problems use line ``0``.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_OPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "TRUE_FALSE_OPTIONS",
    "BankFormat",
    "Difficulty",
    "ImportProblem",
    "ParseResult",
    "ParsedQuestion",
    "ProblemReason",
    "QuestionKind",
    "parse_bank",
    "parse_bank_bounded",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
# Telegram's limits for a message and for the text a bot shows next to an answer button.
MAX_TEXT_LENGTH = 4000
MAX_OPTION_LENGTH = 1000
# GIFT true/false items become an ordinary two-option question with these options.
TRUE_FALSE_OPTIONS = ("True", "False")

_EXCERPT_LENGTH = 60
# A .docx is a zip archive; a small upload may still inflate to gigabytes. Its members may
# hold at most this many times the file cap in all (pictures hardly compress, text does).
MAX_UNPACKED_RATIO = 2
# Wall-clock and memory limits of one parse (see parse_bank_bounded).
PARSE_TIMEOUT_SECONDS = 30.0
PARSE_MEMORY_BYTES = 1024 * 1024 * 1024
# Put in place of pictures, formulas and symbols that a .docx holds but plain text cannot.
_OBJECT = "\ufffc"


class Difficulty(StrEnum):
    """Difficulty level of a question."""

    easy = "easy"
    medium = "medium"
    hard = "hard"


class QuestionKind(StrEnum):
    """Whether a question has one or several correct options."""

    single = "single"
    multiple = "multiple"


class ProblemReason(StrEnum):
    """Why a question (or the whole file) was not imported; the UI translates these."""

    no_options = "no_options"
    one_option = "one_option"
    no_correct = "no_correct"
    duplicate = "duplicate"
    empty_text = "empty_text"
    empty_option = "empty_option"
    duplicate_option = "duplicate_option"
    too_long = "too_long"
    bad_syntax = "bad_syntax"
    unsupported = "unsupported"
    bad_file = "bad_file"


class BankFormat(StrEnum):
    """Syntax a bank was recognised as."""

    platonus = "platonus"
    gift = "gift"
    aiken = "aiken"
    unknown = "unknown"


@dataclass(slots=True)
class ParsedQuestion:
    """A validated question ready to be stored.

    ``correct`` holds indexes into ``options``; ``line`` is where the question starts in the
    source file (1-based line, or paragraph number for .docx).
    """

    text: str
    options: list[str]
    correct: list[int]
    difficulty: Difficulty | None
    line: int

    @property
    def kind(self) -> QuestionKind:
        """Single choice if exactly one option is correct, multiple choice otherwise."""
        return QuestionKind.single if len(self.correct) == 1 else QuestionKind.multiple


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A question (or, with ``line == 0``, the file) that was refused."""

    line: int
    reason: ProblemReason
    detail: str


@dataclass(slots=True)
class ParseResult:
    """Outcome of parsing one file."""

    questions: list[ParsedQuestion]
    problems: list[ImportProblem]
    format: str


def parse_bank(
    filename: str,
    data: bytes,
    default_difficulty: Difficulty | None = Difficulty.medium,
    max_bytes: int = MAX_FILE_BYTES,
) -> ParseResult:
    """Parse an uploaded question bank.

    The syntax is chosen from the extension and, for ``.txt`` and ``.docx``, from the
    content: ``<question`` tags mean Platonus, ``ANSWER:`` lines mean Aiken, ``{...}`` answer
    blocks mean GIFT.

    :param filename: the uploaded file's name; only the extension is used.
    :param data: the file's content.
    :param default_difficulty: given to questions whose source does not state a level.
    :param max_bytes: larger files are refused without being read.
    """
    if len(data) > max_bytes:
        return _file_problem(f"{len(data)} bytes, limit {max_bytes}")
    if not data.strip():
        return _file_problem("empty file")

    suffix = PurePath(filename).suffix.lower()
    if suffix == ".docx" or data.startswith(b"PK\x03\x04"):
        try:
            lines = _docx_lines(data, max_unpacked=max_bytes * MAX_UNPACKED_RATIO)
        except _BadFile as exc:
            return _file_problem(str(exc))
    elif suffix in {".txt", ".text", ".gift", ".aiken", ""}:
        text = _decode(data)
        if text is None:
            return _file_problem("not a text file")
        lines = _text_lines(text)
    else:
        return _file_problem(f"unsupported file type {suffix}")

    if suffix == ".gift":
        fmt = BankFormat.gift
    elif suffix == ".aiken":
        fmt = BankFormat.aiken
    else:
        fmt = _sniff("\n".join(line for _, line in lines))
    if fmt is BankFormat.unknown:
        return _file_problem("no <question>, ANSWER: or {…} markup found")

    parser = {
        BankFormat.platonus: _parse_platonus,
        BankFormat.gift: _parse_gift,
        BankFormat.aiken: _parse_aiken,
    }[fmt]
    result = _validate(parser(lines, default_difficulty), fmt)
    if not result.questions and not result.problems:
        result.problems.append(ImportProblem(0, ProblemReason.bad_file, "no questions found"))
    return result


async def parse_bank_bounded(
    filename: str,
    data: bytes,
    default_difficulty: Difficulty | None = Difficulty.medium,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    time_limit: float | None = None,
) -> ParseResult:
    """:func:`parse_bank` in a child process, within :data:`PARSE_TIMEOUT_SECONDS` and
    :data:`PARSE_MEMORY_BYTES`, so a hostile file can stall neither the bot nor its memory.

    :raises bot.services.bounded.BoundedRunError: the file took too long or too much memory.
    """
    from bot.services.bounded import run_bounded

    if len(data) > max_bytes:  # no process is started for what is refused anyway
        return _file_problem(f"{len(data)} bytes, limit {max_bytes}")
    return await run_bounded(
        parse_bank,
        filename,
        data,
        default_difficulty,
        max_bytes,
        time_limit=PARSE_TIMEOUT_SECONDS if time_limit is None else time_limit,
        memory_bytes=PARSE_MEMORY_BYTES,
    )


# --------------------------------------------------------------------------- reading files

_Line = tuple[int, str]


class _BadFile(Exception):
    """The file cannot be read at all."""


def _file_problem(detail: str) -> ParseResult:
    """Result for a file that is refused as a whole."""
    return ParseResult([], [ImportProblem(0, ProblemReason.bad_file, detail)], BankFormat.unknown)


def _decode(data: bytes) -> str | None:
    """Decode a text upload, or return ``None`` if it is not text.

    Files from Windows machines in Kazakhstan come as UTF-8 (Notepad adds a BOM), UTF-16 with
    a BOM ("Unicode" in Notepad's save dialog) or, from older tools, cp1251.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                return None
        else:
            # cp1251 leaves one byte (0x98) undefined; a stray one is not worth refusing for.
            text = data.decode("cp1251", errors="replace")
    if "\x00" in text:
        return None
    return text


def _text_lines(text: str) -> list[_Line]:
    """Number the lines of a text file as editors do."""
    # str.splitlines() would also split on form feeds and the like, and then the line numbers
    # shown to the teacher would not match what their editor shows.
    return [(n, line) for n, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1)]


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_V = "{urn:schemas-microsoft-com:vml}"
# Content that has no faithful plain-text form: pictures, OLE objects (old Equation Editor),
# Office Math, symbol-font characters, text boxes.
_OPAQUE_TAGS = {
    f"{_W}drawing",
    f"{_W}pict",
    f"{_W}object",
    f"{_W}sym",
    f"{_M}oMath",
    f"{_M}oMathPara",
    f"{_MC}AlternateContent",
    f"{_V}shape",
}
_CONTAINER_TAGS = {
    f"{_W}{name}" for name in ("tbl", "tr", "tc", "sdt", "sdtContent", "customXml", "ins")
}
_SKIPPED_TAGS = {
    f"{_W}pPr",
    f"{_W}rPr",
    f"{_W}del",
    f"{_W}instrText",
    f"{_W}footnoteReference",
    f"{_W}endnoteReference",
    f"{_W}commentReference",
}


def _docx_lines(data: bytes, max_unpacked: int) -> list[_Line]:
    """Return the paragraphs of a .docx in reading order, table cells included.

    Each line is numbered with its paragraph's position; a paragraph with manual line breaks
    yields several lines with the same number.
    """
    from docx import Document  # imported lazily: only .docx uploads need it

    from bot.services.uploads import ArchiveProblem, check_archive

    try:
        check_archive(data, max_unpacked)
    except ArchiveProblem as exc:
        if exc.reason == "too_large":
            raise _BadFile("archive unpacks too large") from exc
        raise _BadFile("not a .docx file") from exc
    try:
        body = Document(io.BytesIO(data)).element.body
    except Exception as exc:  # python-docx raises assorted errors for damaged packages
        raise _BadFile("damaged or not a Word document") from exc

    lines: list[_Line] = []
    for number, paragraph in enumerate(_iter_paragraphs(body), start=1):
        lines.extend((number, part) for part in _paragraph_text(paragraph).split("\n"))
    return lines


def _iter_paragraphs(container: _Element) -> Iterator[_Element]:
    """Yield ``w:p`` elements in document order, descending into tables and content controls.

    Walking the XML rather than ``Table.rows[i].cells`` visits a merged cell once instead of
    once per grid column it spans.
    """
    for child in container:
        tag = child.tag
        if tag == f"{_W}p":
            yield child
        elif tag in _CONTAINER_TAGS:
            yield from _iter_paragraphs(child)


def _paragraph_text(paragraph: _Element) -> str:
    """Return a paragraph's visible text, with ``_OBJECT`` where something is not text."""
    parts: list[str] = []

    def walk(element: _Element) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIPPED_TAGS:
                continue  # comments and processing instructions have a non-string tag
            if tag == f"{_W}t":
                parts.append(child.text or "")
            elif tag == f"{_W}tab":
                parts.append("\t")
            elif tag in {f"{_W}br", f"{_W}cr"}:
                parts.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
            elif tag in _OPAQUE_TAGS:
                parts.append(_OBJECT)
            else:
                walk(child)

    walk(paragraph)
    return "".join(parts)


_PLATONUS_HINT = re.compile(r"<\s*question", re.IGNORECASE)
_AIKEN_HINT = re.compile(r"^\s*ANSWER\s*:", re.IGNORECASE | re.MULTILINE)
_GIFT_HINT = re.compile(r"\{[^{}]*\}")


def _sniff(text: str) -> BankFormat:
    """Guess the syntax of a .txt or .docx from its content."""
    if _PLATONUS_HINT.search(text):
        return BankFormat.platonus
    if _AIKEN_HINT.search(text):
        return BankFormat.aiken
    if _GIFT_HINT.search(text):
        return BankFormat.gift
    return BankFormat.unknown


# ----------------------------------------------------------------------------- text clean-up

# Markup left behind by exports from LMSs and web editors. Only well-known HTML elements are
# removed so that text such as "x < y > z" or our own tags survives.
_HTML_BLOCK_TAG = re.compile(
    r"</?\s*(?:p|br|div|li|ul|ol|h[1-6]|table|tbody|thead|tr|td|th)\b[^<>]*>", re.IGNORECASE
)
_HTML_INLINE_TAG = re.compile(
    r"</?\s*(?:b|i|u|s|em|strong|span|sub|sup|font|code|small|big)\b[^<>]*>", re.IGNORECASE
)
_HTML_IMAGE = re.compile(r"<\s*img\b[^<>]*>", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def _clean(text: str) -> str:
    """Drop stray HTML, invisible characters and redundant whitespace; keep all letters."""
    stripped = _HTML_IMAGE.sub(_OBJECT, text)
    stripped = _HTML_BLOCK_TAG.sub(" ", stripped)
    stripped = _HTML_INLINE_TAG.sub("", stripped)
    if stripped != text:
        # Text that came with HTML tags also came with HTML entities (&nbsp;, &lt;).
        stripped = html.unescape(stripped)
    return " ".join(stripped.translate(_INVISIBLE).split())


def _excerpt(text: str) -> str:
    """Shorten ``text`` for a problem report, marking where something was not text."""
    text = " ".join(text.replace(_OBJECT, "[?]").split())
    if len(text) <= _EXCERPT_LENGTH:
        return text
    return text[: _EXCERPT_LENGTH - 1].rstrip() + "…"


def _norm_key(text: str) -> str:
    """Comparison key under which options or questions count as the same."""
    return " ".join(text.split()).casefold()


# ---------------------------------------------------------------------- draft and validation


@dataclass(slots=True)
class _Draft:
    """A question as read from the file, before validation.

    ``problem`` is set when the syntax itself was wrong; such a draft is reported, not checked.
    """

    line: int
    text: str = ""
    options: list[str] = field(default_factory=list)
    correct: list[int] = field(default_factory=list)
    difficulty: Difficulty | None = None
    problem: tuple[ProblemReason, str] | None = None


def _validate(drafts: list[_Draft], fmt: BankFormat) -> ParseResult:
    """Clean every draft, refuse invalid or repeated ones, keep the rest in file order."""
    result = ParseResult([], [], fmt)
    seen: set[tuple[str, frozenset[str]]] = set()
    for draft in drafts:
        text = _clean(draft.text)
        options = [_clean(option) for option in draft.options]
        problem = draft.problem or _check(text, options, draft.correct)
        if problem is None:
            key = (_norm_key(text), frozenset(_norm_key(o) for o in options))
            if key in seen:
                problem = (ProblemReason.duplicate, _excerpt(text))
            seen.add(key)
        if problem is not None:
            result.problems.append(ImportProblem(draft.line, problem[0], problem[1]))
            continue
        result.questions.append(
            ParsedQuestion(
                text=text,
                options=options,
                correct=sorted(set(draft.correct)),
                difficulty=draft.difficulty,
                line=draft.line,
            )
        )
    return result


def _check(text: str, options: list[str], correct: list[int]) -> tuple[ProblemReason, str] | None:
    """Return the first reason ``text``/``options`` cannot be imported, or ``None``."""
    if _OBJECT in text or any(_OBJECT in option for option in options):
        # The picture or formula would silently vanish and the question could become wrong.
        return ProblemReason.unsupported, _excerpt(text)
    if not text:
        return ProblemReason.empty_text, _excerpt(" / ".join(options))
    if not options:
        return ProblemReason.no_options, _excerpt(text)
    if len(options) == 1:
        return ProblemReason.one_option, _excerpt(text)
    if any(not option for option in options):
        return ProblemReason.empty_option, _excerpt(text)
    keys: set[str] = set()
    for option in options:
        key = _norm_key(option)
        if key in keys:
            return ProblemReason.duplicate_option, _excerpt(option)
        keys.add(key)
    if not correct or any(not 0 <= index < len(options) for index in correct):
        return ProblemReason.no_correct, _excerpt(text)
    if len(text) > MAX_TEXT_LENGTH:
        return ProblemReason.too_long, _excerpt(text)
    for option in options:
        if len(option) > MAX_OPTION_LENGTH:
            return ProblemReason.too_long, _excerpt(option)
    return None


# -------------------------------------------------------------------------------- Platonus

_PLATONUS_TAG = re.compile(r"<\s*(/)?\s*(question|variant)([^<>\n]{0,40})(>)?", re.IGNORECASE)
_LEVELS = {
    "1": Difficulty.easy,
    "2": Difficulty.medium,
    "3": Difficulty.hard,
    "easy": Difficulty.easy,
    "medium": Difficulty.medium,
    "hard": Difficulty.hard,
}
_LEVEL_ATTR = re.compile(r"(?:difficulty|level)\s*=\s*[\"']?(\w+)[\"']?")
_RIGHT_ATTR = re.compile(r"[\s_-]*right")


@dataclass(slots=True)
class _PlatonusQuestion:
    line: int
    level: str
    text: list[str] = field(default_factory=list)
    # Each variant: its text fragments and whether it was tagged as a right answer.
    variants: list[tuple[list[str], bool]] = field(default_factory=list)
    # A tag that could not be understood.
    syntax_error: str | None = None
    # Options that precede every question; kept apart so they cannot join the first one.
    orphan: bool = False


def _parse_platonus(lines: list[_Line], default: Difficulty | None) -> list[_Draft]:
    """Split ``<question>``/``<variant>`` markup into drafts; tags may sit anywhere in a line."""
    blocks: list[_PlatonusQuestion] = []
    current: _PlatonusQuestion | None = None
    for number, line in lines:
        position = 0
        for match in _PLATONUS_TAG.finditer(line):
            if current is not None:
                _platonus_append(current, line[position : match.start()])
            position = match.end()
            closing, name, arg, complete = match.groups()
            name, arg = name.lower(), arg.strip().lower()
            if closing:
                continue  # </variant> and the like carry no meaning beyond separating text
            if name == "question":
                current = _PlatonusQuestion(number, arg)
                blocks.append(current)
            else:
                if current is None:
                    current = _PlatonusQuestion(number, "", orphan=True)
                    blocks.append(current)
                if arg and not _RIGHT_ATTR.fullmatch(arg):
                    current.syntax_error = current.syntax_error or match.group(0)
                current.variants.append(([], bool(arg)))
            if not complete:
                # "<question text" with no ">": still a boundary, so the previous question
                # does not absorb this one's text and options.
                current.syntax_error = current.syntax_error or line.strip()
        if current is not None:
            _platonus_append(current, line[position:])
    return [_platonus_draft(block, default) for block in blocks]


def _platonus_append(block: _PlatonusQuestion, fragment: str) -> None:
    """Add text to the last variant, or to the question text before any variant."""
    target = block.variants[-1][0] if block.variants else block.text
    target.append(fragment)


def _platonus_draft(block: _PlatonusQuestion, default: Difficulty | None) -> _Draft:
    """Apply the correct-answer and difficulty rules to one tagged question."""
    draft = _Draft(
        line=block.line,
        text=" ".join(block.text),
        options=[" ".join(fragments) for fragments, _ in block.variants],
    )
    if block.orphan:
        block.syntax_error = f"<variant>{draft.options[0]}"
    try:
        draft.difficulty = _platonus_level(block.level, default)
    except ValueError:
        block.syntax_error = block.syntax_error or f"<question{block.level}>"
    if block.syntax_error is not None:
        draft.problem = (ProblemReason.bad_syntax, _excerpt(block.syntax_error))
        return draft
    marked = [index for index, (_, right) in enumerate(block.variants) if right]
    # Without explicit marks the Platonus convention applies: the first variant is correct.
    draft.correct = marked or ([0] if block.variants else [])
    return draft


def _platonus_level(arg: str, default: Difficulty | None) -> Difficulty | None:
    """Map what follows the word ``question`` in a question tag to a difficulty.

    :raises ValueError: for a level that is not understood.
    """
    arg = arg.strip(" _-")
    if not arg:
        return default
    if arg in _LEVELS:
        return _LEVELS[arg]
    match = _LEVEL_ATTR.fullmatch(arg)
    if match and match.group(1) in _LEVELS:
        return _LEVELS[match.group(1)]
    raise ValueError(arg)


# ------------------------------------------------------------------------------------ GIFT

# GIFT's escapable characters are swapped for private-use code points while parsing, so an
# escaped brace or tilde cannot be mistaken for syntax, and swapped back afterwards.
_GIFT_ESCAPABLE = "~=#{}:\\"
_GIFT_PLACEHOLDERS = {char: chr(0xE000 + n) for n, char in enumerate(_GIFT_ESCAPABLE)}
_GIFT_RESTORE = str.maketrans({v: k for k, v in _GIFT_PLACEHOLDERS.items()})
_GIFT_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_GIFT_TITLE = re.compile(r"\s*::(.*?)::", re.DOTALL)
_GIFT_MARKUP = re.compile(r"\s*\[(?:html|moodle|plain|markdown)\]", re.IGNORECASE)
_GIFT_TRUE_FALSE = re.compile(r"(T|F|TRUE|FALSE)\s*(?:#.*)?", re.IGNORECASE | re.DOTALL)
_GIFT_WEIGHT = re.compile(r"\s*%(-?\d+(?:[.,]\d+)?)%")


def _gift_unescape(match: re.Match[str]) -> str:
    """Replace one GIFT escape sequence with its placeholder."""
    char = match.group(1)
    if char == "n":
        return "\n"
    # Other backslashes (LaTeX such as \frac) are kept as written.
    return _GIFT_PLACEHOLDERS.get(char, match.group(0))


def _parse_gift(lines: list[_Line], default: Difficulty | None) -> list[_Draft]:
    """Turn each blank-line separated GIFT item into a draft."""
    drafts = []
    for start, block in _gift_blocks(lines):
        draft = _gift_question(_GIFT_ESCAPE.sub(_gift_unescape, block), start, default)
        draft.text = draft.text.translate(_GIFT_RESTORE)
        draft.options = [option.translate(_GIFT_RESTORE) for option in draft.options]
        if draft.problem is not None:
            reason, detail = draft.problem
            draft.problem = (reason, detail.translate(_GIFT_RESTORE))
        drafts.append(draft)
    return drafts


def _gift_blocks(lines: list[_Line]) -> Iterator[tuple[int, str]]:
    """Split the file into questions at blank lines, dropping comments and categories."""
    start = 0
    collected: list[str] = []
    for number, line in lines:
        stripped = line.strip()
        if stripped.startswith("//") or stripped.upper().startswith("$CATEGORY:"):
            continue
        if not stripped:
            if collected:
                yield start, "\n".join(collected)
            collected = []
            continue
        if not collected:
            start = number
        collected.append(line)
    if collected:
        yield start, "\n".join(collected)


def _gift_question(block: str, line: int, default: Difficulty | None) -> _Draft:
    """Parse one GIFT item whose escapes have already been replaced by placeholders."""
    draft = _Draft(line=line, difficulty=default)
    title = _GIFT_TITLE.match(block)
    if title:
        block = block[title.end() :]
    markup = _GIFT_MARKUP.match(block)
    if markup:
        block = block[markup.end() :]

    opening, closing = block.count("{"), block.count("}")
    if opening == 0 and closing == 0:
        draft.text = block
        # A GIFT "description" item: text shown to students, with nothing to answer.
        draft.problem = (ProblemReason.unsupported, _excerpt(_clean(block)))
        return draft
    start, end = block.find("{"), block.find("}")
    if opening != 1 or closing != 1 or end < start:
        draft.problem = (ProblemReason.bad_syntax, _excerpt(_clean(block)))
        return draft

    before, answers, after = block[:start], block[start + 1 : end], block[end + 1 :]
    # Text after the answers makes a "missing word" question; the gap is shown as a blank.
    draft.text = f"{before} _____ {after}" if after.strip() else before
    excerpt = _excerpt(_clean(draft.text))
    answers = answers.strip()
    if not answers or answers.startswith("#"):
        draft.problem = (ProblemReason.unsupported, excerpt)  # essay or numeric
        return draft

    true_false = _GIFT_TRUE_FALSE.fullmatch(answers)
    if true_false:
        draft.options = list(TRUE_FALSE_OPTIONS)
        draft.correct = [0 if true_false.group(1).upper().startswith("T") else 1]
        return draft

    pieces = re.split(r"([=~])", answers)
    if pieces[0].strip():
        draft.problem = (ProblemReason.bad_syntax, _excerpt(_clean(pieces[0])))
        return draft
    marks = pieces[1::2]
    if "~" not in marks:
        # Only "=" answers: short answer, or matching when they contain "->".
        draft.problem = (ProblemReason.unsupported, excerpt)
        return draft

    weighted: list[int] = []
    exact: list[int] = []
    for index, (mark, body) in enumerate(zip(marks, pieces[2::2], strict=True)):
        weight = _GIFT_WEIGHT.match(body)
        if weight:
            body = body[weight.end() :]
            if float(weight.group(1).replace(",", ".")) > 0:
                weighted.append(index)
        elif body.lstrip().startswith("%"):
            draft.problem = (ProblemReason.bad_syntax, _excerpt(_clean(body)))
            return draft
        if mark == "=":
            exact.append(index)
        # Per-answer feedback ("#...") and general feedback ("####...") are not kept.
        draft.options.append(body.split("#", 1)[0])
    # "=" marks the answer of a single-answer question, where "~%50%" only means partial
    # credit; with no "=" at all, every positively weighted option is a correct one.
    draft.correct = exact or weighted
    return draft


# ----------------------------------------------------------------------------------- Aiken

# "A)text" is common in hand-typed files; after a dot a space is required so that initials
# such as "A.S. Pushkin" at the start of a wrapped line are not taken for an option.
_AIKEN_OPTION = re.compile(r"([A-Za-zА-Яа-яЁё])\s*(?:\)|\.(?=\s|$))\s*(.*)")
_AIKEN_ANSWER = re.compile(r"ANSWER\s*:(.*)", re.IGNORECASE)
# Cyrillic letters that look like Latin ones: files typed on a Russian layout mix them up.
_LOOKALIKES = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")


@dataclass(slots=True)
class _AikenQuestion:
    line: int
    text: list[str]
    labels: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def _parse_aiken(lines: list[_Line], default: Difficulty | None) -> list[_Draft]:
    """Group Aiken lines into questions, each closed by its ``ANSWER:`` line."""
    drafts: list[_Draft] = []
    current: _AikenQuestion | None = None
    after_blank = False
    for number, line in lines:
        stripped = line.strip()
        if not stripped:
            after_blank = True
            continue
        answer = _AIKEN_ANSWER.fullmatch(stripped)
        option = _AIKEN_OPTION.fullmatch(stripped)
        if answer:
            if current is None:
                problem = (ProblemReason.bad_syntax, _excerpt(stripped))
                drafts.append(_Draft(number, problem=problem))
            else:
                drafts.append(_aiken_draft(current, answer.group(1), default))
            current = None
        elif current is None:
            # The first line of a question is always its text, even if it reads "A. Smith…".
            current = _AikenQuestion(number, [stripped])
        elif option and (current.options or option.group(1).upper().translate(_LOOKALIKES) == "A"):
            current.labels.append(option.group(1).upper())
            current.options.append(option.group(2))
        elif current.options and after_blank:
            # Options, a blank line, then plain text: the ANSWER line was forgotten and a new
            # question has begun. Closing the old one here keeps the two apart.
            drafts.append(_aiken_draft(current, None, default))
            current = _AikenQuestion(number, [stripped])
        elif current.options:
            current.options[-1] += " " + stripped
        else:
            current.text.append(stripped)
        after_blank = False
    if current is not None:
        drafts.append(_aiken_draft(current, None, default))
    return drafts


def _aiken_draft(block: _AikenQuestion, answer: str | None, default: Difficulty | None) -> _Draft:
    """Resolve the ANSWER letters; a missing or dangling answer leaves ``correct`` empty."""
    draft = _Draft(
        line=block.line, text=" ".join(block.text), options=block.options, difficulty=default
    )
    if answer is None:
        return draft
    if len(set(block.labels)) != len(block.labels):
        draft.problem = (ProblemReason.bad_syntax, _excerpt(" ".join(block.labels)))
        return draft
    letters = [part for part in re.split(r"[\s,;]+", answer.strip().upper()) if part]
    if any(len(letter) != 1 for letter in letters):
        draft.problem = (ProblemReason.bad_syntax, _excerpt(f"ANSWER: {answer.strip()}"))
        return draft
    folded = [label.translate(_LOOKALIKES) for label in block.labels]
    correct = []
    for letter in letters:
        if letter in block.labels:
            correct.append(block.labels.index(letter))
        elif letter.translate(_LOOKALIKES) in folded:
            correct.append(folded.index(letter.translate(_LOOKALIKES)))
        else:
            # "ANSWER: A, F" with options A-D must not quietly import as "A" alone.
            return draft
    draft.correct = correct
    return draft
