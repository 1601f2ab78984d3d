import io

import numpy as np
import pytest
import torch

from app.learning.cached_head import features_from_bytes, features_to_bytes, predict_from_features, reduce_features
from app.learning.head import HeadConfig, HeadedUNet, cache_features, load_any_checkpoint, save_headed
from app.learning.inference import images_to_batch
from app.learning.mc_dropout import predict_with_uncertainty
from app.learning.pretrain import random_trunk
from app.learning.welllog import generate_dataset

MAPS = ("probs", "entropy", "margin", "least_confidence", "bald", "embedding", "feature_grid")


@pytest.fixture(scope="module")
def headed() -> tuple[HeadedUNet, list[np.ndarray]]:
    torch.manual_seed(3)
    model = HeadedUNet(random_trunk(base_channels=8, seed=1), HeadConfig(hidden=8, kernel=3, layers=2), 3).eval()
    with torch.no_grad():  # sharper than at init, so dropout moves the probabilities and BALD is not ~0
        model.classifier.weight.mul_(30.0)
    images = [im for im, _ in generate_dataset(2, seed=4, size=32)]
    images.append(images[0][:24])  # another size: 24 x 32
    return model, images


@pytest.mark.parametrize("dtype, atol", [(torch.float32, 1e-5), (torch.float16, 2e-2)])
def test_cached_maps_are_the_live_models(headed: tuple[HeadedUNet, list[np.ndarray]], dtype: torch.dtype,
                                         atol: float) -> None:
    model, images = headed
    live = predict_with_uncertainty(model, images, samples=4, temperature=1.3, seed=7)
    cached = predict_from_features(model, cache_features(model, images, dtype=dtype), samples=4, temperature=1.3,
                                   seed=7)
    for a, b in zip(live, cached, strict=True):
        for name in MAPS:
            x, y = getattr(a, name), getattr(b, name)
            assert x.shape == y.shape, name
            assert np.allclose(x, y, atol=atol), (name, float(np.abs(x - y).max()))
    # a different seed draws other dropout masks: the BALD maps are not the same (the check can fail)
    other = predict_from_features(model, cache_features(model, images), samples=4, temperature=1.3, seed=8)
    assert not np.allclose(other[0].bald, live[0].bald, atol=1e-3)


def test_cached_scoring_never_runs_the_trunk(headed: tuple[HeadedUNet, list[np.ndarray]]) -> None:
    model, images = headed
    feats = cache_features(model, images)

    def refuse(module: torch.nn.Module, _inputs: object) -> None:
        raise AssertionError(f"trunk module {type(module).__name__} ran")

    hooks = [mod.register_forward_pre_hook(refuse) for name, mod in model.named_children()
             if name not in ("adapter", "dropout", "classifier")]
    try:
        with pytest.raises(AssertionError, match="trunk module"):  # the hooks bite
            model(images_to_batch(images[:1]))
        maps = predict_from_features(model, feats, samples=3)
    finally:
        for h in hooks:
            h.remove()
    assert [m.probs.shape for m in maps] == [(3, 32, 32), (3, 32, 32), (3, 24, 32)]


def test_reduced_features_give_full_size_maps_and_bytes_round_trip(headed: tuple[HeadedUNet, list[np.ndarray]],
                                                                   ) -> None:
    model, images = headed
    full = cache_features(model, images)
    small = [reduce_features(f, 2) for f in full]
    assert small[2].shape == (8, 12, 16) and small[2].dtype == torch.float16
    back = [features_from_bytes(features_to_bytes(f)) for f in small]
    assert all(torch.equal(a, b) for a, b in zip(small, back, strict=True))
    maps = predict_from_features(model, back, sizes=[im.shape[:2] for im in images])
    assert maps[2].probs.shape == (3, 24, 32)
    with pytest.raises(ValueError, match="not a cached feature map"):
        features_from_bytes(features_to_bytes(torch.zeros(2, 2)))


def test_headed_checkpoint_round_trip(headed: tuple[HeadedUNet, list[np.ndarray]], tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, images = headed
    save_headed(tmp_path / "v1.pt", model, {"version": 1})
    loaded, config, extra = load_any_checkpoint(tmp_path / "v1.pt")
    assert isinstance(loaded, HeadedUNet) and extra["version"] == 1 and extra["head"]["layers"] == 2
    x = images_to_batch(images[:2])
    with torch.inference_mode():
        assert torch.equal(model(x), loaded(x))
    plain, _, _ = load_any_checkpoint(_save_plain(tmp_path))
    assert not isinstance(plain, HeadedUNet)


def _save_plain(tmp_path) -> str:  # type: ignore[no-untyped-def]
    from app.learning.model import save_checkpoint

    trunk = random_trunk(base_channels=8)
    save_checkpoint(tmp_path / "plain.pt", trunk, trunk.config)
    return str(tmp_path / "plain.pt")


def test_a_headed_version_exports_with_its_adapter(headed: tuple[HeadedUNet, list[np.ndarray]]) -> None:
    from app.learning.export import export_torchscript
    from app.learning.mc_dropout import dropout_masks

    model, images = headed
    masks = dropout_masks(4, model.num_features, float(model.dropout.p), torch.Generator().manual_seed(7))
    blob = export_torchscript(model, classes=["bg", "a", "b"], temperature=1.3, decision_bias=[], dropout_masks=masks)
    scripted = torch.jit.load(io.BytesIO(blob))
    _ids, probs = scripted(torch.from_numpy(images[0]))
    want = predict_with_uncertainty(model, images[:1], samples=4, temperature=1.3, seed=7)[0].probs
    assert np.allclose(probs.numpy(), want, atol=1e-5)
