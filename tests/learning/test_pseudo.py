"""Pseudo-labels never include a pixel at or below the bar, and the bar is read off the reliability bins."""

from __future__ import annotations

import numpy as np
import pytest

from app.learning.calibration import reliability_bins
from app.learning.constants import IGNORE_INDEX
from app.learning.pseudo import bar_from_reliability, cap_background, pseudo_labels


@pytest.mark.parametrize("bar", [0.0, 0.5, 0.8, 0.95, 0.999])
def test_pseudo_labels_never_include_pixels_below_the_bar(bar: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (3, 32, 32))
    probs = np.exp(logits) / np.exp(logits).sum(0)
    out = pseudo_labels(probs, bar)
    conf = probs.max(0)
    kept = out != IGNORE_INDEX
    assert not kept[conf <= bar].any()  # nothing at or below the bar
    assert kept[conf > bar].all()  # everything above it
    assert (out[kept] == probs.argmax(0)[kept]).all()


def test_bar_from_reliability_bins() -> None:
    # confident pixels right, unsure ones often wrong: the bar sits where accuracy holds from there up
    rng = np.random.default_rng(1)
    n = 20_000
    conf = rng.uniform(0.34, 1.0, n)
    right = rng.random(n) < np.where(conf > 0.8, 0.99, 0.5)
    probs = np.zeros((n, 3))
    probs[:, 0] = conf
    probs[:, 1] = probs[:, 2] = (1 - conf) / 2
    labels = np.where(right, 0, 1)
    bins = reliability_bins(probs[:, :, None], labels[:, None], n_bins=10, per_class=False)["overall"]
    bar = bar_from_reliability(bins, 0.95)
    assert bar == pytest.approx(0.8)
    assert bar_from_reliability(bins, 0.999) is None


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0, 3.0])
def test_capped_background_keeps_the_foreground_and_at_most_share_background(share: float) -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 3, (3, 32, 32))
    logits[0] += 3  # mostly paper, as on the charts
    probs = np.exp(logits) / np.exp(logits).sum(0)
    bar = 0.9
    full = pseudo_labels(probs, bar)
    out = cap_background(full, share, np.random.default_rng(0))
    fg = (full != 0) & (full != IGNORE_INDEX)
    assert (out[fg] == full[fg]).all()  # every confident curve pixel stays
    assert (out == 0).sum() == min((full == 0).sum(), int(share * fg.sum()))
    kept = out != IGNORE_INDEX
    assert (out[kept] == full[kept]).all() and not kept[probs.max(0) <= bar].any()  # only ever removes
    empty = np.where(full == 0, 0, IGNORE_INDEX).astype(np.uint8)  # confident paper, no curve: nothing kept
    assert (cap_background(empty, share, np.random.default_rng(0)) == IGNORE_INDEX).all()
    with pytest.raises(ValueError):
        cap_background(full, -1.0, np.random.default_rng(0))
