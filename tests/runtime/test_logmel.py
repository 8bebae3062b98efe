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
    with pytest.raises(ManifestError, match="features"):
        manifest(600)
    with pytest.raises(ManifestError, match="n_mels"):
        manifest(5 * 600, n_mels=600)
    with pytest.raises(ManifestError, match="fmin"):
        manifest(640, fmin=9000.0)
