"""Seeded mutation fuzzing of every parser, under a memory limit; only package errors may escape.

Each parser gets valid seed inputs, mutated by a seeded numpy RNG through the one
mutation engine (:mod:`tests.runtime.codec.mutations`: bit flips, overwrites,
truncation, insertion, deletion, swapped and duplicated ranges, extreme 32-bit
fields, ASCII digits, random bytes) or, for manifest fields, field by field. The
stream parsers: ``stream`` (fixed-width signal streams, version 1), ``stream_rans``
(rANS-coded signal streams: one window per frame, version 2, grouped windows,
version 3, and the context entropy model, version 4), ``items`` (item batches:
rANS-coded, versions 2 and 4, and fixed-width) and ``tiles`` (whole images in tiles,
version 6: every entropy model, and fixed-width). A case
passes when the parser returns a result or raises an
:class:`~edgeae_runtime.errors.EdgeAEError`; anything else (``MemoryError``,
``ValueError``, a warning, which is an error here) is a *foreign* exception.

Run as a program in a fresh process so the memory limit (``RLIMIT_AS``) holds
for the parsing only::

    python -m tests.adversarial.fuzz --parser all --cases 2000 --seed 0 --limit-mb 1024

It prints one JSON line per parser: cases, ok, package errors, foreign
exceptions (the first few with their case number), the slowest case's seconds
and the process's peak RSS. ``make fuzz`` runs it with many more cases.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import struct
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.runtime.codec.mutations import mutate, mutate_stream  # the one mutation engine

PARSERS = (
    "npy",
    "npz",
    "wav",
    "raw",
    "png",
    "csv",
    "manifest_text",
    "manifest_fields",
    "stream",
    "stream_rans",
    "items",
    "tiles",
)


# -- seeds ------------------------------------------------------------------------------
def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _seeds_npy(rng: np.random.Generator) -> list[bytes]:
    return [
        _npy_bytes(rng.standard_normal((4, 1, 16)).astype(np.float32)),
        _npy_bytes(np.arange(12, dtype=np.int16).reshape(3, 4)),
        _npy_bytes(np.asfortranarray(np.ones((3, 5), np.float64))),
        _npy_bytes(np.zeros(0, np.float32)),
    ]


def _seeds_npz(rng: np.random.Generator) -> list[bytes]:
    out = []
    for compress in (False, True):
        buf = io.BytesIO()
        arrays = {"x": rng.standard_normal((4, 8)).astype(np.float32), "labels": np.arange(4)}
        (np.savez_compressed if compress else np.savez)(buf, **arrays)
        out.append(buf.getvalue())
    return out


def _seeds_wav(rng: np.random.Generator) -> list[bytes]:
    from edgeae_runtime.pcm import WAV_SUBTYPES, encode_samples, wav_header_bytes

    out = []
    for subtype, channels in (("PCM_16", 1), ("FLOAT", 2), ("PCM_24", 3)):
        x = (rng.standard_normal((channels, 64)) * 0.2).astype(np.float32)
        fmt = WAV_SUBTYPES[subtype]
        data = encode_samples(x, fmt)
        out.append(wav_header_bytes(16000, channels, fmt, len(data)) + data)
    # a LIST chunk before the data, as many tools write
    head = out[0]
    out.append(head[:36] + b"LIST" + struct.pack("<I", 10) + b"INFOabcdef" + head[36:])
    return out


def _seeds_png(rng: np.random.Generator) -> list[bytes]:
    from edgeae_runtime.png import write_png

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, image in enumerate(
            (
                rng.integers(0, 256, (5, 7), dtype=np.uint8),
                rng.integers(0, 256, (4, 4, 3), dtype=np.uint8),
                rng.integers(0, 65535, (3, 6, 4), dtype=np.uint16),
            )
        ):
            p = Path(tmp) / f"{i}.png"
            write_png(p, image)
            out.append(p.read_bytes())
    return out


def _seeds_csv(rng: np.random.Generator) -> list[bytes]:
    rows = rng.standard_normal((5, 4))
    body = "\n".join(",".join(f"{v:.4f}" for v in r) for r in rows)
    return [("a,b,c,d\n" + body + "\n").encode(), (body.replace(",", ";") + "\n").encode()]


def good_manifest(**overrides: Any) -> Any:
    """A valid signal-model manifest (conv1d, mono, window 32, with codec and anomaly)."""
    from edgeae_runtime.manifest import (
        AnomalySpec,
        CodecSpec,
        Manifest,
        Preprocessing,
        Provenance,
        SignalSpec,
        TensorSpec,
    )

    fields: dict[str, Any] = {
        "role": "autoencoder",
        "arch": "conv1d",
        "layout": "NCW",
        "inputs": (TensorSpec("input", (None, 1, 32)),),
        "outputs": (
            TensorSpec("reconstruction", (None, 1, 32)),
            TensorSpec("latent", (None, 4, 16)),
        ),
        "item_shape": (1, 32),
        "latent_shape": (4, 16),
        "provenance": Provenance(fingerprint="fuzz-0001"),
        "preprocessing": Preprocessing(offset=(0.1,), scale=(0.5,), clip=(-1.0, 1.0)),
        "signal": SignalSpec(sample_rate=16000, channels=1, window=32, hop=16),
        "anomaly": AnomalySpec(threshold=2.0),
        "codec": CodecSpec(bits=8, scale=(0.1,), zero_point=(0,)),
        "arch_config": {"hidden": [8, 4], "dropout": 0.1},
    }
    fields.update(overrides)
    return Manifest(**fields)


def _seeds_stream(rng: np.random.Generator, models: Path) -> list[bytes]:
    from edgeae_runtime import Model
    from edgeae_runtime.codec import StreamEncoder

    enc = StreamEncoder(Model(models / "encoder.onnx"))
    x = (rng.standard_normal((1, 400)) * 0.3).astype(np.float32)
    return [enc.push(x) + enc.flush()]


def _seeds_stream_rans(rng: np.random.Generator, models: Path) -> list[bytes]:
    from edgeae_runtime import Model
    from edgeae_runtime.codec import compress

    enc = Model(models / "signal" / "encoder.onnx")
    x = (rng.standard_normal((1, 400)) * 0.3).astype(np.float32)
    return [
        compress(enc, x, frame_windows=1, entropy_model="factorized"),  # version 2
        compress(enc, x, frame_windows=4, entropy_model="factorized"),  # version 3
        compress(enc, x, frame_windows=8, overlap=True, entropy_model="factorized"),
        compress(enc, x, frame_windows=1, entropy_model="context"),  # version 4
        compress(enc, x, frame_windows=8, overlap=True, entropy_model="context"),
        compress(enc, x, frame_windows=1),  # version 5: the adaptive model
        compress(enc, x, frame_windows=8, overlap=True),
    ]


def _seeds_items(rng: np.random.Generator, models: Path) -> list[bytes]:
    from edgeae_runtime import Model
    from edgeae_runtime.codec import compress_items

    enc = Model(models / "items" / "encoder.onnx")
    x = rng.standard_normal((20, 16)).astype(np.float32)
    return [
        compress_items(enc, x, frame_items=8, entropy_model="factorized"),  # version 2, rANS
        compress_items(enc, x, frame_items=1, entropy_model="factorized"),
        compress_items(enc, x, frame_items=8, entropy_model="context"),  # version 4
        compress_items(enc, x, frame_items=1, entropy_model="context"),
        compress_items(enc, x, frame_items=8),  # version 5: the adaptive model
        compress_items(enc, x, frame_items=1),
        compress_items(enc, x, per_frame=True),  # fixed-width codes, one item per frame
    ]


def _seeds_tiles(rng: np.random.Generator, models: Path) -> list[bytes]:
    from edgeae_runtime import Model
    from edgeae_runtime.codec import compress_image

    enc = Model(models / "image" / "encoder.onnx")  # spatial axes: one latent map
    x = (np.cumsum(rng.standard_normal((1, 21, 30)), axis=-1) * 0.2).astype(np.float32)
    return [
        compress_image(enc, x, frame_items=4),  # the adaptive model
        compress_image(enc, x, frame_items=1, entropy_model="context"),
        compress_image(enc, x, frame_items=4, entropy_model="factorized", latent_map=False),
        compress_image(enc, x, per_frame=True),  # fixed-width codes, one tile per frame
    ]


# -- parsers under test ---------------------------------------------------------------------
def _file(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def _all(*calls: Callable[[], object]) -> None:
    """Run every call; foreign exceptions escape at once, the first package error at the end."""
    from edgeae_runtime.errors import EdgeAEError

    first: EdgeAEError | None = None
    for call in calls:
        try:
            call()
        except EdgeAEError as exc:
            first = first or exc
    if first is not None:
        raise first


def _check_npy(data: bytes, tmp: Path) -> None:
    """Through the public readers: the runtime's signal reader and the host's data reader."""
    from edgeae.data.files import read_file
    from edgeae_runtime.audio import open_reader

    p = _file(tmp, "f.npy", data)

    def runtime() -> None:
        with open_reader(p) as reader:
            reader.read_all()

    def host() -> None:
        raw = read_file(p)  # memory-mapped
        assert raw.array.nbytes <= len(data), "array larger than its file"

    _all(runtime, host)


def _check_npz(data: bytes, tmp: Path) -> None:
    from edgeae.data.files import read_file

    read_file(_file(tmp, "f.npz", data))


def _check_wav(data: bytes, tmp: Path) -> None:
    from edgeae_runtime.audio import open_reader

    p = _file(tmp, "f.wav", data)
    with open_reader(p, chunk_frames=256) as reader:
        for _ in reader:
            pass
    with open_reader("-", stdin=io.BytesIO(data), chunk_frames=256) as reader:  # WAV on stdin
        for _ in reader:
            pass


def _check_raw(data: bytes, tmp: Path) -> None:
    from edgeae_runtime.audio import open_reader

    for fmt, channels in (("s16le", 1), ("f32le", 2)):
        with open_reader(
            "-", stdin=io.BytesIO(data), pcm_format=fmt, sample_rate=16000, channels=channels
        ) as reader:
            for chunk in reader:
                assert chunk.dtype == np.float32


def _check_png(data: bytes, tmp: Path) -> None:
    from edgeae.data.files import read_file
    from edgeae_runtime.png import read_png

    p = _file(tmp, "f.png", data)
    _all(lambda: read_png(p), lambda: read_file(p))


def _check_csv(data: bytes, tmp: Path) -> None:
    from edgeae.data.files import read_file

    read_file(_file(tmp, "f.csv", data))


def _check_manifest_text(data: bytes, tmp: Path) -> None:
    from edgeae_runtime.manifest import Manifest

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    m = Manifest.from_json(text)
    Manifest.from_json(m.to_json())  # what was accepted must round-trip


_PALETTE: list[Any] = [
    None, -1, 0, 1, 2**31, 2**63, 10**400, -(10**30), 1e308, -1e-320, float("nan"),
    float("inf"), "", "x" * 5000, [], {}, [[]], True, list(range(2000)), [0.0] * 3,
    {"a": {"b": {"c": [1, 2, 3]}}}, "float32", "NCHW", [1, 2, 3, 4, 5], [2**31, 1],
]


def _deep(depth: int) -> Any:
    v: Any = 0
    for _ in range(depth):
        v = [v]
    return v


def _mutate_fields(d: Any, rng: np.random.Generator) -> Any:
    """Replace (or drop, or add) one randomly chosen field anywhere in a manifest dict."""
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k in list(node):
                paths.append((node, k))
                walk(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):
                paths.append((node, i))
                walk(node[i])

    walk(d)
    parent, key = paths[int(rng.integers(len(paths)))]
    action = int(rng.integers(10))
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[f"extra{int(rng.integers(3))}"] = 1
    elif action == 2:
        parent[key] = _deep(int(rng.integers(20, 400)))
    else:
        parent[key] = _PALETTE[int(rng.integers(len(_PALETTE)))]
    return d


def _check_manifest_fields(data: bytes, tmp: Path) -> None:
    from edgeae_runtime.manifest import Manifest

    m = Manifest.from_dict(json.loads(data))
    Manifest.from_json(m.to_json())


# -- the loop --------------------------------------------------------------------------------
def _stream_checker(models: Path) -> Callable[[bytes, Path], None]:
    from edgeae_runtime import Model
    from edgeae_runtime.codec import StreamDecoder

    decoder = Model(models / "decoder.onnx")

    def check(data: bytes, tmp: Path) -> None:
        from edgeae_runtime.errors import EdgeAEError

        strict = StreamDecoder(decoder)
        try:
            strict.push(data)
            strict.flush()
        except EdgeAEError:
            pass
        tolerant = StreamDecoder(decoder, conceal=True)
        half = len(data) // 2
        tolerant.push(data[:half])
        tolerant.push(data[half:])
        tolerant.flush()

    return check


def _decoding_checker(decoder_path: Path, decode_name: str) -> Callable[[bytes, Path], None]:
    """A checker decoding with ``edgeae_runtime.codec.<decode_name>``, strict and
    concealing (item batches: ``decode_item_stream``; whole images: ``decode_image_stream``)."""
    from edgeae_runtime import Model, codec

    decoder, decode = Model(decoder_path), getattr(codec, decode_name)

    def check(data: bytes, tmp: Path) -> None:
        _all(lambda: decode(decoder, data), lambda: decode(decoder, data, conceal=True))

    return check


def _header_len(stream: bytes) -> int:
    """Where a valid stream's first frame starts (preamble + header body + CRC32)."""
    (size,) = struct.unpack_from("<I", stream, 5)
    return 9 + size + 4


def run(
    parser: str, cases: int, seed: int, models: Path | None = None, rans: Path | None = None
) -> dict[str, Any]:
    """Fuzz one parser for ``cases`` mutations; the statistics as a dict."""
    from edgeae_runtime.errors import EdgeAEError

    rng = np.random.default_rng([seed, PARSERS.index(parser)])
    head = 128
    checks: dict[str, Callable[[bytes, Path], None]] = {
        "npy": _check_npy,
        "npz": _check_npz,
        "wav": _check_wav,
        "raw": _check_raw,
        "png": _check_png,
        "csv": _check_csv,
        "manifest_text": _check_manifest_text,
        "manifest_fields": _check_manifest_fields,
    }
    if parser == "stream":
        assert models is not None, "the stream fuzzer needs --models (encoder/decoder.onnx)"
        seeds = _seeds_stream(rng, models)
        check = _stream_checker(models)
        head = 80
    elif parser in ("stream_rans", "items", "tiles"):
        assert rans is not None, "the rANS stream fuzzers need their models (make_rans_models)"
        if parser == "items":
            seeds = _seeds_items(rng, rans)
            check = _decoding_checker(rans / "items" / "decoder.onnx", "decode_item_stream")
        elif parser == "tiles":
            seeds = _seeds_tiles(rng, rans)
            check = _decoding_checker(rans / "image" / "decoder.onnx", "decode_image_stream")
        else:
            seeds, check = _seeds_stream_rans(rng, rans), _stream_checker(rans / "signal")
        head = 96
    else:
        check = checks[parser]
        if parser.startswith("manifest"):
            text = good_manifest().to_json()
            seeds = [text.encode()]
            if parser == "manifest_text":  # nesting a recursive parser cannot survive
                deep = text[:-1] + ',"arch_config":' + "[" * 100_000 + "]" * 100_000 + "}"
                seeds += [deep.encode(), ("{" * 50_000).encode(), ('{"a":' * 5000).encode()]
        else:
            seeds = {
                "npy": _seeds_npy,
                "npz": _seeds_npz,
                "wav": _seeds_wav,
                "raw": lambda r: [r.integers(0, 256, 999, dtype=np.uint8).tobytes()],
                "png": _seeds_png,
                "csv": _seeds_csv,
            }[parser](rng)
    stats: dict[str, Any] = {
        "parser": parser, "cases": 0, "ok": 0, "package_errors": 0, "foreign": 0,
        "examples": [], "slowest_s": 0.0,
    }
    with tempfile.TemporaryDirectory(prefix="edgeae-fuzz-") as tmp:
        for case in range(cases):
            seed_bytes = seeds[case % len(seeds)]
            if parser == "manifest_fields":
                data = json.dumps(_mutate_fields(json.loads(seed_bytes), rng)).encode()
            else:
                if case < len(seeds):
                    data = seed_bytes
                elif parser.startswith("stream") or parser in ("items", "tiles"):  # forged frames
                    data = mutate_stream(seed_bytes, rng, start=_header_len(seed_bytes))
                else:
                    data = mutate(seed_bytes, rng, head=head)
                if parser != "raw" and rng.integers(4) == 0:  # stacked mutations
                    data = mutate(data, rng, head=head)
            started = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    check(data, Path(tmp))
                stats["ok"] += 1
            except EdgeAEError:
                stats["package_errors"] += 1
            except Exception as exc:  # a foreign exception: the defect this looks for
                stats["foreign"] += 1
                if len(stats["examples"]) < 5:
                    stats["examples"].append(f"case {case}: {type(exc).__name__}: {exc}"[:300])
            stats["slowest_s"] = max(stats["slowest_s"], time.perf_counter() - started)
            stats["cases"] += 1
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def make_models(folder: Path) -> Path:
    """Write the tiny conv1d triplet (with a codec) that the stream fuzzer decodes."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    folder.mkdir(parents=True, exist_ok=True)
    from edgeae_runtime import CodecSpec
    from tests.runtime.onnx_models import make_triplet

    make_triplet(folder, kind="conv1d", channels=1, window=32, hop=16,
                 codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)))
    return folder


def make_rans_models(folder: Path) -> Path:
    """Write the rANS-coded pairs the ``stream_rans``, ``items`` and ``tiles`` fuzzers
    decode: ``signal/`` (identity, window 32, hop 16), ``items/`` (dense, 16 features) and
    ``image/`` (conv2d, 1 x 8 x 8), each with factorized tables, a context model and an
    adaptive model (streams of versions 2 to 6)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.runtime.codec.models import (
        entropy_image_pair,
        entropy_items_pair,
        entropy_signal_pair,
    )

    for name in ("signal", "items", "image"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    entropy_signal_pair(folder / "signal", adaptive=True)
    entropy_items_pair(folder / "items", adaptive=True)
    entropy_image_pair(folder / "image", any_size=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parser", default="all", choices=("all", *PARSERS))
    ap.add_argument("--cases", type=int, default=500, help="mutations per parser")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit-mb", type=int, default=1024, help="RLIMIT_AS for this process")
    ap.add_argument("--models", type=Path, default=None, help="folder with encoder/decoder.onnx")
    args = ap.parse_args(argv)
    import edgeae_runtime.codec  # noqa: F401 - imported before the limit, like a device would

    with tempfile.TemporaryDirectory(prefix="edgeae-fuzz-models-") as tmp:
        wants = {args.parser} if args.parser != "all" else set(PARSERS)
        # model files only for the parsers that decode with them (building them imports onnx)
        models = args.models or (make_models(Path(tmp) / "plain") if "stream" in wants else None)
        rans_parsers = {"stream_rans", "items", "tiles"}
        rans = make_rans_models(Path(tmp) / "rans") if wants & rans_parsers else None
        limit = args.limit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        failed = 0
        for parser in PARSERS if args.parser == "all" else (args.parser,):
            stats = run(parser, args.cases, args.seed, models, rans)
            stats["limit_mb"] = args.limit_mb
            print(json.dumps(stats), flush=True)
            failed += stats["foreign"]
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
