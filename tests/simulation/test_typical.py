"""The simulator's `typical` strategy (TypiClust picks), `--first-seed`, and joining runs over disjoint seeds."""

from __future__ import annotations

import argparse
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.learning.centroids import descriptor
from app.learning.typicality import typical_picks
from app.simulation.cli import add_arguments, config_from_args
from app.simulation.config import SimulationInputError, check_config
from app.simulation.data import load_data
from app.simulation.merge import MergeError, merge_results
from app.simulation.run import STRATEGIES, SimConfig, run_simulation
from tests.simulation.label_spy import labeled_calls

# min_reference=0: these runs check the wiring, not learning (a few steps learn nothing)
TINY = SimConfig(strategies=("random", "typical"), size=32, pool=20, test=3, val=3, rounds=1, seeds=2, steps=3,
                 train_batch=4, initial=4, batch=3, crop=None, score_subset=6, mc_samples=2, min_reference=0.0,
                 redundancy="high")
TIMING = ("train_seconds",)  # the only fields of a round that may differ between two runs of one seed


def _rounds(results: dict[str, Any], strategy: str, k: int) -> list[dict[str, Any]]:
    return [{f: v for f, v in r.items() if f not in TIMING} for r in results["strategies"][strategy]["seeds"][k]]


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_simulation(TINY, tmp_path_factory.mktemp("two") / "out", plot=False)


def test_typical_labels_the_typiclust_picks_of_the_descriptors(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    calls, results = labeled_calls(monkeypatch, replace(TINY, strategies=("typical",)), tmp_path / "t")
    images = load_data("welllog", pool=20, test=3, val=3, size=32, redundancy="high").pool_images
    emb = descriptor(images)
    seed_sets = [c for c in calls if len(c) == 4]
    picks = [c for c in calls if len(c) == 3]
    assert len(seed_sets) == len(picks) == 2
    for seed, (seed_set, picked) in enumerate(zip(seed_sets, picks, strict=True)):
        rng = np.random.default_rng([0, seed, 1, zlib.crc32(b"typical")])  # the round's rng, as every strategy's
        assert picked == typical_picks(emb, sorted(seed_set), 3, seed=int(rng.integers(2**31)))
    assert results["strategies"]["typical"]["seeds"][0][1]["scored_images"] == 0  # no model scoring


def test_adding_typical_leaves_random_as_it_was(two_seeds: dict[str, Any], tmp_path: Path) -> None:
    alone = run_simulation(replace(TINY, strategies=("random",)), tmp_path / "r", plot=False)
    for k in range(2):
        assert _rounds(two_seeds, "random", k) == _rounds(alone, "random", k)
    assert alone["full_data"]["miou_fg_per_seed"] == two_seeds["full_data"]["miou_fg_per_seed"]


def test_first_seed_runs_the_later_seeds_alone_and_merging_gives_the_joint_run(two_seeds: dict[str, Any],
                                                                                tmp_path: Path) -> None:
    first = run_simulation(replace(TINY, seeds=1), tmp_path / "a", plot=False)
    second = run_simulation(replace(TINY, seeds=1, first_seed=1), tmp_path / "b", plot=False)
    for s in TINY.strategies:
        assert _rounds(second, s, 0) == _rounds(two_seeds, s, 1)
        assert _rounds(first, s, 0) == _rounds(two_seeds, s, 0)
    assert second["full_data"]["miou_fg_per_seed"] == two_seeds["full_data"]["miou_fg_per_seed"][1:]
    merged = merge_results([second, first])  # any order
    for key in ("labels_to_target", "labels_to_target_spread", "labels_to_target_per_seed", "verdict"):
        assert merged[key] == two_seeds[key]
    assert merged["full_data"]["miou_fg"] == pytest.approx(two_seeds["full_data"]["miou_fg"])
    assert merged["strategies"]["typical"]["rounds"][1]["miou_fg"] == pytest.approx(
        two_seeds["strategies"]["typical"]["rounds"][1]["miou_fg"])
    assert merged["config"]["seeds"] == 2 and merged["config"]["first_seed"] == 0
    with pytest.raises(MergeError, match="overlap in seeds: \\[0\\]"):
        merge_results([first, two_seeds])
    other = {**second, "config": {**second["config"], "lr": 1.0}}
    with pytest.raises(MergeError, match="differ in lr"):
        merge_results([first, other])


@pytest.mark.parametrize(("change", "message"), [
    ({"unit": "region"}, "--strategies typical works with --unit image only"),
    ({"first_seed": -1}, "--first-seed must be at least 0"),
])
def test_bad_options_are_refused_naming_them(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulationInputError, match=message):
        check_config(replace(TINY, **change), STRATEGIES)


def test_the_cli_takes_typical_and_first_seed() -> None:
    p = argparse.ArgumentParser()
    add_arguments(p)
    cfg = config_from_args(p.parse_args(["--out", "x", "--strategies", "random,typical", "--first-seed", "5"]))
    assert cfg.strategies == ("random", "typical") and cfg.first_seed == 5
    check_config(cfg, STRATEGIES)
    assert config_from_args(p.parse_args(["--out", "x"])).first_seed == 0
