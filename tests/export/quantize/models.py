"""The quantizer tests' data; their models are the ``q*`` kinds of the one triplet builder.

Models: ``tests.runtime.onnx_models.make_triplet(out_dir, "qdense")`` (also ``qconv1d``,
``qconv2d``); data: :func:`make_data` (raw values around 0..4, what those models expect).
"""

from __future__ import annotations

from tests.runtime.onnx_models import make_data

__all__ = ["make_data"]
