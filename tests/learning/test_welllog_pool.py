import hashlib

import numpy as np
import pytest

from app.learning.welllog import generate_dataset
from app.learning.welllog_pool import (
    REDUNDANCY,
    Redundancy,
    generate_pool,
    hard_styles,
    near_duplicate_rate,
    style_entropy,
    style_frequencies,
)


def test_none_reproduces_the_independent_generator() -> None:
    pool = generate_pool(6, seed=3, size=64, redundancy="none")
    ref = generate_dataset(6, seed=3, size=64)
    for im, m, (ri, rm) in zip(pool.images, pool.masks, ref, strict=True):
        assert np.array_equal(im, ri) and np.array_equal(m, rm)
    assert (pool.style_ids == -1).all() and pool.hard == [""] * 6


def test_none_matches_the_generator_before_the_knobs() -> None:
    """Fingerprint of generate_dataset(4, seed=3, size=64) taken with welllog.py as it was before the
    redundancy knobs (commit 448ac8b), same venv. JPEG encoding goes through PIL: if a PIL or numpy
    upgrade changes it, re-take the fingerprint from that commit's welllog.py."""
    pool = generate_pool(4, seed=3, size=64, redundancy="none")
    h = hashlib.sha256()
    for im, m in zip(pool.images, pool.masks, strict=True):
        h.update(im.tobytes())
        h.update(m.tobytes())
    assert h.hexdigest() == "dc95f1cabe6dddfd4552a17c9674d487eb83bdf67a950ef5f1b92209add13066"


@pytest.mark.parametrize("level", ["moderate", "high"])
def test_redundant_pool_deterministic_prefix_stable_and_valid(level: str) -> None:
    a = generate_pool(8, seed=2, size=64, redundancy=level)
    b = generate_pool(5, seed=2, size=64, redundancy=level)
    for i in range(5):
        assert np.array_equal(a.images[i], b.images[i]) and np.array_equal(a.masks[i], b.masks[i])
    for im, m in zip(a.images, a.masks, strict=True):
        assert im.shape == (64, 64, 3) and set(np.unique(m).tolist()) <= {0, 1, 2}
    sections = REDUNDANCY[level].sections
    assert (a.well_ids == np.arange(8) // sections).all()
    # every section of a well has the well's template
    for w in np.unique(a.well_ids):
        assert len(set(a.style_ids[a.well_ids == w].tolist())) == 1


def test_adjacent_sections_share_the_shifted_curve() -> None:
    knobs = Redundancy(styles=1, sections=2, section_shift=0.25)
    pool = generate_pool(2, seed=9, size=64, redundancy=knobs)
    fg0, fg1 = pool.masks[0] > 0, pool.masks[1] > 0
    # section 1 starts 16 px further down: its top 48 rows overlap section 0's bottom rows
    overlap = (fg0[16 + 4:60] & fg1[4:44]).sum() / max(1, fg1[4:44].sum())
    unrelated = (fg0[4:44] & fg1[4:44]).sum() / max(1, fg1[4:44].sum())
    assert overlap > unrelated + 0.2, (overlap, unrelated)


def test_style_frequencies_zipf_and_hard_tail() -> None:
    knobs = REDUNDANCY["high"]
    p = style_frequencies(knobs)
    assert np.isclose(p.sum(), 1.0) and (np.diff(p) < 0).all()
    hard = hard_styles(knobs)
    assert hard and min(hard) > knobs.styles // 2  # the rare tail
    assert set(hard.values()) <= {"crossing", "faded"}


def test_knobs_change_the_measured_duplicate_rate() -> None:
    """Near-duplicate rate and style entropy on 100 charts of 128 px (measured: rate 0.09 none, 0.22
    high at threshold 0.045; entropy 6.6 vs ~2.7 bits)."""
    rates, entropies = {}, {}
    for level in ("none", "high"):
        pool = generate_pool(100, seed=4, size=128, redundancy=level)
        rates[level] = near_duplicate_rate(pool.images, threshold=0.045)
        entropies[level] = style_entropy(pool.style_ids)
    assert rates["high"] >= rates["none"] + 0.08, rates
    assert entropies["none"] > 6.5 and entropies["high"] < 3.6, entropies


def test_bad_knobs_refused() -> None:
    with pytest.raises(ValueError, match="sections"):
        Redundancy(sections=0)
    with pytest.raises(ValueError, match="unknown redundancy"):
        generate_pool(1, seed=0, redundancy="extreme")
