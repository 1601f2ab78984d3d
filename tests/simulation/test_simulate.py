"""The label-efficiency simulator on a tiny configuration: document shape, sanity, determinism."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.simulation.config import schedule
from app.simulation.results import COMPUTE_BOUND_FRACTION, compute_warnings, labels_to_target, verdict
from app.simulation.run import SimConfig, run_simulation
from app.simulation.tasks import LabelState, all_candidates, planned_steps

# min_reference=0: these runs check the document, not learning (a few steps learn nothing)
TINY = SimConfig(strategies=("random", "entropy"), size=32, pool=10, test=4, val=2, rounds=2, seeds=2, steps=4,
                 train_batch=4, batch=2, crop=None, score_subset=6, mc_samples=2, min_reference=0.0)
TINY_REGION = SimConfig(strategies=("random", "entropy"), unit="region", tile=16, size=32, pool=6, test=4, val=2,
                        rounds=2, seeds=2, steps=4, train_batch=4, batch=3, crop=None, score_subset=4, mc_samples=2,
                        min_reference=0.0)
ROUND_FIELDS = {"labeled_fraction", "labeled_tasks", "miou_fg", "per_class_iou", "ece"}


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "image"
    return out, run_simulation(TINY, out)


@pytest.fixture(scope="module")
def region_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sim") / "region"
    return out, run_simulation(TINY_REGION, out)


def _check_document(doc: dict[str, Any], strategies: tuple[str, ...], rounds: int) -> None:
    classes = ["background", "curve-1", "curve-2"]
    assert doc["classes"] == classes
    assert set(doc["full_data"]) >= {"miou_fg", "per_class_iou"}
    assert list(doc["full_data"]["per_class_iou"]) == classes
    assert 0.0 <= doc["full_data"]["miou_fg"] <= 1.0
    assert list(doc["strategies"]) == list(strategies)
    assert set(doc["labels_to_target"]) == set(strategies) == set(doc["labels_to_target_spread"])
    for name in strategies:
        rounds_ = doc["strategies"][name]["rounds"]
        assert len(rounds_) == rounds + 1  # round 0 (seed set) + acquisition rounds
        for r in rounds_:
            assert set(r) >= ROUND_FIELDS
            assert 0.0 < r["labeled_fraction"] <= 1.0
            assert r["miou_fg"] is None or 0.0 <= r["miou_fg"] <= 1.0
            assert list(r["per_class_iou"]) == classes
            assert 0.0 <= r["ece"] <= 1.0
        fractions = [r["labeled_fraction"] for r in rounds_]
        tasks = [r["labeled_tasks"] for r in rounds_]
        efforts = [r["effort"] for r in rounds_]  # the annotator's seconds, cumulative per round
        assert set(efforts[0]) == {"seconds", "by_hand_seconds", "pixels_changed", "strokes", "tasks", "round_seconds"}
        assert efforts[0]["seconds"] == efforts[0]["by_hand_seconds"] == efforts[0]["round_seconds"] > 0  # seed set
        assert [e["tasks"] for e in efforts] == tasks
        for before, after in zip(efforts, efforts[1:], strict=False):
            assert after["seconds"] == pytest.approx(before["seconds"] + after["round_seconds"])
            assert after["by_hand_seconds"] > before["by_hand_seconds"]
        assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)
        assert tasks == sorted(tasks) and len(set(tasks)) == len(tasks)
        ltt = doc["labels_to_target"][name]
        assert ltt is None or 0.0 < ltt <= fractions[-1]
        spread = doc["labels_to_target_spread"][name]
        assert spread is None or (len(spread) == 2 and spread[0] <= (spread[1] if spread[1] is not None else 1))
        assert len(doc["strategies"][name]["seeds"]) == 2
        assert all(0.0 <= r["ece_calibrated"] <= 1.0 and r["temperature"] > 0 for r in rounds_)  # val split
        assert set(doc["stop_report"][name]) >= {"stop", "reason"}
    assert doc["warnings"] == compute_warnings(doc["labels_to_target"]["random"], doc["config"]["steps"])
    # round 0 is shared: the same seed set and model for every strategy
    assert doc["strategies"][strategies[0]]["rounds"][0] == doc["strategies"][strategies[1]]["rounds"][0]


def test_image_units_document(image_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = image_run
    doc = json.loads((out / "results.json").read_text())
    _check_document(doc, ("random", "entropy"), rounds=2)
    assert doc["strategies"]["random"]["rounds"][0]["labeled_fraction"] == pytest.approx(2 / 10)
    assert [r["labeled_tasks"] for r in doc["strategies"]["entropy"]["rounds"]] == [2, 4, 9]  # growth 2.5
    assert (out / "curves.png").stat().st_size > 10_000
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folder left
    assert set(doc["ratio_to_random"]) == {"random", "entropy"} and "entropy" in doc["verdict"]
    assert doc["timing"]["train_runs"] >= 1 + 2 * (1 + 2)


def test_region_units_document(region_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region_run
    doc = json.loads((out / "results.json").read_text())
    _check_document(doc, ("random", "entropy"), rounds=2)
    pool_pixels = 6 * 32 * 32
    for r in doc["strategies"]["random"]["rounds"]:
        assert r["labeled_fraction"] == pytest.approx(r["labeled_tasks"] * 16 * 16 / pool_pixels)
    assert doc["schedule"]["pool_tasks"] == 6 * 4
    assert [r["labeled_tasks"] for r in doc["strategies"]["random"]["rounds"]] == [3, 6, 14]


def test_same_json_twice_under_seed(tmp_path: Path, image_run: tuple[Path, dict[str, Any]]) -> None:
    def strip(doc: Any) -> Any:
        if isinstance(doc, dict):
            return {k: strip(v) for k, v in doc.items() if k not in ("timing", "train_seconds", "cached")}
        if isinstance(doc, list):
            return [strip(v) for v in doc]
        return doc

    again = run_simulation(TINY, tmp_path / "again")
    first = json.loads((image_run[0] / "results.json").read_text())
    assert strip(json.loads(json.dumps(again))) == strip(first)


def test_reference_is_reused_from_the_cache(tmp_path: Path) -> None:
    cfg = SimConfig(strategies=("random",), size=32, pool=6, test=3, val=0, rounds=1, seeds=1, steps=3, batch=2,
                    train_batch=4, crop=None, min_reference=0.0)
    first = run_simulation(cfg, tmp_path / "a", cache_dir=tmp_path / "cache", plot=False)
    second = run_simulation(cfg, tmp_path / "b", cache_dir=tmp_path / "cache", plot=False)
    assert not (tmp_path / "b" / "curves.png").exists()
    assert first["full_data"] == second["full_data"]
    assert second["timing"]["train_runs"] == first["timing"]["train_runs"] - 1  # no reference training (1 seed)


def test_every_strategy_picks_unlabeled_tiles(tmp_path: Path) -> None:
    from app.learning.acquisition import STRATEGIES

    cfg = SimConfig(strategies=tuple(STRATEGIES), unit="region", tile=16, size=32, pool=5, test=2, val=0, rounds=1,
                    seeds=1, steps=2, train_batch=4, batch=4, crop=None, score_subset=3, mc_samples=2,
                    steered_share=0.25, min_reference=0.0)
    results = run_simulation(cfg, tmp_path / "all", plot=False)
    for name in STRATEGIES:
        assert [r["labeled_tasks"] for r in results["strategies"][name]["rounds"]] == [4, 8]
        assert results["strategies"][name]["seeds"][0][1]["scored_images"] == (0 if name == "random" else 3)


def test_labels_to_target_interpolates_the_first_crossing() -> None:
    fr = [0.1, 0.2, 0.4, 0.8]
    assert labels_to_target(fr, [0.5, 0.6, 0.8, 0.9], 0.7) == pytest.approx(0.3)
    assert labels_to_target(fr, [0.75, 0.6, 0.8, 0.9], 0.7) == pytest.approx(0.1)  # round 0 already there
    assert labels_to_target(fr, [0.5, 0.6, 0.65, 0.69], 0.7) is None
    assert labels_to_target(fr, [None, 0.6, 0.8, 0.7], 0.7) == pytest.approx(0.3)


def test_verdict_needs_the_gap_to_exceed_the_seed_spread() -> None:
    assert verdict([0.1, 0.2], [0.3, 0.5], 0.8) == "better than random beyond seed spread"
    assert verdict([0.1, 0.35], [0.3, 0.5], 0.8) == "not distinguishable"
    assert verdict([0.1, 0.2], None, 0.8) == "better than random beyond seed spread"
    assert verdict([0.1, None], None, 0.8) == "not distinguishable"
    assert verdict([0.6, 0.7], [0.3, 0.5], 0.8) == "worse than random beyond seed spread"


def test_compute_bound_reference_is_flagged() -> None:
    assert compute_warnings(None, 150) == []  # random never got there: labels matter
    assert compute_warnings(0.64, 1000) == []
    assert compute_warnings(COMPUTE_BOUND_FRACTION + 0.01, 150) == []
    (warning,) = compute_warnings(0.075, 150)
    assert "7.5%" in warning and "150 steps" in warning and "compute-bound" in warning


def test_schedule_grows_and_stops_at_pool_budget_or_rounds() -> None:
    assert schedule(100, SimConfig(growth=2.0), 4, 4) == [4, 8, 16, 32, 64, 100]
    assert schedule(100, SimConfig(), 4, 4) == [4, 8, 18, 43, 100]  # default growth 2.5
    assert schedule(100, SimConfig(growth=1.5), 4, 4) == [4, 8, 14, 23, 37, 57, 87, 100]
    assert schedule(100, SimConfig(budget=0.3), 4, 4)[-1] == 30
    assert schedule(100, SimConfig(rounds=2, growth=1.0), 5, 10) == [5, 15, 25]


def test_region_labels_reveal_only_their_pixels() -> None:
    masks = [np.full((40, 40), 1, np.uint8), np.full((40, 40), 2, np.uint8)]
    images = [np.zeros((40, 40, 3), np.uint8)] * 2
    tasks = all_candidates([m.shape for m in masks], "region", 16)
    assert len(tasks) == 2 * 9  # 16 + 16 + 8 per side
    state = LabelState(masks, tasks)
    last = next(i for i, t in enumerate(tasks) if t.image_index == 1 and t.region[:2] == (32, 32))
    state.label([0, last])
    assert state.labeled_pixels == 16 * 16 + 8 * 8
    assert state.fraction == pytest.approx((256 + 64) / 3200)
    xs, ys = state.training_samples(images, "region", margin=8)
    assert [y.shape for y in ys] == [(24, 24), (16, 16)]  # tile + context, clipped at the border
    assert (ys[0][:16, :16] == 1).all() and (ys[0][16:, :] == 255).all() and (ys[0][:, 16:] == 255).all()
    assert (ys[1][8:, 8:] == 2).all() and (ys[1][:8] == 255).all()
    with pytest.raises(ValueError):
        state.label([0])


def test_planned_steps_follow_the_labeled_pixels() -> None:
    full = [np.zeros((128, 128), np.uint8)] * 40
    kw = {"min_steps": 100, "batch_size": 8, "crop": 64}
    assert planned_steps(full, steps=None, epochs=16, **kw) == 16 * 40 * 128 * 128 // (8 * 64 * 64)  # 320
    assert planned_steps(full[:4], steps=None, epochs=16, **kw) == 100  # the floor
    assert planned_steps(full, steps=50, epochs=16, **kw) == 50  # fixed steps win
    half = np.full((128, 128), 255, np.uint8)
    half[:64] = 1
    assert planned_steps([half] * 40, steps=None, epochs=16, **kw) == 160  # only labeled pixels count


def test_identical_labeled_sets_train_once(tmp_path: Path) -> None:
    cfg = SimConfig(strategies=("random", "entropy"), size=32, pool=4, test=2, val=0, seeds=1, steps=2, batch=2,
                    train_batch=4, crop=None, target=1.0, min_reference=0.0)
    results = run_simulation(cfg, tmp_path / "whole", plot=False)
    assert results["schedule"]["labeled_tasks_per_round"] == [2, 4]  # the whole pool in round 1
    assert results["timing"]["train_runs"] == 2  # reference (= the whole-pool round 1 model) and round 0
    last = [results["strategies"][s]["seeds"][0][1] for s in ("random", "entropy")]
    assert last[0]["miou_fg"] == last[1]["miou_fg"] and last[0]["labeled_fraction"] == 1.0


def test_decision_bias_scores_the_tuned_argmax_and_keeps_the_plain_one(tmp_path: Path) -> None:
    cfg = SimConfig(strategies=("random",), size=32, pool=6, test=3, val=2, rounds=1, seeds=1, steps=3, batch=2,
                    train_batch=4, crop=None, min_reference=0.0)
    plain = run_simulation(cfg, tmp_path / "plain", cache_dir=tmp_path / "cache", plot=False)
    tuned = run_simulation(replace(cfg, decision_bias=True), tmp_path / "tuned", cache_dir=tmp_path / "cache",
                           plot=False)
    assert tuned["timing"]["train_runs"] == plain["timing"]["train_runs"]  # its own reference, not the cached one
    assert tuned["full_data"]["miou_fg_raw"] == plain["full_data"]["miou_fg"]  # same models, same plain argmax
    for p, t in zip(plain["strategies"]["random"]["rounds"], tuned["strategies"]["random"]["rounds"], strict=True):
        assert "decision_bias" not in p and t["miou_fg_raw"] == p["miou_fg"]
        assert len(t["decision_bias"]) == 3 and t["decision_bias"][0] == 0.0


def test_region_reference_is_what_every_tile_gives_the_region_way(tmp_path: Path) -> None:
    """The last round labels the whole pool: it must land on the reference, not short of it."""
    cfg = SimConfig(strategies=("random",), unit="region", tile=16, size=32, pool=3, test=2, val=0, rounds=5,
                    seeds=2, steps=20, train_batch=4, batch=4, growth=2.0, crop=None, min_reference=0.0)
    results = run_simulation(cfg, tmp_path / "reg", plot=False)
    last = results["strategies"]["random"]["rounds"][-1]
    assert last["labeled_fraction"] == 1.0
    assert last["miou_fg"] == results["full_data"]["miou_fg"]
    assert [s[-1]["miou_fg"] for s in results["strategies"]["random"]["seeds"]] == \
        results["full_data"]["miou_fg_per_seed"]


def test_the_summary_prints_each_strategys_effort(image_run: tuple[Path, dict[str, Any]]) -> None:
    import io

    from rich.console import Console

    from app.simulation.cli import print_summary

    out, results = image_run
    buf = io.StringIO()
    print_summary(results, str(out), Console(file=buf, width=200))
    text = buf.getvalue()
    last = results["strategies"]["entropy"]["rounds"][-1]["effort"]
    assert f"effort entropy: {last['seconds'] / 60:.1f} annotator-minutes for {last['tasks']:.0f} tasks" in text
    assert "effort random:" in text
