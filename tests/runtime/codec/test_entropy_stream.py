"""Format version 2: entropy-coded frames, the header naming the tables, version 1 untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgeae_runtime import Model
from edgeae_runtime.codec import (
    Frame,
    StreamHeader,
    compress_items,
    decode_item_stream,
    decompress_items,
)
from edgeae_runtime.codec.entropy import EntropyTables
from edgeae_runtime.codec.format import FRAME_ENTROPY, pack_header, parse_header
from edgeae_runtime.codec.payload import decode_payload, encode_payloads
from edgeae_runtime.errors import InputError, ManifestError, StreamError
from edgeae_runtime.manifest import CodecSpec, EntropySpec, Manifest, Provenance, TensorSpec

from .models import make_image_pair
from .test_format import HEADER


def tables(channels: int = 2) -> EntropyTables:
    values = np.arange(-6, 7)
    pmf = np.exp(-np.abs(values))[None].repeat(channels, 0)
    pmf = np.concatenate([pmf, np.full((channels, 1), 1e-3)], axis=1)
    return EntropyTables.from_pmf(pmf, offset=[-6] * channels)


def v2(header: StreamHeader = HEADER, t: EntropyTables | None = None) -> StreamHeader:
    t = t or tables(header.latent_shape[0])
    return dataclasses.replace(header, entropy_digest=t.digest, entropy=t)


def test_version_1_headers_are_unchanged():
    assert pack_header(HEADER)[4] == 1
    assert parse_header(pack_header(HEADER))[0] == HEADER


def test_version_2_header_names_the_tables():
    header = v2()
    data = pack_header(header)
    assert data[4] == 2
    parsed, used = parse_header(data)
    assert used == len(data)
    assert parsed.entropy_digest == header.entropy_digest and parsed.entropy is None
    assert parsed == header  # the tables are bound from the model, not serialized


def test_entropy_frames_round_trip():
    rng = np.random.default_rng(0)
    header = v2()
    z = np.rint(rng.laplace(0, 1.0, (8, *header.latent_shape))) * np.reshape(header.scale, (2, 1))
    payloads = encode_payloads(z.astype(np.float32), header)
    assert all(flags == FRAME_ENTROPY and n == 1 for _, flags, n in payloads)
    for i, (payload, flags, _) in enumerate(payloads):
        frame = Frame(index=i, samples=header.hop, flags=flags, payload=payload)
        assert np.allclose(decode_payload(frame, header), z[i : i + 1])
        assert len(payload) <= header.max_payload


def test_frames_refuse_a_mismatched_entropy_flag():
    frame = Frame(index=3, samples=32, flags=FRAME_ENTROPY, payload=b"\x00\x01\x00\x00")
    with pytest.raises(StreamError, match="frame 3"):
        decode_payload(frame, HEADER)
    unbound = dataclasses.replace(v2(), entropy=None)
    with pytest.raises(StreamError, match="not bound"):
        decode_payload(frame, unbound)


def test_manifest_validates_entropy_tables():
    spec = tables(2).to_spec()
    good = Manifest(
        role="decoder",
        arch="test",
        layout="NCW",
        inputs=(TensorSpec("latent", (None, 2, 3)),),
        outputs=(TensorSpec("reconstruction", (None, 1, 12)),),
        item_shape=(1, 12),
        latent_shape=(2, 3),
        provenance=Provenance(fingerprint="sha256:abc"),
        codec=CodecSpec(entropy=spec),
    )
    assert Manifest.from_json(good.to_json()).codec.entropy == spec
    broken = EntropySpec(precision=16, offset=(0, 0), cdf=((0, 5, 5, 65536), spec.cdf[1]))
    with pytest.raises(ManifestError, match=r"manifest\.codec\.entropy\.cdf"):
        good.replace(codec=CodecSpec(entropy=broken))
    with pytest.raises(ManifestError, match="one table per latent channel"):
        good.replace(codec=CodecSpec(entropy=tables(3).to_spec()))


def images(n: int = 6) -> np.ndarray:
    return np.random.default_rng(3).random((n, 1, 8, 8)).astype(np.float32)


def entropy_pair(tmp_path, step: float = 0.05, fitted: bool = True):
    """The tiny image model with an entropy model fitted to its codes (as training would)."""
    tmp_path.mkdir(exist_ok=True)
    enc, _ = make_image_pair(tmp_path)
    codes = np.rint(Model(enc).encode(images(64)) / step).astype(np.int64)
    half = int(np.abs(codes).max()) + 1
    counts = np.stack(
        [np.bincount(c.ravel() + half, minlength=2 * half + 1) for c in codes.transpose(1, 0, 2, 3)]
    ).astype(float)
    if not fitted:
        counts = np.ones_like(counts)
    pmf = np.concatenate([counts + 0.5, np.full((3, 1), 1e-3)], axis=1)
    spec = EntropyTables.from_pmf(pmf, offset=[-half] * 3).to_spec()
    enc, dec = make_image_pair(tmp_path, codec=CodecSpec(scale=(step,), entropy=spec))
    return Model(enc), Model(dec)


def test_image_streams_are_entropy_coded_end_to_end(tmp_path):
    enc, dec = entropy_pair(tmp_path)
    x = images()
    data = compress_items(enc, x)
    assert data[4] == 2  # format version 2
    y = decompress_items(dec, data)
    reference = dec.decode(np.rint(enc.encode(x) / 0.05) * 0.05)
    assert np.allclose(y, reference, atol=1e-5)
    assert len(data) < len(compress_items(enc, x, per_frame=True))


def test_a_decoder_with_other_tables_refuses_the_stream(tmp_path):
    enc, _ = entropy_pair(tmp_path / "a")
    _, other = entropy_pair(tmp_path / "b", fitted=False)
    data = compress_items(enc, np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(StreamError, match="entropy model"):
        decompress_items(other, data)


@pytest.mark.parametrize("frame_items", [1, 4, 64])
def test_items_share_frames_and_a_lost_frame_conceals_its_items(tmp_path, frame_items):
    enc, dec = entropy_pair(tmp_path)
    x = images(10)
    data = compress_items(enc, x, frame_items=frame_items)
    clean = decompress_items(dec, data)
    header, used = parse_header(data)
    assert header.frame_items == frame_items
    # damage the first frame's payload: its items are concealed, every other item survives
    broken = bytearray(data)
    broken[used + 20] ^= 0xFF
    result = decode_item_stream(dec, bytes(broken), conceal=True)
    lost = min(frame_items, 10)
    assert result.concealed == tuple(range(lost))
    assert np.array_equal(result.items[lost:], clean[lost:])


def test_frame_items_is_bounded(tmp_path):
    enc, _ = entropy_pair(tmp_path)
    with pytest.raises(InputError) as info:
        compress_items(enc, images(2), frame_items=0)
    assert info.value.param == "frame_items"


def context_pair(tmp_path, thresholds=(1, 3), neighbours=(1, 2)):
    """The tiny image model whose manifest also carries a context model over its symbols
    (every context class with the factorized row but the first, sharpened toward 0)."""
    enc, _ = entropy_pair(tmp_path)
    base = EntropyTables.from_spec(enc.manifest.codec.entropy)
    k = len(thresholds) + 1
    pmf = np.repeat(np.diff(base.cdf, axis=1).astype(float), k, axis=0)
    zero = -int(base.offset[0])
    pmf[::k, zero] *= 8.0  # class 0 (quiet neighbours): zeros more likely
    context = EntropyTables.from_pmf(
        pmf, base.offset, thresholds=thresholds, neighbours=neighbours
    ).to_spec()
    codec = dataclasses.replace(enc.manifest.codec, context=context)
    enc_path, dec_path = make_image_pair(tmp_path, codec=codec)
    return Model(enc_path), Model(dec_path)


def test_context_model_streams_are_version_4_and_round_trip(tmp_path):
    enc, dec = context_pair(tmp_path)
    x = images(10)
    data = compress_items(enc, x, frame_items=4)
    header, _ = parse_header(data)
    assert data[4] == 4 and header.entropy_model == "context"  # the default when present
    reference = dec.decode(np.rint(enc.encode(x) / 0.05) * 0.05)
    assert np.allclose(decompress_items(dec, data), reference, atol=1e-5)
    # the factorized tables are still there, written as version 2, decoded by the same model
    plain = compress_items(enc, x, frame_items=4, entropy_model="factorized")
    assert plain[4] == 2
    assert np.array_equal(decompress_items(dec, plain), decompress_items(dec, data))


def test_a_decoder_without_the_context_model_refuses_its_stream(tmp_path):
    enc, _ = context_pair(tmp_path / "a")
    _, plain_dec = entropy_pair(tmp_path / "b")  # same fingerprint and factorized tables
    data = compress_items(enc, images(3))
    with pytest.raises(StreamError, match="entropy model"):
        decompress_items(plain_dec, data)
    _, other_law = context_pair(tmp_path / "c", thresholds=(2, 3))
    with pytest.raises(StreamError, match="entropy model"):
        decompress_items(other_law, data)
    factorized = compress_items(enc, images(3), entropy_model="factorized")
    assert decompress_items(plain_dec, factorized).shape == (3, 1, 8, 8)


def test_asking_for_a_context_model_the_manifest_lacks_is_refused(tmp_path):
    enc, _ = entropy_pair(tmp_path)
    with pytest.raises(ManifestError, match=r"codec\.context"):
        compress_items(enc, images(2), entropy_model="context")
    with pytest.raises(InputError) as info:
        compress_items(enc, images(2), entropy_model="hyperprior")
    assert info.value.param == "entropy_model"


def test_version_4_header_names_its_entropy_model():
    t = tables(HEADER.latent_shape[0])
    header = dataclasses.replace(
        HEADER, entropy_digest=t.digest, entropy=t, entropy_model="context", frame_items=3
    )
    data = pack_header(header)
    assert data[4] == 4
    back, used = parse_header(data)
    assert used == len(data) and back == header
    with pytest.raises(StreamError, match="entropy model"):
        dataclasses.replace(HEADER, entropy_model="context")  # a model needs a digest


def test_manifest_context_model_comes_with_the_factorized_tables(tmp_path):
    enc, _ = context_pair(tmp_path)
    codec = enc.manifest.codec
    assert enc.manifest.schema_version == 7
    assert Manifest.from_json(enc.manifest.to_json()).codec == codec
    with pytest.raises(ManifestError, match=r"codec\.context"):
        enc.manifest.replace(codec=dataclasses.replace(codec, entropy=None))
    with pytest.raises(ManifestError, match=r"codec\.context\.neighbours"):
        far = dataclasses.replace(codec.context, neighbours=(3,))
        enc.manifest.replace(codec=dataclasses.replace(codec, context=far))


def test_the_cli_codes_with_the_context_model_by_default_or_the_one_asked(tmp_path):
    from click.testing import CliRunner

    from edgeae_runtime.cli import main

    enc, dec = context_pair(tmp_path)
    batch = tmp_path / "x.npy"
    np.save(batch, images(5))
    runner = CliRunner()
    for flag, version in (([], 4), (["--entropy-model", "factorized"], 2)):
        out = tmp_path / f"s{version}.eae"
        args = ["compress", "-m", str(enc.path), str(batch), "-o", str(out), *flag]
        r = runner.invoke(main, args)
        assert r.exit_code == 0, r.output
        assert out.read_bytes()[4] == version
        back = tmp_path / f"s{version}.npy"
        r = runner.invoke(main, ["decompress", "-m", str(dec.path), str(out), "-o", str(back)])
        assert r.exit_code == 0, r.output
        assert np.load(back).shape == (5, 1, 8, 8)


def test_a_factorized_manifest_carries_no_context_keys(tmp_path):
    """A runtime before the context model refuses unknown fields: a factorized model's
    manifest must not name them."""
    import json

    enc, _ = entropy_pair(tmp_path / "f")
    codec = json.loads(enc.manifest.to_json())["codec"]
    assert "context" not in codec and "thresholds" not in codec["entropy"]
    ctx, _ = context_pair(tmp_path / "c")
    back = json.loads(ctx.manifest.to_json())["codec"]
    assert back["context"]["thresholds"] == [1, 3] and "thresholds" not in back["entropy"]
    assert Manifest.from_json(ctx.manifest.to_json()) == ctx.manifest
