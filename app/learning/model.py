"""A small U-Net split into a deterministic trunk and a stochastic head, plus checkpoints.

The split exists for uncertainty: MC dropout can run the trunk once, cache `features(x)`
[N,F,H,W], and sample only `head(f)` T times (notes: ~3x a plain pass instead of ~10x).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ModelConfig", "UNet", "save_checkpoint", "load_checkpoint"]


@dataclass(frozen=True)
class ModelConfig:
    in_channels: int = 3
    num_classes: int = 3
    base_channels: int = 16
    depth: int = 3
    dropout: float = 0.3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def _block(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 Conv-BN-ReLU layers (bias off: BN supplies it)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net: `depth` max-pool levels down, bilinear upsampling + skip concatenation up.

    Any input size works: `features` reflect-pads H and W up to a multiple of 2**depth and
    crops the result back, so outputs always have the input's H and W.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 3, base_channels: int = 16,
                 depth: int = 3, dropout: float = 0.3) -> None:
        super().__init__()
        self.config = ModelConfig(in_channels, num_classes, base_channels, depth, dropout)
        widths = [base_channels * 2**i for i in range(depth + 1)]
        self.stem = _block(in_channels, widths[0])
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1]) for i in range(depth))
        # up[i] fuses the upsampled level i+1 with the skip of level i
        self.up = nn.ModuleList(_block(widths[i + 1] + widths[i], widths[i]) for i in range(depth))
        # element-wise (not channel-wise Dropout2d) so MC samples vary per pixel, not per image
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv2d(widths[0], num_classes, kernel_size=1)
        self.num_features = widths[0]

    @classmethod
    def from_config(cls, config: ModelConfig) -> UNet:
        return cls(**config.to_dict())

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic trunk: [N,in,H,W] -> [N,F,H,W], F = base_channels."""
        h, w = x.shape[-2:]
        mult = 2**self.config.depth
        ph, pw = (math.ceil(h / mult) * mult - h), (math.ceil(w / mult) * mult - w)
        if ph or pw:
            # reflect keeps paper texture at the border (zeros would look like a dark frame);
            # reflect needs pad < size, so fall back to replicate on tiny inputs
            mode = "reflect" if ph < h and pw < w else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for block in reversed(self.up):
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        return y[..., :h, :w]

    def head(self, f: torch.Tensor) -> torch.Tensor:
        """Stochastic head: features [N,F,H,W] -> logits [N,C,H,W] (dropout active in train mode)."""
        return self.classifier(self.dropout(f))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N,in,H,W] -> logits [N,C,H,W]."""
        return self.head(self.features(x))


def _check_json_like(value: Any, where: str = "extra") -> None:
    """`extra` must survive torch.load(weights_only=True): plain containers and scalars only."""
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json_like(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: keys must be str, got {type(k).__name__}")
            _check_json_like(item, f"{where}.{k}")
        return
    raise TypeError(f"{where}: {type(value).__name__} is not JSON-like")


def save_checkpoint(path: str | os.PathLike[str], model: UNet, config: ModelConfig,
                    extra: dict[str, Any] | None = None) -> None:
    """Atomically write {"config", "state_dict", "extra"}: temp file in the same folder, then
    os.replace, so readers never see a half-written checkpoint."""
    extra = dict(extra or {})
    _check_json_like(extra)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"config": config.to_dict(), "state_dict": state, "extra": extra}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu", *,
                    build: Callable[[ModelConfig, dict[str, Any]], UNet] | None = None,
                    ) -> tuple[UNet, ModelConfig, dict[str, Any]]:
    """Load with weights_only=True (no pickle code execution); returns the model in eval mode. `build`
    makes the empty model from the config and the checkpoint's extra (default: the plain U-Net), for
    checkpoints of a U-Net subclass (app.learning.head.load_any_checkpoint)."""
    payload = torch.load(path, map_location=device, weights_only=True)
    config = ModelConfig.from_dict(payload["config"])
    extra = dict(payload.get("extra", {}))
    model = UNet.from_config(config) if build is None else build(config, extra)
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    return model, config, extra
