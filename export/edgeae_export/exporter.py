"""Exporting a trained autoencoder: three checked ONNX files, a parity gate, a manifest each.

:func:`export_autoencoder` turns a torch module with ``encode``/``decode`` into
``model.onnx`` (input -> reconstruction, latent), ``encoder.onnx`` and
``decoder.onnx``; checks each with onnx's checker and shape inference; runs each
in onnxruntime on real validation items and refuses the export (writing nothing)
when any output differs from torch by more than the tolerance; calibrates the
latent code quantization; and writes all three files atomically with their
manifest. See docs/export.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from edgeae_runtime.codec import calibrate_codec
from edgeae_runtime.manifest import CodecSpec, Manifest, Parity

from .context_entropy import fit_adaptive_tables, fit_context_tables
from .errors import ExistsError, ExportError, ExportParameterError
from .fingerprint import model_fingerprint
from .manifest_build import (
    INPUT_NAME,
    LATENT_NAME,
    RECONSTRUCTION_NAME,
    ExportInfo,
    build_manifest,
    export_versions,
)
from .onnx_io import check_onnx, write_onnx_files
from .optimize import optimize_model
from .parity import CHUNK, check_parity, max_abs_error, onnx_session, run_onnx
from .torch_export import DEFAULT_OPSET, exported_opset, split_autoencoder, torch_to_onnx

__all__ = [
    "DEFAULT_TOLERANCE",
    "FILE_NAMES",
    "ExportResult",
    "ExportedFile",
    "check_export_targets",
    "export_autoencoder",
]

DEFAULT_TOLERANCE = 1e-4
#: File name of each role inside the output directory.
FILE_NAMES: Mapping[str, str] = {
    "autoencoder": "model.onnx",
    "encoder": "encoder.onnx",
    "decoder": "decoder.onnx",
}


@dataclass(frozen=True)
class ExportedFile:
    """One written file: its role, path, size and the parity it was held to."""

    role: str
    path: Path
    size_bytes: int
    parity: Parity
    file_fingerprint: str


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_autoencoder` wrote."""

    files: tuple[ExportedFile, ...]
    fingerprint: str
    opset: int
    codec: CodecSpec
    manifest: Manifest

    def file(self, role: str) -> ExportedFile:
        """The file of one role (``autoencoder``, ``encoder`` or ``decoder``)."""
        return next(f for f in self.files if f.role == role)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (paths as strings)."""
        return {
            "fingerprint": self.fingerprint,
            "opset": self.opset,
            "codec": {"bits": self.codec.bits, "channels": len(self.codec.scale)},
            "files": [
                {
                    "role": f.role,
                    "path": str(f.path),
                    "size_bytes": f.size_bytes,
                    "file_fingerprint": f.file_fingerprint,
                    "parity": {
                        "max_abs_error": f.parity.max_abs_error,
                        "tolerance": f.parity.tolerance,
                        "samples": f.parity.samples,
                    },
                }
                for f in self.files
            ],
        }


def _check_examples(example_inputs: np.ndarray, info: ExportInfo) -> np.ndarray:
    x = np.asarray(example_inputs)
    expected = tuple(info.item_shape)
    if x.ndim != len(expected) + 1 or tuple(x.shape[1:]) != expected:
        raise ExportError(
            f"example_inputs: expected a batch of items of shape {expected} "
            f"(layout {info.layout}), got an array of shape {x.shape}"
        )
    if len(x) == 0:
        raise ExportError("example_inputs: needs at least one validation item")
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ExportError("example_inputs: needs finite float values (model space)")
    return np.ascontiguousarray(x, dtype=np.float32)


def _check_module(module: Any) -> None:
    for method in ("encode", "decode"):
        if not callable(getattr(module, method, None)):
            raise ExportError(
                f"module: {type(module).__name__} has no {method}() method; the exporter "
                "needs an autoencoder with encode() and decode()"
            )
    bad = {str(p.dtype) for p in module.parameters() if str(p.dtype) != "torch.float32"}
    if bad:
        raise ExportError(f"module: parameters must be float32, found {sorted(bad)}; call .float()")


def _torch_reference(module: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Torch's reconstruction and latent for ``x``, computed in chunks without gradients."""
    import torch

    recon, latent = [], []
    with torch.no_grad():
        for start in range(0, len(x), CHUNK):
            z = module.encode(torch.from_numpy(x[start : start + CHUNK]))
            latent.append(z.detach().cpu().numpy())
            recon.append(module.decode(z).detach().cpu().numpy())
    return np.concatenate(recon), np.concatenate(latent)


def check_export_targets(out_dir: str | os.PathLike[str], *, force: bool) -> list[Path]:
    """The three target paths in ``out_dir``; ExportError when ``out_dir`` is a file or a
    target exists (unless ``force``). Callers can run it before any slow work.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportParameterError(
            f"{out_dir}: exists and is not a directory; give a directory", param="out_dir"
        )
    targets = [out_dir / FILE_NAMES[r] for r in ("autoencoder", "encoder", "decoder")]
    if not force:
        for target in targets:
            if target.exists():
                raise ExistsError(f"{target}: already exists; use `force` to overwrite it")
    return targets


def _graphs(
    module: Any, x: np.ndarray, latent: np.ndarray, *, opset: int, optimize: bool
) -> dict[str, onnx.ModelProto]:
    """The three checked graphs; the halves are cut from the full model when possible."""
    trace = x[:2] if len(x) >= 2 else np.repeat(x[:1], 2, axis=0)
    # An image model takes any height and width when it is fully convolutional: a whole
    # image is then coded as one latent map.
    spatial = fully_convolutional(module, trace)
    ztrace = latent[:2] if len(latent) >= 2 else np.repeat(latent[:1], 2, axis=0)
    try:
        full = torch_to_onnx(module, trace, role="autoencoder", opset=opset, spatial=spatial)
    except ExportError:
        if not spatial:
            raise
        spatial = False  # a reshape torch cannot make symbolic: every graph at the item size
        full = torch_to_onnx(module, trace, role="autoencoder", opset=opset)
    if optimize:
        full = optimize_model(full, name=FILE_NAMES["autoencoder"])
    halves = split_autoencoder(full)
    if halves is None:
        halves = (
            torch_to_onnx(module, trace, role="encoder", opset=opset, spatial=spatial),
            torch_to_onnx(module, ztrace, role="decoder", opset=opset, spatial=spatial),
        )
        if optimize:
            halves = tuple(  # type: ignore[assignment]
                optimize_model(h, name=FILE_NAMES[r])
                for h, r in zip(halves, ("encoder", "decoder"), strict=True)
            )
    graphs = {"autoencoder": full, "encoder": halves[0], "decoder": halves[1]}
    for role, graph in graphs.items():
        check_onnx(graph, name=FILE_NAMES[role])
    return graphs


def fully_convolutional(module: Any, example: np.ndarray) -> bool:
    """True when an image model (4-D items) maps an image of twice the height and width to
    a latent of twice its size and back to the same image size: what coding a whole image
    as one latent map needs (docs/stream-format.md, "Version 6"). A dense layer, an internal
    pad-and-crop to the item size (a size that is not a multiple of the strides) or a
    fixed reshape fail it."""
    import torch

    if example.ndim != 4 or any(isinstance(m, torch.nn.Linear) for m in module.modules()):
        return False
    x = torch.from_numpy(np.ascontiguousarray(example[:1], dtype=np.float32))
    x2 = torch.zeros((1, x.shape[1], 2 * x.shape[2], 2 * x.shape[3]))
    try:
        with torch.no_grad():
            z, z2 = module.encode(x), module.encode(x2)
            y2 = module.decode(z2)
    except Exception:  # any failure at another size: not fully convolutional
        return False
    doubled = tuple(2 * d for d in z.shape[2:]) == tuple(z2.shape[2:])
    return doubled and tuple(y2.shape) == tuple(x2.shape)


def export_autoencoder(
    module: Any,
    *,
    out_dir: str | os.PathLike[str],
    example_inputs: np.ndarray,
    info: ExportInfo,
    tolerance: float = DEFAULT_TOLERANCE,
    opset: int = DEFAULT_OPSET,
    optimize: bool = False,
    force: bool = False,
    codec_bits: int = 8,
) -> ExportResult:
    """Export ``module`` (a torch autoencoder with ``encode``/``decode``) to three ONNX files.

    ``example_inputs`` are real validation items in model space, shape
    ``(N, *info.item_shape)``; they drive the parity gate (max abs error against
    torch must stay <= ``tolerance`` for every output of every file, else
    ParityError and nothing is written) and the latent codec calibration.
    A module with a ``for_export()`` method is traced through the module it returns
    (an equal graph that runs faster: edgeae's upsample decoders fold into sub-pixel
    convs) and parity-checked against ``module`` itself.
    ``out_dir`` is created when missing; existing files are replaced only with
    ``force``.
    """
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise ExportParameterError(
            f"must be positive and finite, got {tolerance}", param="tolerance"
        )
    _check_module(module)
    x = _check_examples(example_inputs, info)
    out = Path(out_dir)
    targets = check_export_targets(out, force=force)

    was_training = bool(getattr(module, "training", False))
    module.eval()
    try:
        recon_t, latent_t = _torch_reference(module, x)
        if tuple(latent_t.shape[1:]) != tuple(info.latent_shape):
            raise ExportError(
                f"latent_shape: the encoder outputs latents of shape {latent_t.shape[1:]}, "
                f"the export info says {tuple(info.latent_shape)}"
            )
        if tuple(recon_t.shape[1:]) != info.reconstruction_shape:
            raise ExportError(
                f"module: decode(encode(x)) has shape {recon_t.shape[1:]} per item, "
                f"expected {info.reconstruction_shape}"
            )
        traced = module.for_export() if callable(getattr(module, "for_export", None)) else module
        graphs = _graphs(traced.eval(), x, latent_t, opset=opset, optimize=optimize)
    finally:
        module.train(was_training)

    # Parity: every output of every file against torch, on the same validation items.
    full = run_onnx(onnx_session(graphs["autoencoder"], name="model.onnx"), INPUT_NAME, x)
    enc = run_onnx(onnx_session(graphs["encoder"], name="encoder.onnx"), INPUT_NAME, x)
    dec = run_onnx(onnx_session(graphs["decoder"], name="decoder.onnx"), LATENT_NAME, latent_t)
    errors = {
        "model.onnx reconstruction": max_abs_error(
            full[RECONSTRUCTION_NAME], recon_t, what="model.onnx reconstruction"
        ),
        "model.onnx latent": max_abs_error(full[LATENT_NAME], latent_t, what="model.onnx latent"),
        "encoder.onnx latent": max_abs_error(enc[LATENT_NAME], latent_t, what="encoder.onnx"),
        "decoder.onnx reconstruction": max_abs_error(
            dec[RECONSTRUCTION_NAME], recon_t, what="decoder.onnx"
        ),
    }
    check_parity(errors, tolerance=tolerance, samples=len(x))
    per_file = {
        "autoencoder": max(errors["model.onnx reconstruction"], errors["model.onnx latent"]),
        "encoder": errors["encoder.onnx latent"],
        "decoder": errors["decoder.onnx reconstruction"],
    }

    codec = _codec_spec(module, latent_t, codec_bits)
    fingerprint = model_fingerprint(graphs["autoencoder"])
    versions = export_versions()
    manifests: dict[str, Manifest] = {}
    for role, graph in graphs.items():
        parity = Parity(max_abs_error=per_file[role], tolerance=tolerance, samples=len(x))
        manifests[role] = build_manifest(
            info,
            role=role,  # type: ignore[arg-type]
            fingerprint=fingerprint,
            file_fingerprint=model_fingerprint(graph),
            parity=parity,
            codec=codec,
            versions=versions,
        )

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    roles = ("autoencoder", "encoder", "decoder")
    write_onnx_files(
        [(graphs[r], t, manifests[r]) for r, t in zip(roles, targets, strict=True)], force=force
    )
    files = tuple(
        ExportedFile(
            role=r,
            path=t,
            size_bytes=t.stat().st_size,
            parity=manifests[r].parity,  # type: ignore[arg-type]
            file_fingerprint=manifests[r].provenance.file_fingerprint,
        )
        for r, t in zip(roles, targets, strict=True)
    )
    return ExportResult(
        files=files,
        fingerprint=fingerprint,
        opset=exported_opset(graphs["autoencoder"]),
        codec=codec,
        manifest=manifests["autoencoder"],
    )


def _codec_spec(module: Any, latents: np.ndarray, bits: int) -> CodecSpec:
    """The manifest's codec: the model's learned entropy model when it has one, else codes
    of ``bits`` bits calibrated on the validation latents.

    With a learned prior, the factorized tables come from it, and a context model over
    the same symbols is fitted on the example latents' codes (:mod:`.context_entropy`)
    when it codes them in fewer bits than the factorized tables, and an adaptive model
    (format version 5) when it codes them in fewer bits than its static tables."""
    prior = getattr(module, "prior", None)
    if prior is None:
        return calibrate_codec(latents, bits=bits)
    # Rate-distortion training puts the latents on the integer grid: code round(z) as is.
    base = prior.tables()
    codes = np.rint(np.asarray(latents, dtype=np.float64)).astype(np.int64)
    fit = fit_context_tables(codes, base)
    adaptive = fit_adaptive_tables(codes, base).tables
    return CodecSpec(
        bits=8,
        scale=(1.0,),
        zero_point=(0,),
        entropy=base.to_spec(),
        context=fit.tables.to_spec() if fit.tables is not None else None,
        adaptive=adaptive.to_spec() if adaptive is not None else None,
    )
