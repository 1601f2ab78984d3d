"""Dataset completion: the lead wants the WHOLE pool labeled at a quality bar, and pays in annotator
seconds (app.simulation.effort).

Humans label the tasks the queue hands them, correcting the current model's suggestion. After each
round the lead may finish: images whose calibrated confidence is above a bar get machine labels
(kept apart from human ones), a random audit share of those goes to humans, and the rest is labeled
by humans with suggestions. The bar is the lowest on a grid whose audit -- the machine labels the
auditors corrected -- measures a foreground mIoU at or above the quality bar (so the bar is read off
the audit, never off the truth). The run finishes at the round where that costs least (in hindsight,
the same rule for every order, so the comparison is fair but optimistic for all); the true quality of
the finished pool (fg mIoU of every final label against the truth) is reported beside it.

Confidence of an image: the expected foreground IoU of its argmax under the temperature-scaled
probabilities, per class sum(p * [pred = c]) / (sum [pred = c] + sum p - sum(p * [pred = c])),
averaged over the foreground classes present in prediction or probability mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.learning.calibration import fit_temperature, flatten_pixels
from app.learning.confidence import expected_iou
from app.learning.inference import logits_for, softmax
from app.learning.metrics import confusion_matrix, segmentation_metrics
from app.simulation.acquire import AcquireConfig, acquire
from app.simulation.data import SimData
from app.simulation.effort import by_hand_effort, task_effort
from app.simulation.tasks import LabelState, all_candidates, train_round

__all__ = ["CompletionConfig", "expected_iou", "hand_effort", "complete_pool", "finish_now", "BARS"]

BARS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)


@dataclass(frozen=True)
class CompletionConfig:
    quality_bar: float = 0.9  # whole-pool fg mIoU the lead wants
    audit_share: float = 0.1  # share of machine-labeled images sent to humans
    initial: int = 4  # images labeled by hand first (random)
    batch: int = 4  # images per human round (growth applies)
    growth: float = 1.5
    max_rounds: int = 8
    steps: int = 300
    lr: float = 1.2e-2
    base_channels: int = 8
    crop: int | None = 64
    train_batch: int = 8
    score_subset: int = 64
    mc_samples: int = 4
    device: str = "cpu"


def hand_effort(masks: list[np.ndarray]) -> float:
    """Seconds to label every image by hand."""
    return float(sum(by_hand_effort(m).seconds for m in masks))


def _pool_quality(labels: list[np.ndarray], truth: list[np.ndarray], num_classes: int) -> float:
    conf = sum((confusion_matrix(lb, t, num_classes) for lb, t in zip(labels, truth, strict=True)),
               np.zeros((num_classes, num_classes), np.int64))
    return float(segmentation_metrics(conf)["miou_fg"] or 0.0)


def finish_now(preds: list[np.ndarray], conf: np.ndarray, labeled: set[int], truth: list[np.ndarray],
            spent: float, cfg: CompletionConfig, num_classes: int, rng: np.random.Generator) -> dict[str, Any]:
    """What finishing now costs and gives, with the bar read off the audit."""
    rest = [i for i in range(len(truth)) if i not in labeled]
    cost = {i: task_effort(preds[i], truth[i]).seconds for i in rest}
    order = rng.permutation(len(rest))  # one audit draw per round, the same for every bar
    chosen: dict[str, Any] | None = None
    for bar in BARS:
        accepted = [rest[j] for j in order if conf[rest[j]] >= bar]
        n_audit = int(np.ceil(cfg.audit_share * len(accepted))) if accepted else 0
        audit = accepted[:n_audit]
        if accepted and not audit:
            continue
        audit_q = _pool_quality([preds[i] for i in audit], [truth[i] for i in audit], num_classes) if audit else None
        if audit_q is not None and audit_q < cfg.quality_bar:
            continue
        machine = set(accepted) - set(audit)
        effort = spent + sum(cost[i] for i in rest if i not in machine)
        final = [preds[i] if i in machine else truth[i] for i in range(len(truth))]
        chosen = {"bar": bar if machine else None, "machine_labels": len(machine), "audited": len(audit),
                  "audit_miou_fg": audit_q,
                  "effort": effort, "true_quality": _pool_quality(final, truth, num_classes)}
        break
    if chosen is None:  # no bar passes its audit: humans label everything that is left
        chosen = {"bar": None, "machine_labels": 0, "audited": 0, "audit_miou_fg": None,
                  "effort": spent + sum(cost.values()), "true_quality": 1.0}
    return chosen


def complete_pool(data: SimData, order: str, cfg: CompletionConfig, seed: int) -> dict[str, Any]:
    """Label the whole pool in `order` ("random" or an acquisition strategy) with suggestions and
    auto-accept -> {"effort", "true_quality", "round", "rounds": [per round: labeled, spent, finish]}."""
    images, truth, c = data.pool_images, data.pool_masks, data.num_classes
    tasks = all_candidates([m.shape for m in truth], "image", 0)
    state = LabelState(truth, tasks)
    rng = np.random.default_rng([seed, 11])
    first = [int(t) for t in rng.choice(len(tasks), size=min(cfg.initial, len(tasks)), replace=False)]
    spent = sum(by_hand_effort(truth[t]).seconds for t in first)
    state.label(first)
    acfg = AcquireConfig(score_subset=cfg.score_subset, mc_samples=cfg.mc_samples, device=cfg.device)
    rounds: list[dict[str, Any]] = []
    batch = float(cfg.batch)
    for r in range(cfg.max_rounds + 1):
        xs, ys = state.training_samples(images, "image", 0)
        model, hist = train_round(xs, ys, c, steps=cfg.steps, batch_size=cfg.train_batch, lr=cfg.lr, crop=cfg.crop,
                                  seed=10_000 * seed + r, device=cfg.device, base_channels=cfg.base_channels)
        temperature = (fit_temperature(*flatten_pixels(logits_for(model, data.val_images, device=cfg.device),
                                                       data.val_masks)) if data.val_images else 1.0)
        logits = logits_for(model, images, device=cfg.device, batch_size=16)
        preds = [lg.argmax(0) for lg in logits]
        conf = np.array([expected_iou(softmax(lg, temperature)) for lg in logits])
        finish = finish_now(preds, conf, state.labeled, truth, spent, cfg, c, np.random.default_rng([seed, r, 5]))
        rounds.append({"round": r, "labeled": len(state.labeled), "spent": spent, "temperature": temperature,
                       **{f"finish_{k}": v for k, v in finish.items()}})
        unlabeled = state.unlabeled()
        if r == cfg.max_rounds or not unlabeled:
            break
        n = min(len(unlabeled), max(1, int(round(batch))))
        picked, _ = acquire(order, tasks, unlabeled, sorted(state.labeled), model, images, n,
                            np.random.default_rng([seed, r, 7]), acfg,
                            class_weights=np.asarray(hist["class_weights"], np.float32))
        spent += sum(task_effort(preds[t], truth[t]).seconds for t in picked)
        state.label(picked)
        batch *= cfg.growth
    best = min(rounds, key=lambda x: x["finish_effort"])
    return {"effort": best["finish_effort"], "true_quality": best["finish_true_quality"], "round": best["round"],
            "bar": best["finish_bar"], "machine_labels": best["finish_machine_labels"], "rounds": rounds}
