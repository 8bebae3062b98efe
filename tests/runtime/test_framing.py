"""One framing (hypothesis): every user cuts the same frames, whatever the chunking.

The denoiser, the stream scorer, the codec's encoder (``tail="hop"``), the
trainer's windowing and the offline :func:`frame_signal` are compared frame by
frame on random signals, geometries and chunkings; streamed outputs equal the
whole-signal results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeae.data import frame_signal as train_frames
from edgeae_runtime import InputError, Model, SignalSpec, StreamDenoiser, StreamScorer
from edgeae_runtime.codec import StreamDecoder, StreamEncoder, decompress
from edgeae_runtime.framing import (
    OverlapAdd,
    SignalFramer,
    as_signal,
    frame_signal,
    n_frames,
    overlap_add,
    synthesis_window,
)
from edgeae_runtime.stream import denoise_offline
from tests.runtime.onnx_models import make_triplet

LAWS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WINDOW = 16  # the identity models' window; the hop varies per example


@st.composite
def geometry(draw: Any, max_window: int = 24) -> tuple[int, int]:
    window = draw(st.integers(1, max_window))
    return window, draw(st.integers(1, window))


@st.composite
def chunked_signal(draw: Any, channels: int) -> tuple[np.ndarray, list[int]]:
    n = draw(st.integers(0, 120))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).uniform(-1, 1, (channels, n)).astype(np.float32)
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=8)))
    return x, [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]


def _chunks(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, i = [], 0
    for s in sizes:
        out.append(x[:, i : i + s])
        i += s
    return out


@given(geometry(), st.sampled_from(["cover", "hop"]), st.data())
@LAWS
def test_framer_equals_offline_frames_for_any_chunking(geo, tail, data) -> None:
    window, hop = geo
    channels = data.draw(st.integers(1, 3))
    x, sizes = data.draw(chunked_signal(channels))
    framer = SignalFramer(channels, window, hop, tail=tail)
    batches = [framer.push(c) for c in _chunks(x, sizes)] + [framer.flush()]
    got = np.concatenate([b.frames for b in batches])
    starts = np.concatenate([b.starts for b in batches])
    want = frame_signal(x, window, hop, tail)
    assert len(got) == n_frames(x.shape[1], window, hop, tail) == len(want)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(starts, np.arange(len(want)) * hop)
    # every sample is covered; a frame is emitted by push only once complete
    if x.shape[1]:
        assert starts[-1] + window >= x.shape[1]


@given(geometry(), st.data())
@LAWS
def test_overlap_add_stream_equals_the_definition(geo, data) -> None:
    window, hop = geo
    k = data.draw(st.integers(0, 12))
    y = np.random.default_rng(k).standard_normal((k, 2, window)).astype(np.float32)
    kind = data.draw(st.sampled_from(["hann", "rect"]))
    w = synthesis_window(kind, window)
    divisor = data.draw(st.sampled_from([None, w * w]))
    ola = OverlapAdd(2, window, hop, w, divisor)
    cuts = sorted(data.draw(st.lists(st.integers(0, k), max_size=4)))
    last = cuts[-1] if cuts else 0  # frames added before the flush: their hops are out
    top = (k - 1) * hop + window if k else 0
    length = data.draw(st.integers(min(top, max(last * hop, (k - 1) * hop + 1)), top))
    parts = [ola.add(y[a:b]) for a, b in zip([0, *cuts], cuts, strict=False)]
    parts.append(ola.flush(y[last:], length))
    got = np.concatenate(parts, axis=1)
    assert got.shape == (2, length)
    np.testing.assert_array_equal(got, overlap_add(y, hop, w, length, divisor))


@pytest.fixture(scope="module")
def identity_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("framing")
    return make_triplet(d, kind="identity", window=WINDOW, hop=8, fingerprint="sha256:frm")


class _Recorder:
    """Wraps a Model's session run to record the model-space frames each user feeds it."""

    def __init__(self, model: Model) -> None:
        self.frames: list[np.ndarray] = []
        inner = model._run_model_space

        def run(output: str, x: np.ndarray, max_batch: int | None = None, **kw: Any) -> np.ndarray:
            self.frames.append(np.array(x))
            return inner(output, x, max_batch, **kw)

        model._run_model_space = run  # type: ignore[method-assign]

    def all(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros((0, 1, WINDOW))


@given(st.integers(1, WINDOW), chunked_signal(1))
@LAWS
def test_every_user_cuts_the_same_frames(identity_files, hop: int, sig) -> None:
    x, sizes = sig
    auto, enc, dec = identity_files
    spec = SignalSpec(16000, 1, WINDOW, hop)
    reference = frame_signal(x, WINDOW, hop)

    den_model = Model(auto, signal=spec)
    rec = _Recorder(den_model)
    den = StreamDenoiser(den_model)
    streamed = np.concatenate([den.push(c) for c in _chunks(x, sizes)] + [den.flush()], axis=1)
    np.testing.assert_array_equal(rec.all().reshape(reference.shape), reference)
    if x.shape[1]:
        np.testing.assert_array_equal(streamed, denoise_offline(den_model, x))
        np.testing.assert_allclose(streamed, x, atol=1e-5)  # identity model: the signal back

    sc_model = Model(auto, signal=spec)
    rec = _Recorder(sc_model)
    scorer = StreamScorer(sc_model, threshold=1.0)
    ups = [scorer.push(c) for c in _chunks(x, sizes)] + [scorer.flush()]
    # the scorer scores the same frames except one running past the end (padding is
    # not data), unless it is the only one (a signal shorter than the window)
    starts = np.arange(len(reference)) * hop
    scored = starts + WINDOW <= x.shape[1]
    if not scored.any():
        scored[:] = True
    np.testing.assert_array_equal(rec.all().reshape((-1, *reference.shape[1:])),
                                  reference[scored])  # fmt: skip
    np.testing.assert_array_equal(np.concatenate([u.starts for u in ups]), starts[scored])

    if x.shape[1] >= WINDOW:
        np.testing.assert_array_equal(train_frames(x, WINDOW, hop), reference)

    # the codec: the same framer at its own hop; one frame per hop start (tail="hop")
    enc_model = Model(enc, signal=spec)
    rec = _Recorder(enc_model)
    encoder = StreamEncoder(enc_model, overlap=True, per_frame=True)
    data = b"".join(encoder.push(c) for c in _chunks(x, sizes)) + encoder.flush()
    codec = frame_signal(x, WINDOW, hop, "hop")
    np.testing.assert_array_equal(rec.all().reshape(codec.shape), codec)
    np.testing.assert_array_equal(codec[: len(reference)], reference)
    decoder_model = Model(dec, signal=spec)
    step = max(1, len(data) // 5)
    sd = StreamDecoder(decoder_model)
    parts = [sd.push(data[i : i + step]) for i in range(0, len(data), step)] + [sd.flush()]
    decoded = np.concatenate(parts, axis=1)
    assert decoded.shape == x.shape
    np.testing.assert_array_equal(decoded, decompress(decoder_model, data))


def test_one_chunk_validator_names_the_sample_and_channel() -> None:
    bad = np.zeros((2, 5), np.float32)
    bad[1, 3] = np.inf
    with pytest.raises(InputError, match=r"mic: sample 13 \(channel 1\) is Inf"):
        as_signal(bad, 2, "mic", first_sample=10)
    with pytest.raises(InputError, match=r"mic: the model takes 2 channel\(s\)"):
        as_signal(np.zeros(4), 2, "mic")
    with pytest.raises(InputError, match="cannot be converted to float32"):
        as_signal(np.array(["a"]), 1, "mic")
    with pytest.raises(InputError, match=r"hop must be between 1 and the window"):
        SignalFramer(1, 4, 5)
    assert as_signal(np.zeros(3, np.int16), None, "x").shape == (1, 3)


def test_short_signal_is_one_padded_frame_everywhere() -> None:
    assert n_frames(3, 16, 8) == n_frames(3, 16, 8, "hop") == 1
    assert n_frames(0, 16, 8) == 0
    assert frame_signal(np.ones((1, 3), np.float32), 16, 8).shape == (1, 1, 16)
