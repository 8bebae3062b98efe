"""The sub-pixel decoder: the 1-D shuffle's index map, fewer MACs than upsample + conv,
an int8 export whose convolutions all run as QLinearConv with no Resize left, and the
upsample decoder's export through its exact sub-pixel equivalent (fold_upsample)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeae.models import asdict, build_model, default_config
from edgeae.models._conv import _Shuffle1d, fold_upsample, subpixel_kernel
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


class _Unfolded(torch.nn.Module):
    """``model`` without its ``for_export``: traced as trained (upsample + conv)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _export(
    arch: str, shape: tuple[int, ...], decoder: str, tmp: Path, *, fold: bool = True, **kw: object
) -> Path:
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
    module = model if fold else _Unfolded(model)
    export_autoencoder(module, out_dir=tmp, example_inputs=x, info=info, force=True)
    return tmp / "model.onnx"


def _macs(path: Path) -> int:
    return sum(n.macs or 0 for n in count_macs(path))


def _ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def test_conv1d_subpixel_has_fewer_macs_than_upsample(tmp_path: Path) -> None:
    up = _export("conv1d", (1, 64), "upsample", tmp_path / "u", fold=False, channels=(8, 16))
    sp = _export("conv1d", (1, 64), "subpixel", tmp_path / "s", channels=(8, 16))
    assert _macs(sp) < 0.85 * _macs(up)
    assert "Resize" in _ops(up)
    assert "Resize" not in _ops(sp) and "ConvTranspose" not in _ops(sp)


@settings(max_examples=25, deadline=None)
@given(
    dims=st.sampled_from([1, 2]),
    kernel=st.sampled_from([3, 5, 7]),
    levels=st.integers(1, 3),
    size=st.integers(5, 40),
    channels=st.integers(1, 3),
)
def test_fold_upsample_is_the_same_function(
    dims: int, kernel: int, levels: int, size: int, channels: int
) -> None:
    torch.manual_seed(size)
    arch = f"conv{dims}d"
    shape = (channels, size) if dims == 1 else (channels, size, size // 2 + 3)
    cfg = default_config(arch, shape, decoder="upsample", kernel=kernel,
                         channels=tuple(4 * (i + 1) for i in range(levels)))
    model = build_model(arch, cfg).eval()
    folded = fold_upsample(model).eval()
    assert not any(isinstance(m, torch.nn.Upsample) for m in folded.modules())
    assert any(isinstance(m, torch.nn.Upsample) for m in model.modules())  # untouched
    x = torch.randn(3, *shape)
    with torch.no_grad():
        want, got = model(x), folded(x)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-5 * float(want.abs().max()) + 1e-7)


@pytest.mark.parametrize(("arch", "shape"), [("conv1d", (3, 64)), ("conv2d", (1, 12, 12))])
def test_upsample_decoder_exports_as_subpixel(
    arch: str, shape: tuple[int, ...], tmp_path: Path
) -> None:
    # export_autoencoder checks the folded graph against the upsample module itself
    up = _export(arch, shape, "upsample", tmp_path / "u", channels=(8, 16), kernel=5)
    plain = _export(arch, shape, "upsample", tmp_path / "p", fold=False, channels=(8, 16),
                    kernel=5)
    assert "Resize" not in _ops(up) and "Resize" in _ops(plain)
    assert _macs(up) < 0.85 * _macs(plain)  # kernel 5 at 2L -> 3 at L with twice the outputs
    x = np.random.default_rng(2).normal(size=(8, *shape)).astype(np.float32)
    y = [open_session(p).run(["reconstruction"], {"input": x})[0] for p in (up, plain)]
    assert np.abs(y[0] - y[1]).max() <= 1e-5 * np.abs(y[1]).max()


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
