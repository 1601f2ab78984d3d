"""A trained segmenter as one TorchScript file for users' own pipelines: the image in (uint8 [H,W,3]),
the product's suggested mask out (class ids [H,W]) with its calibrated probabilities [C,H,W].

It is the product's suggestion exactly: the same normalisation, the trunk once, the head sampled with
the very dropout masks the product's scoring draws (seeded by the model version), softmax at the fitted
temperature, the sample mean, then the argmax after the per-class decision biases. The class names ride
along as an attribute (`classes`)."""

import io
from collections.abc import Sequence
from typing import List, Tuple  # noqa: UP035 - TorchScript reads these, not list[...] (no __future__ here)

import torch
import torch.nn.functional as F
from torch import nn

from app.learning.inference import _MEAN, _STD
from app.learning.model import UNet


class _Trunk(nn.Module):
    """UNet.features, written so TorchScript can compile it (same modules, same arithmetic)."""

    def __init__(self, model: "UNet") -> None:
        super().__init__()
        self.stem = model.stem
        self.down = model.down
        self.up_reversed = nn.ModuleList(list(model.up)[::-1])
        self.mult = 2 ** model.config.depth
        # a head-mode version (app.learning.head.HeadedUNet): its adapter is part of the features the head reads
        self.adapter = getattr(model, "adapter", None) or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        ph = (h + self.mult - 1) // self.mult * self.mult - h
        pw = (w + self.mult - 1) // self.mult * self.mult - w
        if ph > 0 or pw > 0:
            if ph < h and pw < w:
                x = F.pad(x, [0, pw, 0, ph], mode="reflect")
            else:
                x = F.pad(x, [0, pw, 0, ph], mode="replicate")
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))
        y = skips.pop()
        for block in self.up_reversed:
            skip = skips.pop()
            y = F.interpolate(y, size=[skip.shape[-2], skip.shape[-1]], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        return self.adapter(y[:, :, :h, :w])


class SuggestingSegmenter(nn.Module):
    classes: List[str]  # noqa: UP006
    head_weight: torch.Tensor
    head_bias: torch.Tensor
    decision_bias: torch.Tensor

    def __init__(self, model: "UNet", classes: Sequence[str], temperature: float,
                 decision_bias: Sequence[float], dropout_masks: torch.Tensor) -> None:
        super().__init__()
        model = model.eval()
        self.trunk = _Trunk(model)
        self.classes = list(classes)
        weight = model.classifier.weight[:, :, 0, 0].detach().float()
        bias = model.classifier.bias
        b = torch.zeros(weight.shape[0]) if bias is None else bias.detach().float()
        t, c = dropout_masks.shape[0], weight.shape[0]
        # The T thinned heads stacked as rows [T*C, F], temperature folded in (mc_dropout.head_sample_maps).
        self.register_buffer("head_weight", ((weight.unsqueeze(0) * dropout_masks.unsqueeze(1)) / temperature)
                             .reshape(t * c, weight.shape[1]).contiguous())
        self.register_buffer("head_bias", (b / temperature).repeat(t).unsqueeze(1).contiguous())
        self.register_buffer("decision_bias", torch.tensor(list(decision_bias) or [0.0] * c, dtype=torch.float32))
        self.samples = t
        self.num_classes = c
        self.mean, self.std = _MEAN, _STD  # inference.to_tensor's normalisation

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:  # noqa: UP006
        """uint8 [H,W,3] -> (class ids int64 [H,W], calibrated probabilities float32 [C,H,W])."""
        with torch.no_grad():
            h, w = image.shape[0], image.shape[1]
            x = ((image.float().permute(2, 0, 1) / 255.0 - self.mean) / self.std).unsqueeze(0)
            f = self.trunk(x)[0].float()
            flat = f.reshape(f.shape[0], h * w)
            z = torch.addmm(self.head_bias, self.head_weight, flat).view(self.samples, self.num_classes, h * w)
            z = z - z.amax(dim=1, keepdim=True)
            p = z.exp()
            p = p / p.sum(dim=1, keepdim=True)
            probs = p.mean(dim=0)
            scores = torch.log(probs.clamp_min(1e-12)) + self.decision_bias.unsqueeze(1)
            return scores.argmax(dim=0).view(h, w), probs.view(self.num_classes, h, w)


def export_torchscript(model: UNet, *, classes: Sequence[str], temperature: float, decision_bias: Sequence[float],
                       dropout_masks: torch.Tensor) -> bytes:
    """The scripted SuggestingSegmenter, serialized (torch.jit.load reads it back)."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    module = torch.jit.script(SuggestingSegmenter(model, classes, temperature, decision_bias, dropout_masks).eval())
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    return buffer.getvalue()
