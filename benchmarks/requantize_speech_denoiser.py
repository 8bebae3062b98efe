"""Re-quantize the shipped speech denoiser without retraining (how the 2026-12-02c file was made).

The int8 file's weights are dequantized into the float model (per-channel scales and
zero points, int32 biases), saved as a trainer checkpoint, and exported and quantized
again through ``train_speech_denoiser.py --from-checkpoint`` (parity gate, static QDQ
with ``reduce_range``, installed into the runtime package)::

    .venv/bin/python benchmarks/requantize_speech_denoiser.py build/shipped_deq.pt
    .venv/bin/python benchmarks/train_speech_denoiser.py --from-checkpoint build/shipped_deq.pt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from edgeae.models.spectral import SpectralConfig, SpectralMaskAE

PRETRAINED = Path(__file__).resolve().parent.parent / "runtime" / "edgeae_runtime" / "pretrained"


def dequantized_model(onnx_path: Path, info: dict) -> SpectralMaskAE:
    """The float model whose weights are the int8 file's dequantized weights."""
    init = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
    cfg = SpectralConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in info["model_config"].items()}
    )
    model = SpectralMaskAE(cfg)
    enc, dec = model.encoder, model.decoder
    for i, mod in enumerate((enc[0], enc[2], enc[3], enc[5], dec[0], dec[2], dec[4])):
        q = init[f"conv{i}.w_quantized"].astype(np.float64)
        zero = init[f"conv{i}.w_zero_point"].astype(np.float64)[:, None, None]
        w = (q - zero) * init[f"conv{i}.w_scale"].astype(np.float64)[:, None, None]
        b = init[f"conv{i}.b_quantized"] * init[f"conv{i}.b_quantized_scale"].astype(np.float64)
        with torch.no_grad():
            mod.weight.copy_(torch.from_numpy(w).float())
            mod.bias.copy_(torch.from_numpy(b).float())
    return model


def main() -> None:
    out = Path(sys.argv[1])
    info = json.loads((PRETRAINED / "speech-denoiser.json").read_text())
    model = dequantized_model(PRETRAINED / "speech-denoiser.onnx", info)
    info["dequantized_from"] = "the shipped int8 file: weights dequantized, quantized again"
    torch.save({"state_dict": model.state_dict(), "info": info}, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
