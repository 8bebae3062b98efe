"""The sub-pixel decoder: the 1-D shuffle's index map, fewer MACs than upsample + conv,
and an int8 export whose convolutions all run as QLinearConv with no Resize left."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from edgeae.models import asdict, build_model, default_config
from edgeae.models._conv import _Shuffle1d, subpixel_kernel
from edgeae_export import ExportInfo
from edgeae_export.exporter import export_autoencoder
from edgeae_export.perf_model import count_macs
from edgeae_export.quantize import QuantizeRequest, quantize_model
from edgeae_runtime import Preprocessing
from edgeae_runtime.session import open_session

torch.set_num_threads(1)


def test_shuffle1d_interleaves_channel_groups() -> None:
    x = torch.arange(2 * 6 * 4, dtype=torch.float32).reshape(2, 6, 4)  # C=3, r=2, L=4
    y = _Shuffle1d(3, 4)(x)
    assert tuple(y.shape) == (2, 3, 8)
    for c in range(3):
        for pos in range(8):
            assert y[1, c, pos] == x[1, c * 2 + pos % 2, pos // 2]


@pytest.mark.parametrize(("kernel", "low"), [(3, 3), (5, 3), (7, 3), (9, 5), (11, 5)])
def test_subpixel_kernel_is_odd_and_about_half(kernel: int, low: int) -> None:
    assert subpixel_kernel(kernel) == low


def _export(arch: str, shape: tuple[int, ...], decoder: str, tmp: Path, **kw: object) -> Path:
    torch.manual_seed(0)
    cfg = default_config(arch, shape, decoder=decoder, **kw)
    model = build_model(arch, cfg).eval()
    info = ExportInfo(
        arch=arch,
        layout=cfg.layout,
        item_shape=tuple(cfg.item_shape),
        latent_shape=tuple(cfg.latent_shape),
        preprocessing=Preprocessing(offset=(0.0,), scale=(1.0,)),
        arch_config=asdict(cfg),
        data_fingerprint="tests",
        source="tests",
    )
    x = np.random.default_rng(0).normal(size=(32, *shape)).astype(np.float32)
    export_autoencoder(model, out_dir=tmp, example_inputs=x, info=info, force=True)
    return tmp / "model.onnx"


def test_conv1d_subpixel_has_fewer_macs_than_upsample(tmp_path: Path) -> None:
    up = _export("conv1d", (1, 64), "upsample", tmp_path / "u", channels=(8, 16))
    sp = _export("conv1d", (1, 64), "subpixel", tmp_path / "s", channels=(8, 16))
    macs = {p: sum(n.macs or 0 for n in count_macs(p)) for p in (up, sp)}
    assert macs[sp] < 0.85 * macs[up]
    ops = {n.op_type for n in onnx.load(str(sp)).graph.node}
    assert "Resize" not in ops and "ConvTranspose" not in ops


@pytest.mark.parametrize(("arch", "shape"), [("conv1d", (2, 60)), ("conv2d", (1, 12, 12))])
def test_subpixel_int8_runs_every_conv_as_qlinearconv(
    arch: str, shape: tuple[int, ...], tmp_path: Path
) -> None:
    model = _export(arch, shape, "subpixel", tmp_path, channels=(8, 16))
    x = np.random.default_rng(1).normal(size=(64, *shape)).astype(np.float32)
    out = tmp_path / "model.int8.onnx"
    quantize_model(
        QuantizeRequest(
            model, out, mode="static", calibration=x, speed_gate=False, force=True
        )
    )
    optimized = tmp_path / "optimized.onnx"
    open_session(out, optimized_path=optimized)
    ran = Counter(n.op_type for n in onnx.load(str(optimized)).graph.node)
    convs = sum(1 for n in onnx.load(str(model)).graph.node if n.op_type == "Conv")
    assert ran["QLinearConv"] == convs and "Conv" not in ran and "Resize" not in ran
    # one quantize at the input, one dequantize per output: the shuffles stay in uint8
    assert ran["QuantizeLinear"] == 1
    f, q = open_session(model), open_session(out)
    name = f.get_inputs()[0].name
    yf, yq = f.run(None, {name: x})[0], q.run(None, {name: x})[0]
    assert yq.shape == yf.shape == x.shape
    assert np.abs(yq - yf).max() < 0.05 * np.abs(yf).max()
