import numpy as np

from app.learning import IGNORE_INDEX
from app.learning.welllog import CLASSES, generate_chart, generate_dataset


def test_classes_and_ignore_index() -> None:
    assert [name for name, _ in CLASSES] == ["background", "curve-1", "curve-2"]
    assert all(h.startswith("#") and len(h) == 7 for _, h in CLASSES)
    assert IGNORE_INDEX == 255


def test_chart_shape_dtype_and_classes() -> None:
    image, mask = generate_chart(np.random.default_rng(0), size=96)
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert mask.shape == (96, 96) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) <= {0, 1, 2}


def test_dataset_deterministic_and_prefix_stable() -> None:
    a = generate_dataset(4, seed=3, size=64)
    b = generate_dataset(4, seed=3, size=64)
    c = generate_dataset(2, seed=3, size=64)  # chart i must not depend on n
    d = generate_dataset(4, seed=4, size=64)
    for (ia, ma), (ib, mb) in zip(a, b, strict=True):
        assert np.array_equal(ia, ib) and np.array_equal(ma, mb)
    for (ia, ma), (ic, mc) in zip(a[:2], c, strict=True):
        assert np.array_equal(ia, ic) and np.array_equal(ma, mc)
    assert not np.array_equal(a[0][0], d[0][0])


def test_foreground_fraction_plausible() -> None:
    data = generate_dataset(24, seed=11, size=128)
    frac = np.array([[(m == c).mean() for c in (1, 2)] for _, m in data])
    assert (frac > 0).all(), "both curves are drawn on every chart"
    mean = frac.mean(axis=0)
    assert ((mean > 0.005) & (mean < 0.04)).all(), mean
    assert (frac < 0.1).all()


def test_mask_matches_ink() -> None:
    # curve pixels should be darker / more saturated than the paper on average
    data = generate_dataset(12, seed=5, size=128)
    for image, mask in data:
        grey = image.astype(float).mean(axis=2)
        paper = np.median(grey[mask == 0])
        assert grey[mask > 0].mean() < paper - 10
