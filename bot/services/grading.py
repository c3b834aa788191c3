"""Grading rules of the Kazakh credit system: ratings, letters, GPA and exam planning.

Everything here is pure arithmetic on `Decimal`; callers pass plain numbers and get plain values
back, so the same rules serve the journal, the transcript and the "what do I need" helper.

Conventions
-----------
* Percents are 0–100 with at most two decimals. Computed percents (admission rating, final)
  are quantized to two decimals, rounding half up, and are graded exactly as reported: the final
  is computed from the reported admission, and the letter from the reported final.
* `None` means "no mark yet" and propagates: an admission with a missing midterm is `None`,
  a final with a missing admission or exam is `None`, and so are its letter and pass status.
* **One rounding rule for every threshold.** Before a percent is compared with a letter band, the
  pass threshold or the exam threshold, it is rounded half up to a whole number
  (94.49 → 94 → A-, 94.50 → 95 → A; a final of 49.50 rounds to 50, which is D and a pass).
  Comparing the unrounded number with the pass threshold instead would let a student hold a
  passing letter and a failed course at the same time.
* **Exam floor.** An exam below `exam_threshold` fails the course whatever the weighted final.
  The final percent is still reported as computed, but the letter is capped at the highest failing
  band: with the default scale that is FX when the rounded final is 25 or more, F below 25.
* Letters are stored with the ASCII hyphen-minus (`"A-"`); `display_letter` gives the typographic
  form for people.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

Number = Decimal | int | float | str
"""Anything that reads as a decimal number; floats go through `str` to avoid binary noise."""

EXCELLENT = "excellent"
GOOD = "good"
SATISFACTORY = "satisfactory"
UNSATISFACTORY = "unsatisfactory"
TRADITIONAL_KEYS = (EXCELLENT, GOOD, SATISFACTORY, UNSATISFACTORY)

_CENT = Decimal("0.01")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class LetterBand:
    """One row of the letter scale: percents from `min_percent` up to the next band's minimum."""

    letter: str
    min_percent: int
    points: Decimal
    traditional: str


DEFAULT_SCALE: tuple[LetterBand, ...] = (
    LetterBand("A", 95, Decimal("4.00"), EXCELLENT),
    LetterBand("A-", 90, Decimal("3.67"), EXCELLENT),
    LetterBand("B+", 85, Decimal("3.33"), GOOD),
    LetterBand("B", 80, Decimal("3.00"), GOOD),
    LetterBand("B-", 75, Decimal("2.67"), GOOD),
    LetterBand("C+", 70, Decimal("2.33"), SATISFACTORY),
    LetterBand("C", 65, Decimal("2.00"), SATISFACTORY),
    LetterBand("C-", 60, Decimal("1.67"), SATISFACTORY),
    LetterBand("D+", 55, Decimal("1.33"), SATISFACTORY),
    LetterBand("D", 50, Decimal("1.00"), SATISFACTORY),
    LetterBand("FX", 25, Decimal("0.50"), UNSATISFACTORY),
    LetterBand("F", 0, Decimal("0.00"), UNSATISFACTORY),
)


@dataclass(frozen=True, slots=True)
class LetterGrade:
    """The letter, its grade points and the traditional-scale key (`excellent` … )."""

    letter: str
    points: Decimal
    traditional: str

    @property
    def display(self) -> str:
        """The letter as printed for people (typographic minus)."""
        return display_letter(self.letter)


@dataclass(frozen=True, slots=True)
class FinalOutcome:
    """Result of a course: every field is `None` while the marks it depends on are missing."""

    admission: Decimal | None
    final: Decimal | None
    letter_grade: LetterGrade | None
    passed: bool | None
    # Lets the UI explain an FX next to a high final: the exam floor, not the total, failed it.
    exam_below_threshold: bool = False


@dataclass(frozen=True, slots=True)
class ExamTarget:
    """The smallest whole exam score that gives at least `letter` for a given admission.

    `exam` may exceed 100 when the target is out of reach; it then says by how much.
    """

    letter: str
    min_percent: int
    exam: int
    reachable: bool


@dataclass(frozen=True, slots=True)
class GradingRules:
    """Weights, thresholds and the letter scale; `DEFAULT_RULES` holds the university's values."""

    midterm_weights: tuple[Decimal, Decimal] = (Decimal("0.5"), Decimal("0.5"))
    admission_weight: Decimal = Decimal("0.6")
    exam_weight: Decimal = Decimal("0.4")
    pass_threshold: int = 50
    exam_threshold: int = 50
    scale: tuple[LetterBand, ...] = DEFAULT_SCALE

    def __post_init__(self) -> None:
        w1, w2 = self.midterm_weights
        if w1 < 0 or w2 < 0 or w1 + w2 != _ONE:
            raise ValueError(f"midterm_weights must be non-negative and sum to 1, got {w1}, {w2}")
        if self.admission_weight < 0 or self.exam_weight <= 0:
            raise ValueError("admission_weight must be >= 0 and exam_weight > 0")
        if self.admission_weight + self.exam_weight != _ONE:
            raise ValueError(
                "admission_weight + exam_weight must be 1, got "
                f"{self.admission_weight} + {self.exam_weight}"
            )
        if not 1 <= self.pass_threshold <= 100:
            raise ValueError(f"pass_threshold must be within 1..100, got {self.pass_threshold}")
        if not 0 <= self.exam_threshold <= 100:
            raise ValueError(f"exam_threshold must be within 0..100, got {self.exam_threshold}")
        _validate_scale(self.scale)
        # A band straddling the threshold would make one letter both a pass and a fail.
        if self.pass_threshold not in {band.min_percent for band in self.scale}:
            raise ValueError(
                f"pass_threshold {self.pass_threshold} must be the lower bound of a letter band"
            )

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base: GradingRules | None = None
    ) -> GradingRules:
        """Rules with the keys of `data` overriding `base` (the defaults unless given).

        Meant for a parsed JSON/TOML section or environment values, so numbers may be strings.
        Keys: `midterm_weights` (two numbers), `admission_weight`, `exam_weight`,
        `pass_threshold`, `exam_threshold`, and `scale` (a list of mappings with `letter`,
        `min_percent`, `points`, `traditional`). Unknown keys raise `ValueError`, so a typo in
        a config file is not silently ignored.
        """
        base = DEFAULT_RULES if base is None else base
        unknown = set(data) - _RULE_KEYS
        if unknown:
            raise ValueError(
                f"unknown grading rule keys: {', '.join(sorted(unknown))}; "
                f"expected some of {', '.join(sorted(_RULE_KEYS))}"
            )
        changes: dict[str, Any] = {}
        if "midterm_weights" in data:
            weights = list(data["midterm_weights"])
            if len(weights) != 2:
                raise ValueError("midterm_weights must hold exactly two numbers")
            changes["midterm_weights"] = (
                _decimal(weights[0], "midterm_weights[0]"),
                _decimal(weights[1], "midterm_weights[1]"),
            )
        for key in ("admission_weight", "exam_weight"):
            if key in data:
                changes[key] = _decimal(data[key], key)
        for key in ("pass_threshold", "exam_threshold"):
            if key in data:
                changes[key] = _whole(data[key], key)
        if "scale" in data:
            changes["scale"] = tuple(_band_from_mapping(item) for item in data["scale"])
        return replace(base, **changes)

    def band_for(self, whole_percent: int) -> LetterBand:
        """The band holding an already rounded percent."""
        for band in self.scale:
            if whole_percent >= band.min_percent:
                return band
        raise ValueError(f"percent {whole_percent} is below the scale")  # pragma: no cover

    @property
    def passing_bands(self) -> tuple[LetterBand, ...]:
        """Bands at or above the pass threshold, lowest first."""
        return tuple(b for b in reversed(self.scale) if b.min_percent >= self.pass_threshold)


_RULE_KEYS = frozenset(
    {
        "midterm_weights",
        "admission_weight",
        "exam_weight",
        "pass_threshold",
        "exam_threshold",
        "scale",
    }
)


def _validate_scale(scale: tuple[LetterBand, ...]) -> None:
    if not scale:
        raise ValueError("the letter scale is empty")
    letters = [band.letter for band in scale]
    if len(set(letters)) != len(letters):
        raise ValueError(f"letters in the scale repeat: {letters}")
    mins = [band.min_percent for band in scale]
    if any(a <= b for a, b in pairwise(mins)):
        raise ValueError(f"scale bands must be listed from the highest down, got {mins}")
    if mins[-1] != 0 or mins[0] > 100:
        raise ValueError("the scale must cover 0..100: lowest band from 0, highest within 100")
    for band in scale:
        if band.points < 0:
            raise ValueError(f"grade points of {band.letter} are negative")
        if not band.traditional:
            raise ValueError(f"traditional key of {band.letter} is empty")


def _band_from_mapping(item: Mapping[str, Any]) -> LetterBand:
    try:
        return LetterBand(
            letter=str(item["letter"]),
            min_percent=_whole(item["min_percent"], "scale.min_percent"),
            points=_decimal(item["points"], "scale.points"),
            traditional=str(item["traditional"]),
        )
    except KeyError as exc:
        raise ValueError(f"scale entry {dict(item)!r} lacks {exc.args[0]!r}") from exc


DEFAULT_RULES = GradingRules()
# Share of a discipline's classes (in per cent) a student may miss before being warned.
DEFAULT_ABSENCE_LIMIT_PERCENT = 20


def _decimal(value: Number, name: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got a bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"{name} is not a number: {value!r}") from exc
    else:
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _whole(value: Number, name: str) -> int:
    result = _decimal(value, name)
    if result != result.to_integral_value():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(result)


def _percent(value: Number, name: str) -> Decimal:
    result = _decimal(value, name)
    if not 0 <= result <= _HUNDRED:
        raise ValueError(f"{name} must be within 0..100, got {value!r}")
    return result


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def round_percent(percent: Number) -> int:
    """The whole percent used for every band and threshold comparison (half up: 94.5 → 95)."""
    return int(_decimal(percent, "percent").quantize(_ONE, rounding=ROUND_HALF_UP))


def display_letter(letter: str) -> str:
    """`A-` → `A−`: the stored ASCII hyphen becomes a typographic minus sign."""
    return letter.replace("-", "\u2212")


def admission_rating(
    m1: Number | None, m2: Number | None, rules: GradingRules = DEFAULT_RULES
) -> Decimal | None:
    """Weighted mean of the two midterm ratings, or `None` while either is missing."""
    if m1 is None or m2 is None:
        return None
    w1, w2 = rules.midterm_weights
    return _quantize(_percent(m1, "midterm 1") * w1 + _percent(m2, "midterm 2") * w2)


def final_percent(
    admission: Number | None, exam: Number | None, rules: GradingRules = DEFAULT_RULES
) -> Decimal | None:
    """Weighted final percent, or `None` while the admission rating or the exam is missing."""
    if admission is None or exam is None:
        return None
    return _weighted(_percent(admission, "admission"), _percent(exam, "exam"), rules)


def _weighted(admission: Decimal, exam: Decimal, rules: GradingRules) -> Decimal:
    # Unchecked on purpose: exam planning evaluates scores above 100 to say how far off they are.
    return _quantize(rules.admission_weight * admission + rules.exam_weight * exam)


def grade_for(percent: Number, rules: GradingRules = DEFAULT_RULES) -> LetterGrade:
    """The letter of a percent on the scale alone (rounded half up first; no exam-floor rule)."""
    band = rules.band_for(round_percent(_percent(percent, "percent")))
    return LetterGrade(band.letter, band.points, band.traditional)


def outcome(
    m1: Number | None,
    m2: Number | None,
    exam: Number | None,
    rules: GradingRules = DEFAULT_RULES,
) -> FinalOutcome:
    """Admission, final, letter and pass status of a course from its three marks."""
    admission = admission_rating(m1, m2, rules)
    final = final_percent(admission, exam, rules)
    if final is None or exam is None:
        return FinalOutcome(admission, None, None, None)
    exam_ok = round_percent(exam) >= rules.exam_threshold
    whole_final = round_percent(final)
    passed = exam_ok and whole_final >= rules.pass_threshold
    if passed:
        band = rules.band_for(whole_final)
    else:
        # Cap at the highest failing band so a failed exam never shows a passing letter.
        band = rules.band_for(min(whole_final, rules.pass_threshold - 1))
    return FinalOutcome(
        admission=admission,
        final=final,
        letter_grade=LetterGrade(band.letter, band.points, band.traditional),
        passed=passed,
        exam_below_threshold=not exam_ok,
    )


def gpa(items: Iterable[tuple[Number | None, Number]]) -> Decimal | None:
    """Credit-weighted mean of grade points, two decimals half up; `None` without credits.

    Items whose points are `None` (course not graded yet) are left out, credits included.
    """
    weighted = Decimal(0)
    credits_total = Decimal(0)
    for points, credits in items:
        if points is None:
            continue
        credit = _decimal(credits, "credits")
        if credit < 0:
            raise ValueError(f"credits must not be negative, got {credits!r}")
        weighted += _decimal(points, "points") * credit
        credits_total += credit
    if credits_total == 0:
        return None
    return _quantize(weighted / credits_total)


def current_average(marks: Iterable[Number | None]) -> Decimal | None:
    """Plain mean of the current marks given so far (two decimals half up), `None` if none."""
    values = [_percent(mark, "mark") for mark in marks if mark is not None]
    if not values:
        return None
    return _quantize(sum(values, Decimal(0)) / len(values))


def exam_needed(admission: Number | None, rules: GradingRules = DEFAULT_RULES) -> list[ExamTarget]:
    """For the pass threshold and every letter above it, the smallest whole exam score needed.

    The list runs from the lowest passing letter (which is the pass threshold itself) up to the
    top letter. Each score already obeys the exam floor and the half-up rounding of the final,
    so feeding it to `outcome` gives at least that letter. A target whose score exceeds 100 is
    marked unreachable. Without an admission rating there is nothing to plan: `[]`.
    """
    if admission is None:
        return []
    adm = _percent(admission, "admission")
    targets = []
    for band in rules.passing_bands:
        score = _min_exam(adm, band.min_percent, rules)
        targets.append(ExamTarget(band.letter, band.min_percent, score, score <= 100))
    return targets


def pass_reachable(admission: Number | None, rules: GradingRules = DEFAULT_RULES) -> bool | None:
    """Whether an exam of at most 100 can still pass the course; `None` without an admission."""
    targets = exam_needed(admission, rules)
    if not targets:
        return None
    return targets[0].reachable


def _min_exam(admission: Decimal, target: int, rules: GradingRules) -> int:
    def meets(score: int) -> bool:
        return round_percent(_weighted(admission, Decimal(score), rules)) >= target

    floor = rules.exam_threshold
    # Solve weighted >= target - 0.5 directly, then let the real rule settle the last step:
    # quantizing to cents can move the boundary by one point either way.
    estimate = (Decimal(target) - Decimal("0.5") - rules.admission_weight * admission) / (
        rules.exam_weight
    )
    score = max(math.ceil(estimate), floor)
    while score > floor and meets(score - 1):
        score -= 1
    while not meets(score):
        score += 1
    return score
