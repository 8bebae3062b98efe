"""The runtime's log-mel front-end: librosa parity, streaming = offline, stacking, bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import InputError, ManifestError
from edgeae_runtime.logmel import (
    LogMelStream,
    clip_score,
    feature_items,
    logmel,
    mel_filterbank,
    stack_frames,
)
from edgeae_runtime.manifest import LogMelSpec, Manifest, Provenance, TensorSpec

SPEC = LogMelSpec(sample_rate=16000, n_fft=256, hop=128, n_mels=32, frames=3)


@pytest.mark.slow
def test_matches_librosa_on_whole_frames() -> None:
    librosa = pytest.importorskip("librosa")
    y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    spec = LogMelSpec(sample_rate=16000)  # the DCASE / ad01 front-end
    fb = librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128)
    np.testing.assert_allclose(mel_filterbank(16000, 1024, 128), fb, atol=1e-7)
    ref = librosa.feature.melspectrogram(
        y=y, sr=16000, n_fft=1024, hop_length=512, n_mels=128, power=2.0, center=False
    )
    ref = 10 * np.log10(ref + np.finfo(np.float64).eps).T
    np.testing.assert_allclose(logmel(y, spec)[: ref.shape[0]], ref, atol=1e-3)


def test_stacking_is_frame_major() -> None:
    mels = np.arange(12, dtype=np.float32).reshape(4, 3)  # 4 frames x 3 bands
    items = stack_frames(mels, 2)
    assert items.shape == (3, 6)
    np.testing.assert_array_equal(items[1], [3, 4, 5, 6, 7, 8])


@settings(max_examples=25, deadline=None)
@given(st.integers(200, 3000), st.lists(st.integers(1, 700), min_size=1, max_size=20))
def test_stream_equals_offline_however_chunked(n: int, sizes: list[int]) -> None:
    y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    offline = stack_frames(logmel(y, SPEC), SPEC.frames)
    stream, parts, i = LogMelStream(SPEC), [], 0
    for size in sizes * (n // sum(sizes) + 1):
        if i >= n:
            break
        parts.append(stream.push(y[i : i + size]))
        i += size
    parts.append(stream.flush())
    np.testing.assert_allclose(np.concatenate(parts), offline, rtol=1e-6, atol=1e-5)


def test_clip_scores_and_short_clips() -> None:
    assert clip_score([1.0, 2.0, 6.0]) == 3.0 and clip_score([1.0, 6.0], "max") == 6.0
    with pytest.raises(InputError, match="reduce"):
        clip_score([1.0], "median")
    with pytest.raises(InputError, match="too short"):
        feature_items(np.zeros(300, np.float32), SPEC)
    with pytest.raises(InputError, match="one channel"):
        logmel(np.zeros((2, 4000), np.float32), SPEC)


def test_manifest_checks_the_front_end_against_the_items() -> None:
    def manifest(item: int, **kw) -> Manifest:
        return Manifest(
            role="autoencoder", arch="dense", layout="NF",
            inputs=(TensorSpec("input", (None, item)),),
            outputs=(TensorSpec("reconstruction", (None, item)),),
            item_shape=(item,), latent_shape=(8,), provenance=Provenance(fingerprint="x"),
            features=LogMelSpec(sample_rate=16000, **kw),
        )  # fmt: skip

    m = manifest(640)
    assert Manifest.from_json(m.to_json()).features == m.features
    with pytest.raises(ManifestError, match=r"manifest\.item_shape: features of 5 frames"):
        manifest(600)
    with pytest.raises(ManifestError, match="n_mels"):
        manifest(5 * 600, n_mels=600)
    with pytest.raises(ManifestError, match="fmin"):
        manifest(640, fmin=9000.0)


# -- 2-D items (conv models): one shape law, the manifest holds to it ---------------------

LAYOUTS = ("NF", "NCW", "NCHW")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 40),  # log-mel frames in the clip
    st.integers(1, 9),  # mels
    st.integers(1, 12),  # frames per item
    st.integers(0, 2**31 - 1),
)
def test_2d_items_are_the_flat_items_reshaped(k: int, n_mels: int, frames: int, seed: int) -> None:
    mels = np.random.default_rng(seed).standard_normal((k, n_mels)).astype(np.float32)
    flat = stack_frames(mels, frames, "NF")
    law = LogMelSpec(sample_rate=16000, n_mels=n_mels, frames=frames)
    n = max(k - frames + 1, 0)
    for layout in LAYOUTS:
        items = stack_frames(mels, frames, layout)
        assert items.shape == (n, *law.item_shape(layout)) and items.dtype == np.float32
        assert items.flags.c_contiguous
    patches = flat.reshape(n, frames, n_mels).transpose(0, 2, 1)  # (items, n_mels, frames)
    np.testing.assert_array_equal(stack_frames(mels, frames, "NCW"), patches)
    np.testing.assert_array_equal(stack_frames(mels, frames, "NCHW"), patches[:, None])
    if n:  # item j, column t is log-mel frame j + t
        j = n // 2
        np.testing.assert_array_equal(stack_frames(mels, frames, "NCW")[j], mels[j : j + frames].T)


@settings(max_examples=15, deadline=None)
@given(st.integers(600, 3000), st.lists(st.integers(1, 700), min_size=1, max_size=8),
       st.sampled_from(["NCW", "NCHW"]))  # fmt: skip
def test_2d_stream_equals_offline_however_chunked(n: int, sizes: list[int], layout: str) -> None:
    y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    offline = feature_items(y, SPEC, layout=layout)
    stream, parts, i = LogMelStream(SPEC, layout=layout), [], 0
    while i < n:
        for size in sizes:
            parts.append(stream.push(y[i : i + size]))
            i += size
    parts.append(stream.flush())
    np.testing.assert_allclose(np.concatenate(parts), offline, rtol=1e-6, atol=1e-5)


def _feature_manifest(layout: str, item: tuple[int, ...], **kw) -> Manifest:
    return Manifest(
        role="autoencoder", arch="conv", layout=layout,  # type: ignore[arg-type]
        inputs=(TensorSpec("input", (None, *item)),),
        outputs=(TensorSpec("reconstruction", (None, *item)),),
        item_shape=item, latent_shape=(8,), provenance=Provenance(fingerprint="x"),
        features=LogMelSpec(sample_rate=16000, **kw),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("layout", "good", "bad"),
    [
        ("NF", (5 * 128,), [(128, 5), (1, 128, 5), (600,)]),
        ("NCW", (128, 5), [(5, 128), (640,), (1, 128, 5), (128, 6)]),
        ("NCHW", (1, 128, 5), [(1, 5, 128), (2, 128, 5), (128, 5), (1, 127, 5)]),
    ],
)
def test_manifest_takes_exactly_the_shape_of_features_and_layout(
    layout: str, good: tuple[int, ...], bad: list[tuple[int, ...]]
) -> None:
    import json

    m = _feature_manifest(layout, good)
    assert Manifest.from_json(m.to_json()) == m
    # 2-D log-mel items are new in version 5: a runtime reading 1..4 refuses them by version
    assert json.loads(m.to_json())["schema_version"] == (1 if layout == "NF" else 5)
    for shape in bad:  # named by the field; same rank: by the law it breaks
        law = "" if len(shape) != len(good) else r": features of 5 frames x 128 mels"
        with pytest.raises(ManifestError, match=r"manifest\.item_shape" + law):
            _feature_manifest(layout, shape)


def test_odd_sizes_and_version_claims() -> None:
    import json

    m = _feature_manifest("NCHW", (1, 37, 9), n_mels=37, frames=9)
    assert m.features.item_shape("NCHW") == (1, 37, 9)
    data = json.loads(m.to_json())
    data["schema_version"] = 4  # claims a version that cannot hold 2-D log-mel items
    with pytest.raises(ManifestError, match=r"says 4, but its fields need version 5"):
        Manifest.from_json(json.dumps(data))
    with pytest.raises(ManifestError, match="layout"):
        LogMelStream(SPEC, layout="NHWC")
