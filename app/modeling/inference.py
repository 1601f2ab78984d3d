"""Loading a version's weights (a small per-process cache) and computing an image's calibrated maps."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from app import storage
from app.config import get_settings
from app.modeling.models import ModelVersion

_model_cache: OrderedDict[str, object] = OrderedDict()
_model_cache_lock = threading.Lock()
CACHED_MODELS = 2  # a worker scores with the newest version; the one before may still be finishing


def load_model(weights_path: str):  # type: ignore[no-untyped-def]
    from app.learning.head import load_any_checkpoint as load_checkpoint  # plain or head-mode versions

    path = storage.absolute(weights_path)
    key = str(path)  # absolute: two data directories may hold the same relative path
    with _model_cache_lock:
        if key in _model_cache:
            _model_cache.move_to_end(key)
            return _model_cache[key]
        model, _config, _extra = load_checkpoint(path, device=get_settings().device)
        _model_cache[key] = model
        while len(_model_cache) > CACHED_MODELS:
            _model_cache.popitem(last=False)
        return model


def uncertainty_maps(mv: ModelVersion, image: np.ndarray) -> Any:
    """Calibrated MC-dropout maps of one image (trunk once, dropout head sampled; seeded by the version)."""
    from app.learning.mc_dropout import predict_with_uncertainty

    settings = get_settings()
    assert mv.weights_path
    return predict_with_uncertainty(load_model(mv.weights_path), [image], samples=settings.mc_samples,
                                    temperature=mv.temperature, device=settings.device, seed=mv.id)[0]


def maps_from_features(mv: ModelVersion, features: Any) -> Any:
    """uncertainty_maps of a head-mode version from the image's cached trunk features [F,H,W] (the trunk
    does not run; app.learning.cached_head)."""
    from app.learning.cached_head import predict_from_features

    assert mv.weights_path
    return predict_from_features(load_model(mv.weights_path), [features], samples=get_settings().mc_samples,
                                 temperature=mv.temperature, seed=mv.id)[0]
