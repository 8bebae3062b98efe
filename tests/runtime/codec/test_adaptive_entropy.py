"""The adaptive entropy model (format version 5): exact round trips for any codes on both
paths, the adapted tables are the same on both sides (the law), fewer bytes than static
tables on codes unlike their prior, pinned bytes, corruption, checked fields, streams."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae_runtime import Model
from edgeae_runtime.codec import compress_items, decompress_items
from edgeae_runtime.codec.entropy import (
    EntropyTables,
    adaptive_cdf,
    decode_frames,
    encode_frames,
    neighbour_map,
    position_map,
)
from edgeae_runtime.codec.format import pack_header, parse_header
from edgeae_runtime.errors import InputError, ManifestError, StreamError
from edgeae_runtime.manifest import Manifest

from .models import make_image_pair
from .mutations import drawn_damage
from .test_context_entropy import blob_codes, context_tables
from .test_entropy_stream import HEADER, entropy_pair, images, tables


def adaptive(t: EntropyTables, adapt: int = 4, positions: bool = True) -> EntropyTables:
    return dataclasses.replace(t, adapt=adapt, positions=positions)


def test_position_map_marks_first_inner_and_last_along_each_spatial_axis():
    pos = position_map((2, 3, 4), 2)
    assert pos.size == 48 and np.array_equal(pos[:24], pos[24:])  # the same in every latent
    h, w = np.unravel_index(np.arange(12), (3, 4))
    digit = lambda i, n: np.where(i == 0, 0, np.where(i == n - 1, 2, 1))  # noqa: E731
    assert np.array_equal(pos[:12], digit(h, 3) * 3 + digit(w, 4))
    assert np.array_equal(pos[12:24], pos[:12])  # both channels
    assert not position_map((5,), 3).any()  # rank 1: one class


def test_adapted_tables_are_integer_tables_that_follow_the_counts():
    t = adaptive(context_tables(1, 3, thresholds=(), neighbours=()), 8, False)
    counts = np.diff(t.cdf, axis=1) * t.adapt
    cdf = adaptive_cdf(counts, t)
    assert cdf[0, 0] == 0 and cdf[0, -1] == 1 << t.precision
    assert np.all(np.diff(cdf, axis=1) >= 1)
    counts[0, 3] += 100 << t.precision  # symbol 3 seen a hundred times
    after = np.diff(adaptive_cdf(counts, t), axis=1)
    assert after[0, 3] > 0.9 * (1 << t.precision) and np.all(after >= 1)


@settings(max_examples=60, deadline=None)
@given(
    frames=st.integers(1, 4),
    items=st.integers(1, 4),
    rank=st.integers(1, 3),
    spread=st.floats(0.2, 20.0),
    precision=st.integers(10, 16),
    adapt=st.integers(1, 64),
    positions=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    axes=st.sampled_from([(), (0,), (1,), (0, 1), (1, 2), (0, 1, 2)]),
)
def test_round_trip_is_exact_and_paths_agree(
    frames, items, rank, spread, precision, adapt, positions, seed, axes
):
    """Any codes (some escaping) come back exactly; many frames at once (vector lanes) and
    one frame at a time (scalar) write and read the same bytes: the encoder's forward pass
    and the decoder's rebuilt tables adapt identically."""
    rng = np.random.default_rng(seed)
    shape = (2, 3, 4)[:rank]
    axes = tuple(a for a in axes if a < rank)
    th = (1, 2, 5) if axes else ()
    t = adaptive(
        context_tables(2, 6, thresholds=th, neighbours=axes, precision=precision), adapt, positions
    )
    codes = blob_codes(rng, frames * items, shape, spread).reshape(frames, -1)
    channel = np.tile(np.repeat(np.arange(2), codes.shape[1] // (2 * items)), items)
    nb = neighbour_map(shape, items, axes) if axes else None
    kw = {"neighbours": nb, "latent_shape": shape}
    payloads = encode_frames(codes, channel, t, **kw)
    one_by_one = [encode_frames(codes[i : i + 1], channel, t, **kw)[0] for i in range(frames)]
    assert payloads == one_by_one
    assert np.array_equal(decode_frames(payloads, channel, t, **kw), codes)
    alone = [decode_frames([b], channel, t, **kw)[0] for b in payloads]
    assert np.array_equal(np.stack(alone), codes)


def test_adaptation_pays_on_codes_unlike_the_prior():
    """Flat tables (every value as likely), a frame of quiet codes (mostly zeros): the
    adaptive model learns the zeros within the frame, the static tables pay for every one."""
    rng = np.random.default_rng(3)
    t = EntropyTables.from_pmf(np.ones((3, 14)), [-6], thresholds=(1, 3), neighbours=(1, 2))
    quiet = np.where(rng.random((32, 1, 8, 8)) < 0.97, 0, 1).reshape(1, -1)
    channel = np.zeros(quiet.size, dtype=np.int64)
    nb = neighbour_map((1, 8, 8), 32, (1, 2))
    static = encode_frames(quiet, channel, t, neighbours=nb)[0]
    adapted = encode_frames(quiet, channel, adaptive(t), neighbours=nb, latent_shape=(1, 8, 8))
    assert len(adapted[0]) < 0.3 * len(static)
    back = decode_frames(adapted, channel, adaptive(t), neighbours=nb, latent_shape=(1, 8, 8))
    assert np.array_equal(back, quiet)


def test_bytes_are_pinned():
    """Changing these bytes breaks every version 5 stream already written (every platform)."""
    t = adaptive(context_tables(2, 5, thresholds=(1, 2, 4), neighbours=(0, 2)), 3)
    rng = np.random.default_rng(99)
    codes = blob_codes(rng, 6, (2, 2, 5)).reshape(3, -1)
    channel = np.tile(np.repeat(np.arange(2), 10), 2)
    kw = {"neighbours": neighbour_map((2, 2, 5), 2, (0, 2)), "latent_shape": (2, 2, 5)}
    payloads = encode_frames(codes, channel, t, **kw)
    assert np.array_equal(decode_frames(payloads, channel, t, **kw), codes)
    assert [len(p) for p in payloads] == LENGTHS
    assert hashlib.sha256(b"".join(payloads)).hexdigest() == DIGEST


LENGTHS = [11, 16, 8]
DIGEST = "113306b7554d33b4a4dd524048a273cacb7919461f5a74c4397bb0fffe752ae6"


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_corrupted_payloads_raise_stream_error_or_decode(data):
    t = adaptive(context_tables(2, 6, thresholds=(1, 3), neighbours=(0, 1)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    codes = blob_codes(rng, 3, (2, 9)).reshape(1, -1)
    channel = np.tile(np.repeat(np.arange(2), 9), 3)
    kw = {"neighbours": neighbour_map((2, 9), 3, (0, 1)), "latent_shape": (2, 9)}
    buf = drawn_damage(data, encode_frames(codes, channel, t, **kw)[0])
    try:
        out = decode_frames([buf], channel, t, **kw)
    except StreamError as exc:
        assert "frame 0" in str(exc)
    else:
        assert out.shape == (1, 54)


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"adapt": -1}, "adapt"),
        ({"adapt": 1 << 13}, "adapt"),
        ({"adapt": True}, "adapt"),
        ({"adapt": 0, "positions": True}, "positions"),
        ({"positions": 2}, "positions"),
    ],
)
def test_malformed_adaptive_fields_name_the_field(changes, param):
    t = context_tables(1, 3)
    with pytest.raises(InputError) as info:
        dataclasses.replace(t, **{"adapt": 4, **changes})
    assert info.value.param == param


def test_an_adaptive_model_needs_whole_latents():
    t = adaptive(context_tables(2, 3, thresholds=(), neighbours=()))
    codes = np.zeros((1, 12), dtype=np.int64)
    channel = np.repeat([0, 1], 6)
    with pytest.raises(InputError) as info:
        encode_frames(codes, channel, t)
    assert info.value.param == "latent_shape"
    with pytest.raises(InputError) as info:
        encode_frames(codes, channel, t, latent_shape=(2, 5))
    assert info.value.param == "latent_shape"


def test_the_digest_names_the_adaptation():
    t = context_tables(2, 3)
    digests = {t.digest, adaptive(t, 4).digest, adaptive(t, 5).digest, adaptive(t, 4, False).digest}
    assert len(digests) == 4
    assert adaptive(t).model == "adaptive" and t.model == "context"


# -- streams ----------------------------------------------------------------------------------
def adaptive_pair(tmp_path, adapt: int = 4):
    """The tiny image model whose manifest also carries an adaptive model (its factorized
    tables as the prior, left and up neighbours)."""
    enc, _ = entropy_pair(tmp_path)
    base = EntropyTables.from_spec(enc.manifest.codec.entropy)
    pmf = np.repeat(np.diff(base.cdf, axis=1).astype(float), 3, axis=0)
    spec = EntropyTables.from_pmf(
        pmf, base.offset, thresholds=(1, 3), neighbours=(1, 2), adapt=adapt, positions=True
    ).to_spec()
    codec = dataclasses.replace(enc.manifest.codec, adaptive=spec)
    enc_path, dec_path = make_image_pair(tmp_path, codec=codec)
    return Model(enc_path), Model(dec_path)


def test_adaptive_streams_are_version_5_and_round_trip(tmp_path):
    enc, dec = adaptive_pair(tmp_path)
    x = images(10)
    data = compress_items(enc, x, frame_items=4)
    header, _ = parse_header(data)
    assert data[4] == 5 and header.entropy_model == "adaptive"  # the default when present
    reference = dec.decode(np.rint(enc.encode(x) / 0.05) * 0.05)
    assert np.allclose(decompress_items(dec, data), reference, atol=1e-5)
    plain = compress_items(enc, x, frame_items=4, entropy_model="factorized")
    assert plain[4] == 2
    assert np.array_equal(decompress_items(dec, plain), decompress_items(dec, data))


def test_a_decoder_without_that_adaptive_model_refuses_its_stream(tmp_path):
    enc, _ = adaptive_pair(tmp_path / "a")
    _, plain_dec = entropy_pair(tmp_path / "b")
    _, other = adaptive_pair(tmp_path / "c", adapt=5)
    data = compress_items(enc, images(3))
    for dec in (plain_dec, other):
        with pytest.raises(StreamError, match="adaptive entropy model"):
            decompress_items(dec, data)


def test_a_lost_frame_of_an_adaptive_stream_is_concealed(tmp_path):
    enc, dec = adaptive_pair(tmp_path)
    data = bytearray(compress_items(enc, images(8), frame_items=4))
    data[-30] ^= 0xFF  # inside the last frame
    from edgeae_runtime.codec import decode_item_stream

    out = decode_item_stream(dec, bytes(data), conceal=True)
    assert out.items.shape == (8, 1, 8, 8) and out.concealed == (4, 5, 6, 7)
    with pytest.raises(StreamError):
        decompress_items(dec, bytes(data))


def test_version_5_header_names_its_entropy_model():
    t = adaptive(tables(HEADER.latent_shape[0]))
    header = dataclasses.replace(
        HEADER, entropy_digest=t.digest, entropy=t, entropy_model="adaptive", frame_items=3
    )
    data = pack_header(header)
    assert data[4] == 5
    back, used = parse_header(data)
    assert used == len(data) and back == header
    forged = bytearray(data)
    forged[4] = 4  # a version 4 header naming the adaptive model
    import struct
    import zlib

    end = len(forged) - 4
    forged[end:] = struct.pack("<I", zlib.crc32(bytes(forged[:end])))
    with pytest.raises(StreamError, match="version"):
        parse_header(bytes(forged))


def test_manifest_adaptive_model_schema_8_and_checks(tmp_path):
    enc, _ = adaptive_pair(tmp_path)
    codec = enc.manifest.codec
    assert enc.manifest.schema_version == 8
    assert Manifest.from_json(enc.manifest.to_json()).codec == codec
    with pytest.raises(ManifestError, match=r"codec\.adaptive"):
        enc.manifest.replace(codec=dataclasses.replace(codec, entropy=None))
    with pytest.raises(ManifestError, match=r"codec\.adaptive"):
        still = dataclasses.replace(codec.adaptive, adapt=0, positions=False)
        enc.manifest.replace(codec=dataclasses.replace(codec, adaptive=still))
    with pytest.raises(ManifestError, match=r"codec\.context\.adapt"):
        enc.manifest.replace(codec=dataclasses.replace(codec, context=codec.adaptive))


def test_a_manifest_without_the_adaptive_model_carries_none_of_its_keys(tmp_path):
    import json

    enc, _ = entropy_pair(tmp_path / "f")
    codec = json.loads(enc.manifest.to_json())["codec"]
    assert "adaptive" not in codec and "adapt" not in codec["entropy"]
    assert "positions" not in codec["entropy"] and enc.manifest.schema_version < 8
    ada, _ = adaptive_pair(tmp_path / "a")
    back = json.loads(ada.manifest.to_json())["codec"]
    assert back["adaptive"]["adapt"] == 4 and back["adaptive"]["positions"] is True


def test_the_cli_codes_with_the_adaptive_model_by_default(tmp_path):
    from click.testing import CliRunner

    from edgeae_runtime.cli import main

    enc, dec = adaptive_pair(tmp_path)
    batch = tmp_path / "x.npy"
    np.save(batch, images(5))
    runner = CliRunner()
    for flag, version in (([], 5), (["--entropy-model", "factorized"], 2)):
        out = tmp_path / f"s{version}.eae"
        args = ["compress", "-m", str(enc.path), str(batch), "-o", str(out), *flag]
        r = runner.invoke(main, args)
        assert r.exit_code == 0, r.output
        assert out.read_bytes()[4] == version
        back = tmp_path / f"s{version}.npy"
        r = runner.invoke(main, ["decompress", "-m", str(dec.path), str(out), "-o", str(back)])
        assert r.exit_code == 0, r.output
        assert np.load(back).shape == (5, 1, 8, 8)
