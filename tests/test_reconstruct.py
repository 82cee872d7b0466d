import numpy as np
import pytest
import torch
import trimesh

from backend import reconstruct as rc
from backend.cad.validate import validate
from backend.data.generator import generate
from backend.geometry.solid import program_to_mesh
from backend.intake import check
from backend.reconstruct import Cancelled, InputMeshError, ReconstructOptions, Reconstructor
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)

FAST = ReconstructOptions(candidates=3, refine_budget_s=0.3)


@pytest.fixture(scope="module")
def reconstructor(tmp_path_factory):
    return Reconstructor(
        tiny_checkpoint(tmp_path_factory.mktemp("ckpt")), device="cpu", unmask_checkpoint="none"
    )


@pytest.fixture(scope="module")
def part_mm():
    """A generator part scaled and moved into millimetres."""
    _, mesh = generate(1_000_000_001)
    mesh = mesh.copy()
    mesh.apply_scale(37.0)
    mesh.apply_translation([120.0, -40.0, 15.0])
    return mesh


def test_result_overlays_the_input_in_its_own_frame(reconstructor, part_mm):
    before = part_mm.vertices.copy()
    stages = []
    res = reconstructor.reconstruct(part_mm, FAST, progress=lambda f, s: stages.append((f, s)))
    np.testing.assert_array_equal(part_mm.vertices, before)  # the input is never modified
    size = float(part_mm.extents.max())
    validate(res.program, scale=res.frame.scale)
    rebuilt = program_to_mesh(res.program, scale=res.frame.scale)
    for m in (rebuilt, res.mesh):
        assert np.abs(m.bounds - part_mm.bounds).max() < 0.03 * size
    assert res.frame.scale == pytest.approx(size)
    assert res.scores["iou"] > 0.7 and res.scores["cd"] < 0.01
    assert res.source in ("model", "section", "bbox") and res.n_features == len(res.program.features)
    assert res.stats.candidates == 3 and res.stats.parsed + res.stats.unfinished == 3
    names = [s for _, s in stages]
    for name in ("validate", "encode", "verify", "refine", "intent", "score"):
        assert name in names
    assert any(s.startswith("decode ") and s.endswith("/3") for s in names)
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert set(res.timings) >= {
        "validate",
        "encode",
        "decode",
        "verify",
        "refine",
        "intent",
        "score",
        "total",
    }
    assert res.to_dict()["program"]["format"] == "cadprog/1"


def test_reported_noise_is_the_one_the_sections_fit_with(reconstructor, part_mm, monkeypatch):
    """``input["noise"]``: the robust route's measured sigma for a scan, 0 for a clean mesh (one estimate:
    a second one in the frame stage read thin walls as noise and disagreed with the fit's)."""
    from backend.geometry.perturb import scan

    seen = []
    real = rc._slicer
    monkeypatch.setattr(rc, "_slicer", lambda prep: seen.append(real(prep)) or seen[-1])
    clean = reconstructor.reconstruct(part_mm, FAST)
    assert clean.input["noise"] == 0.0
    scanned = reconstructor.reconstruct(scan(part_mm, 0), FAST)
    assert scanned.input["noise"] == seen[-1].surface.noise > 0.0
    # sigma 0.2 % of the largest extent on the vertices; samples on the triangles read a little lower
    assert 0.0005 < scanned.input["noise"] < 0.004
    monkeypatch.setattr(rc, "_slicer", lambda prep: None)  # slicing failed: not measured, not "clean"
    assert reconstructor.reconstruct(scan(part_mm, 0), FAST).input["noise"] is None


def test_should_cancel_stops(reconstructor, part_mm):
    with pytest.raises(Cancelled):
        reconstructor.reconstruct(part_mm, FAST, should_cancel=lambda: True)
    stages = []

    def cancel_in_decode() -> bool:
        return bool(stages) and stages[-1].startswith("decode")

    with pytest.raises(Cancelled):
        reconstructor.reconstruct(
            part_mm, FAST, progress=lambda f, s: stages.append(s), should_cancel=cancel_in_decode
        )
    assert "verify" not in stages


def test_bad_meshes_raise_clear_errors(reconstructor, monkeypatch):
    cases = [
        (trimesh.Trimesh(), "empty"),
        (
            trimesh.Trimesh(
                [[0, 0, 0], [1, 0, 0], [np.nan, 1, 0], [0, 0, 1]], [[0, 1, 2], [0, 1, 3]], process=False
            ),
            "non-finite",
        ),
        (
            trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]]),
            "flat mesh.*Z",
        ),
    ]
    for mesh, message in cases:
        with pytest.raises(InputMeshError, match=message):
            reconstructor.reconstruct(mesh, FAST)
    monkeypatch.setattr(check, "MAX_TRIANGLES", 10)
    with pytest.raises(InputMeshError, match="MAX_TRIANGLES"):
        reconstructor.reconstruct(trimesh.creation.icosphere(), FAST)


def test_without_checkpoint_uses_sections(monkeypatch, tmp_path, part_mm):
    monkeypatch.setattr(rc, "DEFAULT_CHECKPOINT", tmp_path / "missing")
    monkeypatch.setattr(rc, "DEFAULT_UNMASK_CHECKPOINT", tmp_path / "missing-unmask")
    r = Reconstructor()
    assert not r.has_model
    res = r.reconstruct(part_mm, ReconstructOptions(refine=False))
    assert res.source == "section" and res.stats.candidates == 0
    res = r.reconstruct(part_mm, ReconstructOptions(refine=False, use_sections=False))
    assert res.source == "bbox"  # nothing else: the bounding box, and the result says so
    with pytest.raises(FileNotFoundError):
        Reconstructor(tmp_path / "missing")


def test_a_conditioned_model_reads_the_mesh_observation(tmp_path, part_mm, monkeypatch):
    from backend.cad.tokens import CadTokenizer
    from backend.model.cad_model import CadModel
    from backend.sections.observe import observation_ids

    seen = []
    condition = CadModel.condition

    def spy(self, points, obs=None, obs_mask=None):
        seen.append(None if obs is None else obs[0].tolist())
        return condition(self, points, obs, obs_mask)

    monkeypatch.setattr(CadModel, "condition", spy)
    r = Reconstructor(
        tiny_checkpoint(tmp_path / "c", n_obs_tokens=48), device="cpu", unmask_checkpoint="none"
    )
    res = r.reconstruct(part_mm, FAST)
    tok = CadTokenizer()
    assert seen and seen[0] == observation_ids(rc.slicer_for(r_prep_geometry(part_mm)), tok, 48)
    assert res.stats.candidates == 3 and "sections" in res.timings


def r_prep_geometry(mesh):
    from backend.intake.prepare import prepare

    return prepare(mesh).geometry


def test_model_programs_are_also_offered_snapped(reconstructor, part_mm, monkeypatch):
    from backend.verify import candidates

    offered = []
    snapped = candidates.snapped_programs

    def spy(programs, snapper):
        out = snapped(programs, snapper)
        offered.append((len(programs), len(out)))
        return out

    from backend.decode import DecodeResult

    program, _ = generate(1_000_000_001)  # the part's own design, as a model would write it

    def decoder(*args, n_candidates, **kwargs):
        return [DecodeResult(tokens=[k], program=program, finished=True) for k in range(n_candidates)]

    monkeypatch.setattr(rc, "snapped_programs", spy)
    monkeypatch.setitem(rc.DECODERS, "ar", decoder)
    res = reconstructor.reconstruct(part_mm, FAST)
    assert offered == [(3, offered[0][1])] and offered[0][1] <= 3
    assert "model" in res.best_by_source


def test_without_sections_no_geometry_candidates_join_the_model(reconstructor, monkeypatch):
    """``use_sections=False`` is the model alone: no residual features complete its program (with the
    sections on, the missing cross hole comes back as a cut: a section candidate)."""
    from backend.cad.program import Program
    from backend.decode import DecodeResult
    from backend.geometry.solid import program_to_mesh
    from tests.verify.test_residual import BLOCK, CROSS_HOLE

    mesh = program_to_mesh(Program((BLOCK, CROSS_HOLE)))

    def decoder(*args, n_candidates, **kwargs):  # a design without its cross hole
        return [
            DecodeResult(tokens=[k], program=Program((BLOCK,)), finished=True) for k in range(n_candidates)
        ]

    monkeypatch.setitem(rc.DECODERS, "ar", decoder)
    alone = ReconstructOptions(candidates=2, refine=False, use_sections=False)
    res = reconstructor.reconstruct(mesh, alone)
    assert res.source == "model" and set(res.best_by_source) == {"model"}
    res = reconstructor.reconstruct(mesh, ReconstructOptions(candidates=2, refine=False))
    assert res.scores["iou"] > 0.99


def test_fixed_budgets_give_the_same_result_whatever_the_clock(reconstructor, part_mm, monkeypatch):
    """Budgets in work (decoding steps, refinement trials: what the options' seconds buy on the
    reference machine) instead of seconds: two runs agree, whatever the clock says."""
    import dataclasses

    from backend.verify.refine import REFINE_BUDGET_EVALS, REFINE_BUDGET_S

    decoded, refined = [], []
    decode, refine = rc.DECODERS["ar"], rc.refine_candidate

    def decode_spy(*args, **kwargs):
        decoded.append((kwargs.get("deadline"), kwargs.get("step_budget")))
        return decode(*args, **kwargs)

    def refine_spy(best, target, budget_s, check, max_evals=None):
        trials = []
        out = refine(best, lambda m: trials.append(1) or target(m), budget_s, check, max_evals)
        refined.append((max_evals, len(trials)))
        return out

    monkeypatch.setitem(rc.DECODERS, "ar", decode_spy)
    monkeypatch.setattr(rc, "refine_candidate", refine_spy)
    options = dataclasses.replace(FAST, fixed_budgets=True, decode_budget_s=1.0)
    first = reconstructor.reconstruct(part_mm, options)
    second = reconstructor.reconstruct(part_mm, options)
    assert decoded == [(None, round(rc.DECODE_BUDGET_STEPS / rc.DECODE_BUDGET_S))] * 2  # 1 s of steps
    evals = round(REFINE_BUDGET_EVALS * FAST.refine_budget_s / REFINE_BUDGET_S)
    assert [e for e, _ in refined] == [evals] * 2 and 0 < refined[0][1] <= evals
    assert refined[0] == refined[1]
    assert first.program == second.program and first.refined == second.refined


def test_the_level_search_runs_unless_asked_not_to(reconstructor, part_mm, monkeypatch):
    import dataclasses

    calls = []
    search = rc.with_level_search

    def spy(candidates, *args, **kwargs):
        calls.append(len(candidates))
        return search(candidates, *args, **kwargs)

    monkeypatch.setattr(rc, "with_level_search", spy)
    reconstructor.reconstruct(part_mm, FAST)
    assert len(calls) == 1
    reconstructor.reconstruct(part_mm, dataclasses.replace(FAST, level_search=False))
    assert len(calls) == 1
