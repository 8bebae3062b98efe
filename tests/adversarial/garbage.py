"""Hostile inputs for the adversarial suite: bad models, bad data files, bad streams.

Every builder writes files into a folder and returns ``{name: path}``. Models:
random bytes, truncated, a non-edgeae ONNX graph, and a good model whose
manifest lies, field by field. Data: each reader's format corrupted in the ways
the issue found (corrupt .npy header, huge declared shape, empty file, a WAV
declaring a 4 GiB chunk, PNG garbage, odd-length raw PCM) plus generic ones.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from edgeae_runtime.audio import write_wav
from edgeae_runtime.manifest import MANIFEST_KEY

__all__ = ["LIES", "bad_data", "bad_models", "bad_streams", "with_manifest_text"]


def with_manifest_text(src: Path, dst: Path, text: str) -> Path:
    """Copy the ONNX model ``src`` to ``dst`` with its manifest replaced by ``text``."""
    model = onnx.load(str(src))
    for prop in model.metadata_props:
        if prop.key == MANIFEST_KEY:
            prop.value = text
    onnx.save(model, str(dst))
    return dst


def _set(path: str, value: Any) -> Callable[[dict], str]:
    """A lie: the manifest with the field at dotted ``path`` set to ``value``."""

    def apply(d: dict) -> str:
        node, keys = d, path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return json.dumps(d)  # NaN/Infinity go out as the JSON tokens Python reads back

    return apply


def _js(d: dict) -> str:
    return json.dumps(d)


def _deep_arch(d: dict) -> str:
    return json.dumps(d)[:-1] + ',"arch_config":' + "[" * 50_000 + "]" * 50_000 + "}"


#: Lying manifests, one field each (issue 10 causes 2, 3, 4, 9, 10 and their neighbours).
LIES: dict[str, Callable[[dict], str]] = {
    "item_shape_vs_graph": _set("item_shape", [1, 64]),
    "item_shape_zero": _set("item_shape", [0, 32]),
    "latent_shape_empty": _set("latent_shape", []),
    "latent_shape_vs_graph": _set("latent_shape", [4, 17]),
    "window_2_31": _set("signal.window", 2**31),
    "hop_zero": _set("signal.hop", 0),
    "sample_rate_huge": _set("signal.sample_rate", 10**12),
    "channels_huge": _set("signal.channels", 100_000),
    "scale_nan": _set("preprocessing.scale", [float("nan")]),
    "scale_zero": _set("preprocessing.scale", [0.0]),
    "scale_tiny": _set("preprocessing.scale", [1e-300]),
    "offset_inf": _set("preprocessing.offset", [float("inf")]),
    "clip_reversed": _set("preprocessing.clip", [1.0, -1.0]),
    "threshold_nan": _set("anomaly.threshold", float("nan")),
    "codec_bits_3": _set("codec.bits", 3),
    "codec_scale_neg": _set("codec.scale", [-1.0]),
    "input_name": _set("inputs.0.name", "nope"),
    "inputs_empty": _set("inputs", []),
    "role_unknown": _set("role", "teacher"),
    "schema_99": _set("schema_version", 99),
    "int_5000_digits": lambda d: re.sub(r'"window":\s*32', '"window": ' + "9" * 5000, _js(d)),
    "deep_nesting": _deep_arch,
    "huge_text": lambda d: json.dumps({**d, "arch": "x" * (2 << 20)}),
    "not_json": lambda d: "{this is not json",
    "not_object": lambda d: "[1, 2, 3]",
}


def bad_models(folder: Path, good: Path) -> dict[str, Path]:
    """Random, truncated, non-edgeae and lying-manifest models (``good``: a model.onnx)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(10)
    blob = good.read_bytes()
    out = {
        "random": folder / "random.onnx",
        "truncated": folder / "truncated.onnx",
        "empty": folder / "empty.onnx",
        "text": folder / "text.onnx",
    }
    out["random"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    out["truncated"].write_bytes(blob[: len(blob) // 2])
    out["empty"].write_bytes(b"")
    out["text"].write_text("this is not an onnx model\n")
    # a valid ONNX graph that is no edgeae model: two inputs, no manifest
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 4])
    c = helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N", 4])
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add", [a, b], [c])
    foreign = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    foreign.ir_version = 8
    out["foreign_onnx"] = folder / "foreign.onnx"
    onnx.save(foreign, str(out["foreign_onnx"]))
    manifest = json.loads(
        next(p.value for p in onnx.load(str(good)).metadata_props if p.key == MANIFEST_KEY)
    )
    for name, lie in LIES.items():
        out[f"lie_{name}"] = with_manifest_text(
            good, folder / f"lie_{name}.onnx", lie(json.loads(json.dumps(manifest)))
        )
    return out


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_header(text: bytes, data_bytes: int) -> bytes:
    """A version 1.0 .npy with header ``text`` (padded as numpy pads it) and zero data."""
    pad = -(10 + len(text) + 1) % 64
    header = text + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * data_bytes


def bad_data(folder: Path) -> dict[str, Path]:
    """Corrupt files for every reader; the names say what is wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    good_npy = _npy(np.zeros((1, 64), np.float32))
    files: dict[str, bytes] = {
        "empty.wav": b"",
        "empty.npy": b"",
        "random.wav": rng.integers(0, 256, 500, dtype=np.uint8).tobytes(),
        "random.npy": rng.integers(0, 256, 500, dtype=np.uint8).tobytes(),
        "npy_token_error.npy": _npy_header(b"{'descr': '''<f4', 'shape': (1, 64), }", 256),
        "npy_huge_shape.npy": _npy_header(
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", 256
        ),
        "npy_truncated.npy": good_npy[:-16],
        "npy_strings.npy": _npy(np.array(["a", "b"])),
        "npy_nan.npy": _npy(np.full((1, 64), np.nan, np.float32)),
        "npz_garbage.npz": b"PK\x03\x04" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes(),
        "csv_text.csv": b"a,b,c\nx,y,z\n",
        "csv_empty.csv": b"",
        "png_garbage.png": b"\x89PNG\r\n\x1a\n"
        + rng.integers(0, 256, 80, dtype=np.uint8).tobytes(),
        "raw_odd.raw": b"\x01\x02\x03",
        "stream_garbage.eae": rng.integers(0, 256, 300, dtype=np.uint8).tobytes(),
        "stream_magic_only.eae": b"EAEC",
    }
    # A WAV whose fmt chunk declares 4 GiB (issue 10 cause 20), and one with a huge LIST chunk.
    write_wav(folder / "ok.wav", np.zeros(64, np.float32), 16000)
    ok = (folder / "ok.wav").read_bytes()
    files["wav_fmt_4g.wav"] = ok[:12] + b"fmt " + struct.pack("<I", 0xFFFFFFF0) + ok[20:]
    files["wav_list_4g.wav"] = ok[:12] + b"LIST" + struct.pack("<I", 0xFFFFFFF0) + ok[12:]
    files["wav_no_fmt.wav"] = ok[:12] + ok[36:]
    files["wav_zero_channels.wav"] = ok[:22] + struct.pack("<H", 0) + ok[24:]
    # A PNG whose IHDR declares 60000 x 60000 pixels over a tiny, valid zlib stream.
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    files["png_bomb.png"] = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100_000))
        + chunk(b"IEND", b"")
    )
    out = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    (folder / "a_folder.wav").mkdir(exist_ok=True)
    out["a_folder.wav"] = folder / "a_folder.wav"
    return out


def bad_streams(good: bytes) -> dict[str, bytes]:
    """Streams broken in the ways a link or an attacker breaks them (from a good one)."""
    from edgeae_runtime.codec.format import pack_end, pack_frame, parse_header
    from edgeae_runtime.codec.parser import MAX_GAP, StreamParser

    _, pos = parse_header(good)
    frames = [e for e in StreamParser().feed(good) if type(e).__name__ == "Frame"]
    f = frames[0]
    gaps = bytearray(good[:pos])
    index = 0
    for _ in range(40):  # many gaps, each within MAX_GAP: issue 10 cause 1
        gaps += pack_frame(index, f.samples, f.payload, flags=f.flags)
        index += MAX_GAP
    gaps += pack_end(index, index * f.samples)
    return {
        "truncated": good[: len(good) * 2 // 3],
        "header_only": good[:pos],
        "bit_flip": good[:pos + 20] + bytes([good[pos + 20] ^ 0x40]) + good[pos + 21 :],
        "doubled": good + good,
        "many_gaps": bytes(gaps),
    }
