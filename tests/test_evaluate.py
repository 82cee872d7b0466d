import argparse
import json

import torch

from backend import evaluate
from backend.cli import evaluate as evaluate_command
from backend.data.generator import generate
from tests.tiny_models import tiny_checkpoint

torch.set_num_threads(1)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    evaluate_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_evaluate_synthetic_writes_results(tmp_path):
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    out = tmp_path / "eval"
    argv = ["--synthetic", "3", "--checkpoint", ckpt, "--candidates", "2", "--out", str(out)]
    assert evaluate_command.run(_args(argv)) == 0
    report = json.loads((out / "results.json").read_text())
    assert len(report["parts"]) == 3
    summary = report["summary"]
    assert set(summary) >= {evaluate.PIPELINE, evaluate.MODEL_ONLY, evaluate.REFERENCE, "ground truth"}
    pipe = summary[evaluate.PIPELINE]
    assert pipe["n"] == 3 and pipe["invalid_ratio"] == 0.0
    assert pipe["cd_x1000_median"] is not None and pipe["iou_mean"] > 0.5
    assert pipe["features_mean"] >= 1
    md = (out / "results.md").read_text()
    assert "| pipeline |" in md and "section reference" in md
    table = md[md.index("| method | n | CD median") :].split("\n\n")[0].splitlines()
    assert "IoU mean, invalid = 0" in table[0]
    assert {row.count("|") for row in table} == {table[0].count("|")}  # every row, ground truth too, fits
    assert (out / "sheet.png").stat().st_size > 0


def test_evaluate_meshes_with_index_gives_bucket_tables(tmp_path):
    folder = tmp_path / "meshes"
    folder.mkdir()
    rows = ["model\tbucket\tn_sketches\tn_extrudes\thas_nurbs"]
    for k, seed in enumerate((1_000_000_001, 1_000_000_002)):
        generate(seed)[1].export(folder / f"m{k}.stl")
        rows.append(f"m{k}\t0{k + 1}_ops\t1\t1\t0")
    (folder / "INDEX.tsv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "eval"
    argv = ["--meshes", str(folder), "--limit", "2", "--no-sections", "--candidates", "0", "--out", str(out)]
    assert evaluate_command.run(_args(argv)) == 0
    report = json.loads((out / "results.json").read_text())
    assert set(report["buckets"]) == {"01_ops", "02_ops"}
    assert evaluate.MODEL_ONLY not in report["summary"]  # sections off: the pipeline is the model's row
    assert "By complexity bucket" in (out / "results.md").read_text()


# --- section-only row, model wins, feature count against the design, cut usage ------------------------


def _method_row(features: int, cuts: int, source: str = "section", novel: bool | None = None) -> dict:
    row = {"valid": True, "cd": 0.001, "cd_own": 0.001, "iou": 0.9, "seconds": 1.0, "source": source}
    row |= {"features": features, "cuts": cuts, "curves": 4, "circles": 0, "arcs": 0, "lines": 4}
    row["candidates"] = {"candidates": 2, "parsed": 2, "unfinished": 0, "failed_rebuild": 0}
    return row | ({} if novel is None else {"model_novel": novel})


def test_summarize_counts_design_cuts_and_model_wins():
    rows = [
        _method_row(1, 0, "model", novel=True),  # design 1: |1-1| = 0
        _method_row(3, 2, "model", novel=False),  # design 1: |3-1| = 2, outside ±1
        _method_row(2, 1),  # design 3: |2-3| = 1, within ±1
        _method_row(5, 0),  # no design: not counted in the design statistics
        {"valid": False, "error": "boom", "seconds": 2.0},  # invalid: counted nowhere but n / invalid
    ]
    s = evaluate.summarize(rows, [1, 1, 3, None, 2])
    assert s["n"] == 5 and s["valid"] == 4
    assert s["iou_mean"] == 0.9 and abs(s["iou_mean_all"] - 0.72) < 1e-12  # 4 x 0.9 and the invalid 0, over 5
    assert s["n_design"] == 3
    assert s["features_within_1"] == 2 / 3
    assert s["features_abs_diff_mean"] == 1.0  # (0 + 2 + 1) / 3
    assert s["cut_share"] == 0.5  # 2 of 4 valid parts have a cut
    assert s["cuts_mean"] == 0.75  # (0 + 2 + 1 + 0) / 4
    assert s["model_won_ratio"] == 0.5  # 2 of 4 valid parts
    assert s["model_won_novel_ratio"] == 0.25  # 1 of 4 valid parts
    no_design = evaluate.summarize(rows[:2])
    assert no_design["n_design"] == 0 and no_design["features_within_1"] is None


def test_curve_counts_counts_cut_features():
    program = generate(1_000_000_003)[0]  # new, join, cut, cut
    counts = evaluate.curve_counts(program)
    assert counts["features"] == 4 and counts["cuts"] == 2
    assert evaluate.curve_counts(generate(1_000_000_001)[0])["cuts"] == 0


def _result(source: str, program, by_source: dict, refined: bool = False):
    from types import SimpleNamespace

    candidates = {k: SimpleNamespace(program=p) for k, p in by_source.items()}
    return SimpleNamespace(
        source=source, program_normalized=program, refined=refined, best_by_source=candidates
    )


def test_model_novelty_compares_with_the_section_programs():
    a, b, c = (generate(s)[0] for s in (1_000_000_001, 1_000_000_002, 1_000_000_003))
    # the model won with program a; sections found b: novel
    assert evaluate.model_novelty(_result("model", a, {"model": a, "section": b})) is True
    # the model's program is a section candidate's program (on the token grid): not novel
    assert evaluate.model_novelty(_result("model", a, {"model": a, "section": a})) is False
    # the section-only run's chosen program (not refined) is the model's: not novel
    sections = _result("section", a, {"section": b})
    assert evaluate.model_novelty(_result("model", a, {"model": a, "section": b}), sections) is False
    # refined: the model's program before refinement is its best candidate, not the refined program c
    assert evaluate.model_novelty(_result("model", c, {"model": b, "section": b}, refined=True)) is False
    # the section candidate won: no model win to judge
    assert evaluate.model_novelty(_result("section", b, {"model": a, "section": b})) is None


def test_evaluate_meshes_section_only_row_and_design_columns(tmp_path):
    folder = tmp_path / "meshes"
    folder.mkdir()
    rows = ["model\tbucket\tn_sketches\tn_extrudes\thas_nurbs"]
    for k, (seed, n_extrudes) in enumerate(((1_000_000_001, 1), (1_000_000_003, 4))):
        generate(seed)[1].export(folder / f"m{k}.stl")
        rows.append(f"m{k}\t0{k + 1}_ops\t1\t{n_extrudes}\t0")
    (folder / "INDEX.tsv").write_text("\n".join(rows) + "\n")
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    out = tmp_path / "eval"
    argv = [
        "--meshes",
        str(folder),
        "--checkpoint",
        ckpt,
        "--candidates",
        "2",
        "--no-reference",
        "--out",
        str(out),
    ]
    assert evaluate_command.run(_args(argv)) == 0
    report = json.loads((out / "results.json").read_text())
    parts, summary = report["parts"], report["summary"]
    assert [p["n_extrudes"] for p in parts] == [1, 4]
    assert list(summary) == [evaluate.PIPELINE, evaluate.SECTION_ONLY, evaluate.MODEL_ONLY, evaluate.BBOX]
    for p in parts:  # the second run: no model candidates, so never the model's result
        second = p[evaluate.SECTION_ONLY]
        assert second["valid"] and second["candidates"]["candidates"] == 0 and second["source"] != "model"
        assert "cuts" in second and "cuts" in p[evaluate.PIPELINE]
    # the bounding box: 1 feature, no cut, against designs of 1 and 4 extrudes
    box = summary[evaluate.BBOX]
    assert box["n_design"] == 2 and box["features_within_1"] == 0.5 and box["features_abs_diff_mean"] == 1.5
    assert box["cut_share"] == 0.0 and box["cuts_mean"] == 0.0
    for method in (evaluate.PIPELINE, evaluate.SECTION_ONLY):  # the summary agrees with the part rows
        features = [p[method]["features"] for p in parts]
        cuts = [p[method]["cuts"] for p in parts]
        s = summary[method]
        assert s["features_within_1"] == sum(abs(f - d) <= 1 for f, d in zip(features, (1, 4))) / 2
        assert s["features_abs_diff_mean"] == sum(abs(f - d) for f, d in zip(features, (1, 4))) / 2
        assert s["cut_share"] == sum(c > 0 for c in cuts) / 2 and s["cuts_mean"] == sum(cuts) / 2
    pipe = summary[evaluate.PIPELINE]
    won = [p[evaluate.PIPELINE]["source"] == "model" for p in parts]
    assert pipe["model_won_ratio"] == sum(won) / 2
    novel = [p[evaluate.PIPELINE].get("model_novel", False) for p in parts]
    assert pipe["model_won_novel_ratio"] == sum(w and n for w, n in zip(won, novel)) / 2
    assert "model_won_ratio" not in summary[evaluate.SECTION_ONLY]
    bucket = report["buckets"]["02_ops"]  # m1 only: 4 extrudes designed
    assert bucket[evaluate.BBOX]["features_within_1"] == 0.0
    assert bucket[evaluate.PIPELINE]["model_won_ratio"] == float(won[1])
    md = (out / "results.md").read_text()
    assert "| section-only pipeline | 2 |" in md
    assert "| bounding box | 2 | 50.0 % | 1.50 | 0.0 % | 0.00 | – | – |" in md
    assert "| 02_ops | " in md and "pipeline ±1" in md and "model wins, novel" in md
    assert "the model's candidate won on" in md


def test_evaluate_no_section_only_skips_the_row(tmp_path):
    ckpt = str(tiny_checkpoint(tmp_path / "ckpt"))
    out = tmp_path / "eval"
    argv = [
        "--synthetic",
        "1",
        "--checkpoint",
        ckpt,
        "--candidates",
        "2",
        "--no-reference",
        "--no-section-only",
    ]
    assert evaluate_command.run(_args([*argv, "--out", str(out)])) == 0
    report = json.loads((out / "results.json").read_text())
    assert evaluate.SECTION_ONLY not in report["summary"]
    part = report["parts"][0]
    assert part["n_extrudes"] == part["ground_truth"]["features"]  # synthetic: the generator's program
    assert report["summary"][evaluate.PIPELINE]["n_design"] == 1


def test_model_novelty_of_a_program_off_the_token_grid_or_without_sections():
    a, b = (generate(s)[0] for s in (1_000_000_001, 1_000_000_002))
    far = a.transformed(1.0, (1.5, 0.0, 0.0))  # a point beyond the grid's ±1: no section program is it
    assert evaluate.model_novelty(_result("model", far, {"model": far, "section": b})) is True
    # no section candidates at all (a model-only run): novel, and no grid needed
    assert evaluate.model_novelty(_result("model", far, {"model": far})) is True


def test_with_fixed_budgets_the_time_limit_is_this_process_s_cpu_time(monkeypatch):
    """A part waiting on a loaded machine (wall time, no CPU of its own) times out with clock budgets,
    not with budgets in work: their results must not depend on the load."""
    import time
    from types import SimpleNamespace

    from backend.reconstruct import Cancelled

    class Waiting:
        def reconstruct(self, given, options, should_cancel):
            time.sleep(0.3)  # another process has the cores
            if should_cancel():
                raise Cancelled()
            raise ValueError("finished")

    monkeypatch.setattr(evaluate, "TIMEOUT_S", 0.1)
    clock, _ = evaluate._run_pipeline(Waiting(), None, None, None, SimpleNamespace(fixed_budgets=False), None)
    work, _ = evaluate._run_pipeline(Waiting(), None, None, None, SimpleNamespace(fixed_budgets=True), None)
    assert clock["error"].startswith("timeout") and work["error"] == "finished"
