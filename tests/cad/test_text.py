import pytest

from backend.cad.canonical import canonicalize
from backend.cad.quantize import (
    STEP,
    QuantizationRangeError,
    format_steps,
    from_steps,
    quantize_program,
    to_steps,
)
from backend.cad.text import TextParseError, program_to_text, text_to_program
from tests.cad.programs import plate_with_hole


def test_number_words_are_exact():
    for q in range(-200, 201):
        assert float(format_steps(q)) == pytest.approx(from_steps(q), abs=1e-12)
        assert to_steps(float(format_steps(q))) == q


def test_quantisation_error_is_at_most_half_a_step():
    import numpy as np

    for v in np.linspace(-1, 1, 2001):
        assert abs(from_steps(to_steps(v)) - v) <= STEP / 2 + 1e-12


def test_out_of_range_numbers_are_refused():
    with pytest.raises(QuantizationRangeError, match="outside the token range"):
        to_steps(1.2)


def test_text_round_trip():
    program = plate_with_hole()
    text = program_to_text(program)
    parsed = text_to_program(text)
    assert parsed == quantize_program(program)
    assert program_to_text(parsed) == text
    assert text.splitlines()[0] == "extrude new one_side 0.200"


def test_comments_are_ignored():
    text = "# frame scale=2\n" + program_to_text(canonicalize(plate_with_hole()))
    assert text_to_program(text) == canonicalize(plate_with_hole())


@pytest.mark.parametrize(
    "text, message",
    [
        ("extrude cut one_side 0.100", "expected new"),
        ("extrude new one_side 0.000", "other than 0.000"),
        ("extrude new sideways 0.1", "expected one_side | symmetric | two_sides"),
        ("extrude new one_side 0.100\nprofile", "expected plane"),
        ("extrude new one_side 0.100\nplane 0 0", "expected a number"),
        (
            "extrude new one_side 0.100\nplane"
            + " 0.000" * 9
            + "\nprofile\nloop 0.000 0.000\nline 0.000 0.000",
            "other than",
        ),
        (
            "extrude new one_side 0.100\nplane" + " 0.000" * 9 + "\nprofile\ncircle 0.000 0.000 -0.100",
            "in \\[0.005",
        ),
        (
            "extrude new one_side 0.100\nplane"
            + " 0.000" * 9
            + "\nprofile\nloop 0.000 0.000\nline 0.100 0.000",
            "end of text: .*expected arc \\| line",
        ),
    ],
)
def test_bad_text_names_line_and_word(text, message):
    with pytest.raises(TextParseError, match=message):
        text_to_program(text)
