"""A model version as a TorchScript file that reproduces the product's suggested masks."""

from __future__ import annotations

from app.config import get_settings
from app.modeling import inference
from app.modeling.models import ModelStatus, ModelVersion
from app.projects.models import Project


def torchscript(mv: ModelVersion, project: Project) -> bytes:
    """The version's segmenter with its classes, temperature, decision biases and the dropout masks its
    scoring samples (seeded by the version, as inference.uncertainty_maps is)."""
    import torch

    from app.learning.export import export_torchscript
    from app.learning.mc_dropout import dropout_masks

    assert mv.status == ModelStatus.ready and mv.weights_path
    model = inference.load_model(mv.weights_path)
    masks = dropout_masks(get_settings().mc_samples, model.num_features, float(model.dropout.p),
                          torch.Generator().manual_seed(mv.id))
    return export_torchscript(model, classes=[c.name for c in project.classes], temperature=mv.temperature,
                              decision_bias=mv.metrics.get("decision_bias") or [], dropout_masks=masks)


def file_name(project: Project, mv: ModelVersion) -> str:
    return f"labelwise-project{project.id}-v{mv.version}.torchscript.pt"
