#!/usr/bin/env bash
# Every number in the README's results section, from the shipped checkpoints (run from the repo root,
# after `python3.11 install.py`). Real parts are read from ../shared/realparts (measured, never trained on).
set -euo pipefail
PY=.venv/bin/python
REAL=${REAL:-../shared/realparts}
# budgets in work (decoding steps, refinement trials), not seconds: every quality number is the same under
# any load, so runs compare part by part; the times come from the clock-budget run marked "speed" below
FIXED=--fixed-budgets

# reconstruction quality: pipeline, section-only pipeline (the same without the model: the model's
# contribution is the difference), model-only and section-reference rows
$PY -m backend evaluate $FIXED --synthetic 200 --out out/eval/synthetic
$PY -m backend evaluate $FIXED --meshes "$REAL/fusion360" --out out/eval/fusion360
$PY -m backend evaluate $FIXED --meshes "$REAL/mendel90" --out out/eval/mendel90

# the inputs people actually have: turned, scanned, point clouds, exports with triangles missing (open),
# turned then scanned, sampled or opened (scored against the clean originals);
# prusa_mk3s and voron0 were never looked at while tuning (held out)
for set in fusion360 mendel90 prusa_mk3s voron0; do
    for p in rotate scan points open turned-scan turned-points turned-open; do
        extra=""; [ "$set" = fusion360 ] || extra="--no-section-only"
        $PY -m backend evaluate $FIXED --meshes "$REAL/$set" --perturb $p --no-reference $extra --out out/eval/$set-$p
    done
done
$PY -m backend evaluate $FIXED --meshes "$REAL/prusa_mk3s" --out out/eval/prusa_mk3s
$PY -m backend evaluate $FIXED --meshes "$REAL/voron0" --out out/eval/voron0

# the two decoders side by side (model candidates only, no sections, no refinement)
$PY scripts/compare_decoders.py --decoders ar --candidates 1 8 --synthetic 50 --meshes "$REAL/fusion360" --limit 20 --out out/compare_ar
# the unmask decoder re-reads the ~290-token prefix every pass (no cache): a smaller set
$PY scripts/compare_decoders.py --decoders unmask --candidates 8 --steps 8 --synthetic 20 --meshes "$REAL/fusion360" --limit 10 --out out/compare_unmask

# designs whose operations are known (Fusion 360 Gallery timelines): features and cuts against the design
$PY scripts/evaluate_design_intent.py $FIXED --out out/design_intent
$PY scripts/evaluate_design_intent.py $FIXED --candidates 0 --out out/design_intent_sections

# the level search's contribution: the same runs without it (paired with the ones above, same budgets)
$PY -m backend evaluate $FIXED --meshes "$REAL/fusion360" --no-level-search --no-reference --no-section-only --out out/eval/fusion360-no-levels
$PY -m backend evaluate $FIXED --synthetic 200 --no-level-search --no-reference --no-section-only --out out/eval/synthetic-no-levels
$PY scripts/evaluate_design_intent.py $FIXED --no-level-search --out out/design_intent_no_levels

# speed: the product's own clock budgets (2 s of decoding, 1 s of refinement), run alone
$PY -m backend evaluate --meshes "$REAL/fusion360" --no-section-only --no-reference --out out/eval/fusion360-clock
$PY scripts/benchmark_generator.py
$PY scripts/benchmark_server.py
$PY scripts/benchmark_addon.py
$PY scripts/benchmark_hostile.py                      # health latency and cancel time during a 2 M-triangle job, peak RSS
$PY scripts/benchmark_deviation.py                    # deviation map of a ~100k-triangle input in headless Blender
$PY -m backend reconstruct "$REAL/fusion360" --out-dir out/rec_f360
$PY scripts/benchmark_export.py out/rec_f360          # STEP export time and volume error (add --cadquery-python PY)

# how well the part's own axes are found on turned scans and clouds (the README's frame numbers; --no-refine:
# the code before the whole-surface refinement)
for set in fusion360 mendel90 prusa_mk3s voron0; do
    for p in turned-scan turned-points; do
        for a in "" --no-refine; do $PY scripts/measure_frames.py "$REAL/$set" --perturb $p $a --verbose; done
    done
done
# a scan's normals from point neighbourhoods (the code before they were averaged along its surface)
for set in fusion360 mendel90 prusa_mk3s voron0; do
    $PY scripts/measure_frames.py "$REAL/$set" --perturb turned-scan --point-normals --verbose
done
for a in "" --point-normals; do $PY scripts/measure_frames.py "$REAL/fusion360" --perturb scan $a; done
# a finer scan (edges 1/150 of the size): the mesh's own ring count, and a fixed 8 rings
for r in "" "--rings 8"; do
    $PY scripts/measure_frames.py "$REAL/fusion360" --perturb turned-scan --scan-edge 0.006667 $r
done

# open exports: how many filled meshes close again, their volume error, and the time to fill a large one
$PY scripts/measure_hole_filling.py "$REAL"/*/

# the observation's number coverage and what snapping does to rough programs (model card, issue note)
$PY scripts/measure_observation.py

# the model cards' held-out metrics, against the checkpoints they started from (ar: stage 6 of commit
# d64d6bb; unmask: commit f3704fc)
mkdir -p out/prev out/prev6 && git archive f3704fc backend/checkpoints | tar -x -C out/prev
git archive d64d6bb backend/checkpoints/default | tar -x -C out/prev6
$PY scripts/evaluate_heldout.py out/prev6/backend/checkpoints/default backend/checkpoints/default \
    out/prev/backend/checkpoints/unmask backend/checkpoints/unmask
# the stage-6 checkpoint in the pipeline, for the card's stage-6 -> 7 rows (those were measured with the
# verifier of commit 1ab45f0, before the loose snap and the pruning: run this script at that commit to get
# them again; at this commit it gives the stage-6 checkpoint with today's verifier)
S6="--checkpoint out/prev6/backend/checkpoints/default --no-reference --no-section-only"
$PY -m backend evaluate $FIXED --meshes "$REAL/fusion360" $S6 --out out/eval_stage6/fusion360
$PY -m backend evaluate $FIXED --synthetic 200 $S6 --out out/eval_stage6/synthetic
for p in rotate scan points; do
    $PY -m backend evaluate $FIXED --meshes "$REAL/fusion360" --perturb $p $S6 --out out/eval_stage6/fusion360-$p
done
for set in mendel90 prusa_mk3s voron0; do
    $PY -m backend evaluate $FIXED --meshes "$REAL/$set" $S6 --out out/eval_stage6/$set
    for p in rotate scan points turned-scan turned-points; do
        $PY -m backend evaluate $FIXED --meshes "$REAL/$set" --perturb $p $S6 --out out/eval_stage6/$set-$p
    done
done
$PY scripts/compare_decoders.py --decoders ar --checkpoint out/prev6/backend/checkpoints/default --candidates 1 8 \
    --synthetic 50 --meshes "$REAL/fusion360" --limit 20 --out out/compare_ar_stage6
$PY scripts/evaluate_design_intent.py --checkpoint out/prev6/backend/checkpoints/default --out out/design_intent_stage6

# the ranking distance's own sampling noise (verify/rank.py RANK_NOISE)
$PY scripts/measure_rank_noise.py

# where the model loses: the verifier's candidates near the lowest loss, and the rule with looser tolerances
$PY scripts/measure_model_headroom.py --meshes "$REAL/fusion360" --out out/headroom/fusion360.jsonl
