"""Learning core: synthetic data, a small U-Net, partial-label training, inference,
uncertainty scores and segmentation metrics.

Pure torch/numpy (plus PIL); nothing here imports the web app, so it can run in a worker
process or a script on its own.
"""

from app.learning.constants import IGNORE_INDEX

__all__ = ["IGNORE_INDEX"]
