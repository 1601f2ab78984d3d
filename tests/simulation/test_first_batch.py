"""`--first-batch random|centroid`: the seed set of the simulator (app.simulation.levers.centroid_seed_set)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.learning.centroids import centroid_picks, descriptor
from app.simulation.cli import add_arguments, config_from_args
from app.simulation.config import SimulationInputError, check_config
from app.simulation.data import load_data
from app.simulation.run import STRATEGIES, SimConfig, run_simulation
from tests.simulation.label_spy import labeled_calls

# min_reference=0: these runs check the wiring, not learning (a few steps learn nothing)
TINY = SimConfig(strategies=("random",), size=32, pool=20, test=3, val=3, rounds=1, seeds=2, steps=3,
                 train_batch=4, initial=4, batch=2, crop=None, score_subset=6, mc_samples=2, min_reference=0.0,
                 redundancy="high")


def _seed_sets(monkeypatch: pytest.MonkeyPatch, cfg: SimConfig, out: Path) -> tuple[list[list[int]], dict[str, Any]]:
    """Run `cfg` and return the task ids round 0 labeled, per seed (the first label() call of each seed's
    state after the reference's whole-pool one), and the results."""
    calls, results = labeled_calls(monkeypatch, cfg, out)
    return [c for c in calls if len(c) == cfg.initial][: cfg.seeds], results


def test_random_first_batch_is_the_draw_it_always_was(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sets, results = _seed_sets(monkeypatch, TINY, tmp_path / "random")
    # the draw of every run before the option: rng([data_seed, seed, 0]).choice(pool, initial)
    assert sets == [[int(t) for t in np.random.default_rng([0, s, 0]).choice(20, size=4, replace=False)]
                    for s in range(2)]
    assert "first_batch" not in results.get("levers", {})
    assert results["config"]["first_batch"] == "random"


def test_centroid_first_batch_labels_the_centroid_picks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sets, results = _seed_sets(monkeypatch, replace(TINY, first_batch="centroid"), tmp_path / "centroid")
    images = load_data("welllog", pool=20, test=3, val=3, size=32, redundancy="high").pool_images
    expected = [centroid_picks(descriptor(images), 4, seed=[0, s, 0]) for s in range(2)]
    assert sets == expected
    assert [info["picks"] for info in results["levers"]["first_batch"]] == expected
    assert {info["embedding"] for info in results["levers"]["first_batch"]} == {"descriptor"}
    assert results["config"]["first_batch"] == "centroid"
    assert results["strategies"]["random"]["seeds"][0][0]["labeled_tasks"] == 4


def test_centroid_first_batch_embeds_with_the_pretrained_trunk(tmp_path: Path) -> None:
    cfg = replace(TINY, first_batch="centroid", pretrain=True, pretrain_steps=2, seeds=1)
    results = run_simulation(cfg, tmp_path / "pre", plot=False)
    (info,) = results["levers"]["first_batch"]
    assert info["embedding"] == "pretrained trunk" and len(set(info["picks"])) == 4


@pytest.mark.parametrize(("change", "message"), [
    ({"first_batch": "kmeans"}, "--first-batch must be one of random, centroid"),
    ({"first_batch": "centroid", "unit": "region"}, "--first-batch centroid works with --unit image only"),
])
def test_bad_first_batch_is_refused_naming_the_option(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SimulationInputError, match=message):
        check_config(replace(TINY, **change), STRATEGIES)


def test_the_cli_takes_first_batch() -> None:
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert config_from_args(p.parse_args(["--out", "x", "--first-batch", "centroid"])).first_batch == "centroid"
    assert config_from_args(p.parse_args(["--out", "x"])).first_batch == "random"
