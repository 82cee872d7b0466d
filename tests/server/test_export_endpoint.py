"""``POST /v1/export``: program JSON -> STEP / CadQuery text, behind the token, with clear 4xx errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.cad.program import Profile
from backend.cad.serialize import program_to_dict
from backend.server.app import create_app
from tests.cad.programs import circle, plate_with_hole, prog, rect

TOKEN = "t0k3n"
LOCAL = "http://127.0.0.1"  # the server answers loopback Host names only


class NoModel:
    """Stands in for the Reconstructor: export never touches it."""

    def reconstruct(self, *args, **kwargs):  # pragma: no cover - never called
        raise AssertionError("export must not reconstruct")


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(NoModel(), TOKEN), base_url=LOCAL) as c:
        c.headers["Authorization"] = f"Bearer {TOKEN}"
        yield c


def body(fmt: str, program=None, name: str = "bracket") -> dict:
    return {"program": program_to_dict(program or plate_with_hole()), "format": fmt, "name": name}


def test_cadquery_script_comes_back_as_text(client):
    reply = client.post("/v1/export", json=body("cadquery"))
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["suffix"] == ".py" and data["format"] == "cadquery"
    assert "import cadquery as cq" in data["content"] and "depth_1 = 0.2" in data["content"]
    compile(data["content"], "part.py", "exec")


def test_step_comes_back_as_one_solid(client):
    pytest.importorskip("OCP")
    reply = client.post("/v1/export", json=body("step", name='we"ird\nname'))
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["suffix"] == ".step" and data["solids"] == 1
    assert data["content"].startswith("ISO-10303-21;") and "CYLINDRICAL_SURFACE" in data["content"]
    assert "PRODUCT('we_ird_name'" in data["content"]


def test_needs_the_token():
    with TestClient(create_app(NoModel(), TOKEN), base_url=LOCAL) as c:
        assert c.post("/v1/export", json=body("cadquery")).status_code == 401


@pytest.mark.parametrize("fmt", ["step", "cadquery"])
def test_invalid_program_is_422_with_the_reason(client, fmt):
    if fmt == "step":
        pytest.importorskip("OCP")
    bad = prog(Profile(rect(0, 0, 1, 1), (circle(3, 3, 0.1),)))  # a hole outside its outer loop
    reply = client.post("/v1/export", json=body(fmt, bad))
    assert reply.status_code == 422
    assert "invalid program" in reply.json()["detail"]


def test_bad_format_and_malformed_program_are_422(client):
    assert client.post("/v1/export", json={**body("step"), "format": "iges"}).status_code == 422
    reply = client.post("/v1/export", json={"program": {"format": "cadprog/1"}, "format": "cadquery"})
    assert reply.status_code == 422 and "program" in reply.json()["detail"]
