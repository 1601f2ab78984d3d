import json

import numpy as np
import pytest

from app.learning.metrics import confusion_matrix, segmentation_metrics


def test_confusion_matrix_hand_computed() -> None:
    target = np.array([[0, 0, 1], [1, 2, 255]])
    pred = np.array([[0, 1, 1], [0, 2, 2]])
    conf = confusion_matrix(pred, target, 3)
    expected = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    assert conf.dtype == np.int64
    assert np.array_equal(conf, expected)
    # batched input gives the sum
    batched = confusion_matrix(np.stack([pred, pred]), np.stack([target, target]), 3)
    assert np.array_equal(batched, 2 * expected)


def test_confusion_matrix_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)), 3)
    with pytest.raises(ValueError):
        confusion_matrix(np.full((2, 2), 3), np.zeros((2, 2)), 3)


def test_segmentation_metrics_hand_computed() -> None:
    conf = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    m = segmentation_metrics(conf)
    c0, c1, c2 = (m["per_class"][k] for k in ("0", "1", "2"))
    # class 0: tp 1, fp 1, fn 1
    assert c0["iou"] == pytest.approx(1 / 3)
    assert c0["f1"] == pytest.approx(0.5)
    assert c0["precision"] == pytest.approx(0.5) and c0["recall"] == pytest.approx(0.5)
    assert c1["iou"] == pytest.approx(1 / 3) and c1["support"] == 2
    assert c2["iou"] == 1.0 and c2["f1"] == 1.0 and c2["support"] == 1
    assert m["miou_fg"] == pytest.approx((1 / 3 + 1) / 2)
    assert m["miou"] == pytest.approx((1 / 3 + 1 / 3 + 1) / 3)
    assert m["pixel_accuracy"] == pytest.approx(3 / 5)


def test_absent_class_is_none_and_json_safe() -> None:
    conf = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 0]])  # class 2: no support, no predictions
    m = segmentation_metrics(conf)
    c2 = m["per_class"]["2"]
    assert c2["iou"] is None and c2["f1"] is None and c2["precision"] is None and c2["recall"] is None
    assert c2["support"] == 0
    assert m["miou_fg"] == pytest.approx(2 / 5)  # only class 1 (tp 2, fp 1, fn 2)
    json.dumps(m, allow_nan=False)


def test_predicted_but_absent_class_scores_zero() -> None:
    conf = np.array([[3, 1], [0, 0]])
    m = segmentation_metrics(conf)
    assert m["per_class"]["1"]["iou"] == 0.0
    assert m["per_class"]["1"]["recall"] is None
    assert m["per_class"]["1"]["precision"] == 0.0


def test_empty_confusion() -> None:
    m = segmentation_metrics(np.zeros((3, 3), np.int64))
    assert m["miou"] is None and m["miou_fg"] is None and m["pixel_accuracy"] is None
