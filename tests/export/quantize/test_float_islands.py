"""No float island at the latent: every layer of a static int8 model.onnx runs as int8 here.

The full model has ``latent`` as a second graph output, so the latent's quantized tensor
feeds two nodes. onnxruntime's x86 CPU provider converts int8 activations to uint8 at
load only for a quantize node with one consumer; with int8 activations the latent stayed
int8 and the convs on both sides of it ran in float. The x86 default is therefore U8S8.
"""

from __future__ import annotations

import platform

import pytest

from edgeae_export import QuantizeRequest, quantize_model
from edgeae_export.cpu import parse_cpuinfo
from edgeae_export.onnx_io import load_onnx
from edgeae_export.speed import float_layers

from .models import make_data

X86_VNNI = "model name : AMD EPYC\nflags : sse avx avx2 avx512f avx512_vnni\n"
ON_X86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.mark.parametrize("kind", ["dense", "conv1d"])
@pytest.mark.parametrize("role", ["autoencoder", "encoder", "decoder"])
def test_static_default_leaves_no_float_layer(triplets, tmp_path, no_timing, kind, role) -> None:
    src = triplets[kind][role]
    x = make_data(kind, 64)
    r = quantize_model(QuantizeRequest(src, tmp_path / "q.onnx", calibration=x, measure=no_timing))
    # onnxruntime's own optimized graph: only QLinearConv / QGemm, no float Conv/Gemm left
    assert float_layers(load_onnx(r.path)) == ()
    assert not [w for w in r.warnings if "run in float" in w]
    # ...while the float model is all float layers (the check is not vacuous)
    assert len(float_layers(load_onnx(src))) >= 2


@pytest.mark.skipif(not ON_X86, reason="the int8-activation island is an x86 CPU provider matter")
@pytest.mark.parametrize("kind", ["dense", "conv1d"])
def test_int8_activations_on_x86_leave_the_latent_layers_float(
    triplets, tmp_path, no_timing, kind
) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets[kind]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=make_data(kind, 64),
            activation_type="QInt8",
            measure=no_timing,
            cpu=parse_cpuinfo(X86_VNNI, "x86_64"),
        )
    )
    islands = float_layers(load_onnx(r.path))
    assert len(islands) == 2  # the layer producing the latent and the one reading it
    warning = next(w for w in r.warnings if "run in float" in w)
    assert all(name in warning for name in islands)


def test_kept_float_layers_are_not_reported_as_islands(triplets, tmp_path, no_timing) -> None:
    r = quantize_model(
        QuantizeRequest(
            triplets["conv2d"]["autoencoder"],
            tmp_path / "q.onnx",
            calibration=make_data("conv2d", 64),
            measure=no_timing,
        )
    )
    assert float_layers(load_onnx(r.path))  # the ConvTranspose layers run in float...
    assert not [w for w in r.warnings if "run in float" in w]  # ...as asked, so no warning
