"""Dataset completion: the confidence that decides machine labels, the bar read off the audit, and a
tiny end-to-end run."""

from __future__ import annotations

import numpy as np
import pytest

from app.simulation.completion import CompletionConfig, complete_pool, expected_iou, finish_now, hand_effort
from app.simulation.data import load_data
from app.simulation.effort import OVERHEAD_SECONDS, by_hand_effort, task_effort


def _probs(mask: np.ndarray, confidence: float, classes: int = 3) -> np.ndarray:
    p = np.full((classes, *mask.shape), (1 - confidence) / (classes - 1))
    for c in range(classes):
        p[c][mask == c] = confidence
    return p


def test_expected_iou_follows_confidence() -> None:
    mask = np.zeros((8, 8), np.int64)
    mask[2:4, 2:4] = 1
    assert expected_iou(_probs(mask, 0.999)) > 0.99
    assert expected_iou(_probs(mask, 0.6)) < expected_iou(_probs(mask, 0.9)) < 1.0
    assert expected_iou(_probs(np.zeros((8, 8), np.int64), 0.999)) == 1.0  # nothing expected to label


def test_finish_now_reads_the_bar_off_the_audit() -> None:
    truth = [np.zeros((6, 6), np.uint8) for _ in range(12)]
    for t in truth:
        t[1:3, 1:3] = 1
    preds = [t.astype(np.int64).copy() for t in truth]
    preds[11][:] = 0  # one bad machine label, with low confidence
    conf = np.array([0.99] * 11 + [0.3])
    cfg = CompletionConfig(quality_bar=0.9, audit_share=0.25)
    out = finish_now(preds, conf, {0, 1}, truth, 100.0, cfg, 3, np.random.default_rng(0))
    # images 2..10 pass the lowest bar (0.5); ceil(0.25 * 9) = 3 are audited, 6 kept as machine labels;
    # the bad image (conf 0.3) goes to humans with its empty suggestion
    assert out["bar"] == 0.5 and out["audited"] == 3 and out["machine_labels"] == 6
    assert out["audit_miou_fg"] == 1.0 and out["true_quality"] == 1.0
    bad = task_effort(preds[11], truth[11]).seconds
    assert bad == by_hand_effort(truth[11]).seconds
    assert out["effort"] == pytest.approx(100.0 + 3 * OVERHEAD_SECONDS + bad)


def test_finish_now_labels_everything_when_no_audit_passes() -> None:
    truth = [np.zeros((6, 6), np.uint8) for _ in range(4)]
    for t in truth:
        t[0:2, 0:2] = 2
    preds = [np.zeros((6, 6), np.int64) for _ in range(4)]  # confident and wrong
    out = finish_now(preds, np.ones(4), set(), truth, 0.0, CompletionConfig(audit_share=0.5), 3,
                     np.random.default_rng(1))
    assert out["bar"] is None and out["machine_labels"] == 0 and out["true_quality"] == 1.0
    assert out["effort"] == pytest.approx(hand_effort(truth))


def test_a_tiny_completion_run() -> None:
    data = load_data("welllog", pool=8, test=1, val=2, size=32)
    cfg = CompletionConfig(initial=2, batch=2, max_rounds=2, steps=3, train_batch=4, crop=None, score_subset=4,
                           mc_samples=2)
    out = complete_pool(data, "entropy", cfg, seed=0)
    assert [r["labeled"] for r in out["rounds"]] == [2, 4, 7]
    first = out["rounds"][0]
    assert 0 < first["spent"] < hand_effort(data.pool_masks)  # two charts by hand
    assert all(b["spent"] > a["spent"] for a, b in zip(out["rounds"], out["rounds"][1:], strict=False))
    assert out["effort"] == min(r["finish_effort"] for r in out["rounds"]) and out["effort"] >= first["spent"]
    assert 0.0 <= out["true_quality"] <= 1.0
