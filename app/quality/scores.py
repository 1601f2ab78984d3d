"""Quality scores from evidence, and the tiers routing puts annotators in. Pure functions.

An annotator's score is the mean of their gold IoUs and agreement IoUs, each answer one piece of
evidence, shrunk toward PRIOR as if PRIOR_WEIGHT answers of PRIOR had been seen too: one perfect gold
answer gives (1 + 5 * 0.5) / 6 = 0.58, not 1.0, so it cannot rank someone above a steady record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

PRIOR = 0.5
PRIOR_WEIGHT = 5.0
TOP_SHARE = 1 / 3  # the top third of the scored annotators (at least one) form the top tier


def combine(*, gold_mean: float | None, gold_count: int, agreement_mean: float | None,
            agreement_count: int) -> float:
    total = (gold_mean or 0.0) * gold_count + (agreement_mean or 0.0) * agreement_count + PRIOR * PRIOR_WEIGHT
    return total / (gold_count + agreement_count + PRIOR_WEIGHT)


@dataclass(frozen=True)
class Standing:
    score: float
    evidence: int


def top_tier(standings: Mapping[int, Standing], min_evidence: int) -> set[int]:
    """User ids in the top tier: among those with at least `min_evidence`, the best TOP_SHARE by score
    (ties at the cut are all in). Empty when nobody has enough evidence: then nobody is tiered."""
    eligible = sorted(((s.score, uid) for uid, s in standings.items() if s.evidence >= min_evidence), reverse=True)
    if not eligible:
        return set()
    n = max(1, math.ceil(len(eligible) * TOP_SHARE))
    cut = eligible[n - 1][0]
    return {uid for score, uid in eligible if score >= cut}
