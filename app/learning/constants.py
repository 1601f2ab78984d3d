"""Constants shared by the learning core and its callers."""

from __future__ import annotations

# Mask value for "not labeled": excluded from losses, class weights and metrics.
IGNORE_INDEX: int = 255
