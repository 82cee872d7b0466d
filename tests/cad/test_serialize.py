import json

import pytest

from backend.cad.serialize import FORMAT, ProgramFormatError, dumps, loads, program_from_dict, program_to_dict
from tests.cad.programs import plate_with_hole


def test_json_round_trip_is_exact():
    program = plate_with_hole()
    assert loads(dumps(program)) == program
    assert program_to_dict(program)["format"] == FORMAT


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other/9"), "unsupported program format"),
        (lambda d: d["features"][0].update(operation="merge"), "unknown operation 'merge'"),
        (lambda d: d["features"][0]["extent"].update(kind="up_to"), "unknown extent"),
        (lambda d: d["features"][0]["extent"].update(d1=float("nan")), "not finite"),
        (lambda d: d["features"][0]["sketch"]["plane"].update(origin=[0, 0]), "must have 3 numbers"),
        (
            lambda d: d["features"][0]["sketch"]["profiles"][0]["outer"]["curves"][0].update(type="spline"),
            "line, arc or circle",
        ),
        (lambda d: d["features"][0]["extent"].pop("d1"), "d1 is missing"),
        (lambda d: d["features"][0]["extent"].update(d1="1"), "must be"),
    ],
)
def test_bad_json_names_the_problem(mutate, message):
    data = json.loads(dumps(plate_with_hole()))
    mutate(data)
    with pytest.raises(ProgramFormatError, match=message):
        program_from_dict(data)


def test_not_json():
    with pytest.raises(ProgramFormatError, match="not valid JSON"):
        loads("{nope")
