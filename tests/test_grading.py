"""Tests of the grading rules: letter boundaries, rounding, the exam floor, GPA and planning."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.services.grading import (
    DEFAULT_RULES,
    DEFAULT_SCALE,
    ExamTarget,
    FinalOutcome,
    GradingRules,
    LetterGrade,
    admission_rating,
    current_average,
    display_letter,
    exam_needed,
    final_percent,
    gpa,
    grade_for,
    outcome,
    pass_reachable,
    round_percent,
)

D = Decimal


@pytest.mark.parametrize(
    ("percent", "letter"),
    [
        (100, "A"),
        (95, "A"),
        ("94.5", "A"),
        ("94.49", "A-"),
        ("94.4", "A-"),
        (90, "A-"),
        ("89.5", "A-"),
        (89, "B+"),
        (85, "B+"),
        (84, "B"),
        (80, "B"),
        (79, "B-"),
        (75, "B-"),
        (74, "C+"),
        (70, "C+"),
        (69, "C"),
        (65, "C"),
        (64, "C-"),
        (60, "C-"),
        (59, "D+"),
        (55, "D+"),
        (54, "D"),
        (50, "D"),
        ("49.5", "D"),
        ("49.49", "FX"),
        (49, "FX"),
        (25, "FX"),
        ("24.5", "FX"),
        (24, "F"),
        (0, "F"),
    ],
)
def test_letter_boundaries(percent: str | int, letter: str) -> None:
    assert grade_for(percent).letter == letter


def test_every_band_boundary_of_the_scale() -> None:
    # The top and bottom whole percent of each band, and the half-point just below the band.
    upper = 100
    for band in DEFAULT_SCALE:
        assert grade_for(band.min_percent).letter == band.letter
        assert grade_for(upper).letter == band.letter
        if band.min_percent > 0:
            assert grade_for(D(band.min_percent) - D("0.5")).letter == band.letter
            assert grade_for(D(band.min_percent) - D("0.51")).letter != band.letter
        upper = band.min_percent - 1


def test_points_and_traditional_keys() -> None:
    assert grade_for(100) == LetterGrade("A", D("4.00"), "excellent")
    assert grade_for(92) == LetterGrade("A-", D("3.67"), "excellent")
    assert grade_for(86) == LetterGrade("B+", D("3.33"), "good")
    assert grade_for(76) == LetterGrade("B-", D("2.67"), "good")
    assert grade_for(71) == LetterGrade("C+", D("2.33"), "satisfactory")
    assert grade_for(52) == LetterGrade("D", D("1.00"), "satisfactory")
    assert grade_for(30) == LetterGrade("FX", D("0.50"), "unsatisfactory")
    assert grade_for(10) == LetterGrade("F", D("0.00"), "unsatisfactory")


def test_rounding_rule_is_half_up_to_whole_percent() -> None:
    assert round_percent("94.5") == 95
    assert round_percent("94.49") == 94
    assert round_percent("0.5") == 1
    # Python's round() would give 94 here (banker's rounding); the rule is half up.
    assert round_percent(94.5) == 95
    assert round_percent(D("84.5")) == 85


def test_display_letter() -> None:
    assert display_letter("A-") == "A\u2212"
    assert display_letter("B+") == "B+"
    assert grade_for(91).display == "A\u2212"


def test_admission_and_final() -> None:
    assert admission_rating(80, 91) == D("85.50")
    assert admission_rating("70.25", "70.5") == D("70.38")  # 70.375 half up
    assert final_percent(D("85.5"), 70) == D("79.30")
    assert final_percent(100, 100) == D("100.00")
    assert final_percent(0, 0) == D("0.00")


def test_floats_do_not_leak_binary_noise() -> None:
    assert admission_rating(0.1, 0.2) == D("0.15")
    assert final_percent(84.3, 62.1) == D("75.42")


def test_outcome_pass() -> None:
    result = outcome(80, 90, 75)
    assert result == FinalOutcome(
        admission=D("85.00"),
        final=D("81.00"),
        letter_grade=LetterGrade("B", D("3.00"), "good"),
        passed=True,
        exam_below_threshold=False,
    )


def test_exam_below_threshold_fails_even_with_high_admission() -> None:
    result = outcome(100, 100, 49)
    # 0.6 * 100 + 0.4 * 49 = 79.6: the number stays, the course fails on the exam floor.
    assert result.final == D("79.60")
    assert result.passed is False
    assert result.exam_below_threshold is True
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "FX"
    assert result.letter_grade.points == D("0.50")
    assert result.letter_grade.traditional == "unsatisfactory"


def test_exam_floor_failure_below_fx_band_is_f() -> None:
    result = outcome(20, 20, 30)  # 12 + 12 = 24 → F
    assert result.final == D("24.00")
    assert result.passed is False
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "F"


def test_exam_exactly_at_threshold_passes() -> None:
    result = outcome(60, 60, 50)
    assert result.passed is True
    assert result.final == D("56.00")
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "D+"


def test_exam_threshold_uses_the_same_rounding_rule() -> None:
    assert outcome(100, 100, "49.5").passed is True
    assert outcome(100, 100, "49.49").passed is False


def test_low_final_fails_with_good_exam() -> None:
    result = outcome(30, 30, 60)  # 18 + 24 = 42
    assert result.passed is False
    assert result.exam_below_threshold is False
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "FX"


def test_final_half_point_below_threshold_rounds_to_pass() -> None:
    # 0.6 * 49 + 0.4 * 50.25 = 49.5 → rounds to 50: letter D and a pass agree.
    result = outcome(49, 49, "50.25")
    assert result.final == D("49.50")
    assert result.passed is True
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "D"


def test_none_propagates() -> None:
    assert admission_rating(None, 80) is None
    assert admission_rating(80, None) is None
    assert final_percent(None, 80) is None
    assert final_percent(80, None) is None
    assert outcome(80, None, 90) == FinalOutcome(None, None, None, None)
    assert outcome(80, 90, None) == FinalOutcome(D("85.00"), None, None, None)
    assert current_average([]) is None
    assert current_average([None, None]) is None
    assert exam_needed(None) == []
    assert pass_reachable(None) is None


@pytest.mark.parametrize("bad", [-1, 100.01, "101", "abc", float("nan"), float("inf")])
def test_out_of_range_marks_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError):
        admission_rating(bad, 50)  # type: ignore[arg-type]


def test_bool_is_not_a_mark() -> None:
    with pytest.raises(TypeError):
        final_percent(True, 50)


def test_gpa_worked_example() -> None:
    # 4.0 × 3 + 3.0 × 2 + 0 × 3 = 18 over 8 credits.
    assert gpa([(D("4.0"), 3), (D("3.0"), 2), (D("0"), 3)]) == D("2.25")


def test_gpa_rounds_half_up_and_skips_ungraded() -> None:
    # (3.67 × 5 + 3.33 × 5 + 2.67 × 6) / 16 = 3.1887… → 3.19
    assert gpa([("3.67", 5), ("3.33", 5), ("2.67", 6)]) == D("3.19")
    # (4 × 1 + 3.33 × 1) / 2 = 3.665 → 3.67 (half up, not half even)
    assert gpa([(4, 1), ("3.33", 1), (None, 5)]) == D("3.67")


def test_gpa_without_credits_is_none() -> None:
    assert gpa([]) is None
    assert gpa([(4, 0)]) is None
    assert gpa([(None, 5)]) is None
    with pytest.raises(ValueError):
        gpa([(4, -1)])


def test_current_average() -> None:
    assert current_average([80, 90, None, 75]) == D("81.67")
    assert current_average(["99.5"]) == D("99.50")


def _targets(admission: int | str) -> dict[str, ExamTarget]:
    return {target.letter: target for target in exam_needed(admission)}


def test_exam_needed_with_full_admission() -> None:
    targets = exam_needed(100)
    assert [t.letter for t in targets] == ["D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A"]
    by_letter = _targets(100)
    # 60 + 0.4x passes at any x, so the exam floor decides.
    assert by_letter["D"] == ExamTarget("D", 50, 50, True)
    assert by_letter["B"].exam == 50  # 60 + 20 = 80 already
    # 60 + 0.4x >= 84.5 → x >= 61.25 → 62
    assert by_letter["B+"].exam == 62
    # 60 + 0.4x >= 94.5 → x >= 86.25 → 87 (94.8 → 95 = A; 86 gives 94.4 → A-)
    assert by_letter["A"] == ExamTarget("A", 95, 87, True)
    assert outcome(100, 100, 87).letter_grade == grade_for(95)
    assert outcome(100, 100, 86).letter_grade == grade_for(94)


def test_exam_needed_with_middling_admission() -> None:
    by_letter = _targets(70)
    # 42 + 0.4x >= 49.5 → 18.75, the floor of 50 wins.
    assert by_letter["D"].exam == 50
    # 42 + 0.4x >= 64.5 → x >= 56.25 → 57
    assert by_letter["C"].exam == 57
    assert by_letter["B"] == ExamTarget("B", 80, 94, True)
    # 42 + 0.4x >= 84.5 → x >= 106.25: out of reach
    assert by_letter["B+"] == ExamTarget("B+", 85, 107, False)
    assert by_letter["A"].reachable is False
    assert pass_reachable(70) is True


def test_unreachable_pass() -> None:
    by_letter = _targets(0)
    # 0.4x >= 49.5 (rounds to 50) → x >= 123.75 → 124, well over 100.
    assert by_letter["D"] == ExamTarget("D", 50, 124, False)
    assert not any(target.reachable for target in by_letter.values())
    assert pass_reachable(0) is False


def test_pass_reachability_edge() -> None:
    # The final is reported in cents and graded as reported: 0.6 × 15.83 + 40 = 49.498 shows
    # as 49.50 and rounds to 50, while 15.82 gives 49.492 → 49.49 → 49.
    assert final_percent("15.83", 100) == D("49.50")
    assert pass_reachable("15.83") is True
    assert pass_reachable("15.82") is False
    assert pass_reachable(16) is True


@pytest.mark.parametrize(
    "admission", ["0", "15.84", "33.3", "49.99", "62.5", "70", "88.88", "100"]
)
def test_exam_needed_is_the_true_minimum(admission: str) -> None:
    # Cross-check against the real outcome rule for every whole exam score.
    rank = {band.letter: index for index, band in enumerate(reversed(DEFAULT_SCALE))}
    adm = D(admission)
    for target in exam_needed(adm):
        achieving = [
            exam
            for exam in range(101)
            if (result := _outcome_from_admission(adm, exam)).passed
            and result.letter_grade is not None
            and rank[result.letter_grade.letter] >= rank[target.letter]
        ]
        if target.reachable:
            assert achieving and min(achieving) == target.exam
        else:
            assert not achieving
            assert target.exam > 100


def _outcome_from_admission(admission: Decimal, exam: int) -> FinalOutcome:
    # Both midterms equal to the admission give exactly that admission rating.
    return outcome(admission, admission, exam)


def test_overridden_rules() -> None:
    rules = GradingRules.from_mapping(
        {
            "midterm_weights": ["0.4", "0.6"],
            "admission_weight": "0.5",
            "exam_weight": 0.5,
            "pass_threshold": 50,
            "exam_threshold": "40",
        }
    )
    assert rules.exam_weight == D("0.5")
    assert admission_rating(50, 100, rules) == D("80.00")
    result = outcome(50, 100, 45, rules)  # 40 + 22.5 = 62.5 → 63 → C-, exam 45 >= 40
    assert result.final == D("62.50")
    assert result.passed is True
    assert result.letter_grade is not None
    assert result.letter_grade.letter == "C-"
    assert outcome(50, 100, 45).passed is False  # the defaults are untouched
    assert _targets_for(80, rules)["D"].exam == 40  # 40 + 0.5x passes at any x: exam floor


def _targets_for(admission: int, rules: GradingRules) -> dict[str, ExamTarget]:
    return {target.letter: target for target in exam_needed(admission, rules)}


def test_overridden_scale() -> None:
    rules = GradingRules.from_mapping(
        {
            "pass_threshold": 60,
            "scale": [
                {"letter": "A", "min_percent": 90, "points": 4, "traditional": "excellent"},
                {"letter": "B", "min_percent": 75, "points": 3, "traditional": "good"},
                {"letter": "C", "min_percent": 60, "points": 2, "traditional": "satisfactory"},
                {"letter": "F", "min_percent": 0, "points": 0, "traditional": "unsatisfactory"},
            ],
        }
    )
    assert grade_for("89.5", rules).letter == "A"
    assert grade_for(59, rules).letter == "F"
    assert [t.letter for t in exam_needed(100, rules)] == ["C", "B", "A"]
    assert outcome(60, 60, 60, rules).passed is True
    assert outcome(55, 55, 55, rules).passed is False


@pytest.mark.parametrize(
    "data",
    [
        {"exam_wieght": 0.4},
        {"admission_weight": 0.7},
        {"midterm_weights": [0.5]},
        {"midterm_weights": [0.7, 0.7]},
        {"pass_threshold": 52},
        {"pass_threshold": "50.5"},
        {"exam_threshold": 101},
        {"scale": [{"letter": "A", "min_percent": 50, "points": 4, "traditional": "x"}]},
        {"scale": [{"letter": "A", "min_percent": 0, "points": 4}]},
    ],
)
def test_invalid_overrides_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        GradingRules.from_mapping(data)


def test_default_rules_values() -> None:
    assert DEFAULT_RULES.midterm_weights == (D("0.5"), D("0.5"))
    assert DEFAULT_RULES.admission_weight == D("0.6")
    assert DEFAULT_RULES.exam_weight == D("0.4")
    assert DEFAULT_RULES.pass_threshold == 50
    assert DEFAULT_RULES.exam_threshold == 50
    assert GradingRules.from_mapping({}) == DEFAULT_RULES
