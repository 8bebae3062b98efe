"""``Model``: one onnxruntime session and its manifest, with validated batch operations.

A Model holds no stream state, so one loaded model serves any number of
:class:`~edgeae_runtime.stream.StreamDenoiser` or codec streams. All batch
operations take and return raw units (the manifest's preprocessing is applied
inside) and run in slices of at most ``max_batch`` items, so a huge input runs in
bounded memory.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort

from .errors import InputError, ManifestError, ModelError, ParameterError
from .framing import numeric_array
from .manifest import (
    MANIFEST_KEY,
    AnomalySpec,
    Manifest,
    Provenance,
    SignalSpec,
    TensorSpec,
    check_graph,
)
from .preprocess import denormalize, normalize, overflow_free
from .session import ORT_ERRORS, first_line, open_session

__all__ = ["DEFAULT_MAX_BATCH", "Model", "check_finite", "infer_manifest"]

DEFAULT_MAX_BATCH = 256


_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
}

_NEEDS = {
    "reconstruct": ("autoencoder",),
    "score": ("autoencoder",),
    "encode": ("autoencoder", "encoder"),
    "decode": ("decoder",),
}
_FILES = {
    "autoencoder": "the full autoencoder (model.onnx)",
    "encoder": "the encoder (encoder.onnx) or the full autoencoder (model.onnx)",
    "decoder": "the decoder (decoder.onnx)",
}


def check_finite(x: np.ndarray, what: str) -> None:
    """Raise InputError naming the first item of batch ``x`` holding a NaN or Inf."""
    finite = np.isfinite(x)
    if finite.all():
        return
    flat = finite.reshape(x.shape[0], -1) if x.ndim > 1 else finite.reshape(-1, 1)
    item = int(np.flatnonzero(~flat.all(axis=1))[0])
    pos = int(np.flatnonzero(~flat[item])[0])
    value = x.reshape(flat.shape)[item, pos]
    kind = "NaN" if np.isnan(value) else "Inf"
    index = np.unravel_index(pos, x.shape[1:]) if x.ndim > 1 else ()
    where = f" at {tuple(int(i) for i in index)}" if index else ""
    raise InputError(f"{what}: item {item} holds {kind}{where}; inputs must be finite")


def _check_max_batch(max_batch: Any) -> int:
    """``max_batch`` must be a positive integer (a ParameterError naming it otherwise)."""
    if isinstance(max_batch, bool) or not isinstance(max_batch, (int, np.integer)) or max_batch < 1:
        raise ParameterError(f"must be an integer >= 1, got {max_batch!r}", param="max_batch")
    return int(max_batch)


def _check_overflow(x: np.ndarray, where: str, what: str) -> None:
    """Refuse NaN/Inf where finite inputs went in: values too large for float32.

    Raw inputs are checked finite first, so a non-finite value here means the
    preprocessing or the model overflowed (inputs near the float32 maximum):
    an error rather than a silently infinite reconstruction. The message is
    ``"{where}: {what}: ..."``, built only when raised (this runs on every batch).
    """
    if not np.isfinite(x).all():
        raise InputError(
            f"{where}: {what}: overflowed to Inf/NaN; the input values are too large for this "
            "model (float32 overflow), scale them down"
        )


def _as_batch(x: Any, item_shape: tuple[int, ...], what: str, *, finite: bool = True) -> np.ndarray:
    """Validate a raw batch ``(N, *item_shape)`` and return it as float32 (``finite=False``:
    the caller checks the values itself, :func:`check_finite`, from a result that is
    non-finite whenever they are)."""
    arr = numeric_array(x, what)
    if arr.ndim != len(item_shape) + 1 or tuple(arr.shape[1:]) != tuple(item_shape):
        hint = " (add a batch axis: x[None])" if tuple(arr.shape) == tuple(item_shape) else ""
        raise InputError(
            f"{what}: expected a batch of shape (N, {', '.join(map(str, item_shape))}), "
            f"got {tuple(arr.shape)}{hint}"
        )
    if arr.shape[0] == 0:
        raise InputError(f"{what}: empty input (batch of 0 items)")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if finite:
        check_finite(arr, what)
    return arr


def _file_fingerprint(path: Path) -> str:
    import hashlib  # only for manifest-less models; hashlib costs ~4 MB of RSS on import

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _static(shape: Sequence[Any]) -> tuple[int, ...] | None:
    """An ORT shape without its batch axis, or None when an axis is dynamic."""
    dims = tuple(shape[1:])
    if all(isinstance(d, int) and d > 0 for d in dims):
        return dims  # type: ignore[return-value]
    return None


def infer_manifest(session: ort.InferenceSession, path: str | Path, **fields: Any) -> Manifest:
    """Build a manifest for a model that carries none, from its graph plus ``fields``.

    Role, input/output names, item and latent shapes and layout come from the
    session when the graph states them; ``fields`` (any :class:`Manifest` field)
    supply or override the rest. A field that can be neither inferred nor was
    given raises ManifestError naming it.
    """
    path = Path(path)
    ins, outs = session.get_inputs(), session.get_outputs()
    names_in = [i.name for i in ins]
    names_out = [o.name for o in outs]
    role = fields.get("role")
    if role is None:
        if names_in == ["latent"]:
            role = "decoder"
        elif names_out == ["latent"]:
            role = "encoder"
        elif len(ins) == 1 and outs:
            role = "autoencoder"
        else:
            raise ManifestError(
                f"{path.name}: manifest.role: the model has no manifest and its inputs "
                f"{names_in} / outputs {names_out} do not say its role; pass role=..."
            )

    def spec(node: Any) -> TensorSpec:
        dims = tuple(d if isinstance(d, int) else None for d in node.shape)
        return TensorSpec(node.name, dims, "float32")

    inferred: dict[str, Any] = {
        "role": role,
        "arch": "unknown",
        "inputs": tuple(spec(i) for i in ins[:1]),
        "outputs": tuple(spec(o) for o in outs),
        "provenance": Provenance(fingerprint=_file_fingerprint(path), source=str(path)),
    }
    first_in = _static(ins[0].shape)
    latent_node = next((o for o in outs if o.name == "latent"), None)
    if role == "decoder":
        item = _static(outs[0].shape)
        latent = first_in
    else:
        item = first_in
        if role == "encoder":
            latent = _static(outs[0].shape)
        else:
            latent = _static(latent_node.shape) if latent_node is not None else None
            if latent is None and len(outs) == 2:
                latent = _static(outs[1].shape)
    if item is not None:
        inferred["item_shape"] = item
        inferred["layout"] = {1: "NF", 2: "NCW", 3: "NCHW"}.get(len(item))
    if latent is not None:
        inferred["latent_shape"] = latent
    inferred.update(fields)
    for name in ("item_shape", "latent_shape", "layout"):
        if inferred.get(name) is None:
            raise ManifestError(
                f"{path.name}: manifest.{name}: the model has no manifest and its graph "
                f"does not state it; pass {name}=..."
            )
    return Manifest(**inferred)


@functools.cache
def _default_anomaly() -> AnomalySpec:
    """The uncalibrated default, built once (it is on every scored batch's path: ~7 µs)."""
    return AnomalySpec()


class Model:
    """An exported edgeae model: one InferenceSession plus the manifest it carries.

    ``threads`` sets onnxruntime's intra-op threads (inter-op is 1, execution
    sequential, for predictable latency); ``providers`` defaults to the CPU,
    ``["openvino"]`` is the optional OpenVINO path (:mod:`.ov_backend`), and
    ``"recommended"`` follows the file's ``manifest.execution`` (written by
    ``edgeae bench --openvino --record``) when that provider is installed, else the CPU.
    ``manifest`` replaces the file's manifest, and ``manifest_overrides`` change
    single fields of it (``Model(p, signal=SignalSpec(...))``); for a file
    without a manifest they supply what its graph does not state.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int = 1,
        providers: Sequence[str] | Literal["recommended"] | None = None,
        manifest: Manifest | None = None,
        max_batch: int = DEFAULT_MAX_BATCH,
        **manifest_overrides: Any,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file")
        _check_max_batch(max_batch)
        if isinstance(providers, str) and providers != "recommended":
            raise ParameterError(
                f'providers: a list of provider names or "recommended", got {providers!r}',
                param="providers",
            )
        recommended = providers == "recommended"
        try:
            self.session = open_session(
                self.path, threads=threads, providers=None if recommended else providers
            )
        except ORT_ERRORS as exc:
            raise ModelError(
                f"{self.path}: not a loadable ONNX model ({first_line(exc)})"
            ) from None
        self.threads = threads
        self.max_batch = max_batch
        self._name = self.path.name  # for messages (the run path formats none unless it raises)
        meta = self.session.get_modelmeta().custom_metadata_map
        if manifest is None and MANIFEST_KEY in meta:
            try:
                manifest = Manifest.from_json(meta[MANIFEST_KEY])
            except ManifestError as exc:
                raise ManifestError(f"{self.path.name}: {exc}") from None
            if manifest_overrides:
                manifest = manifest.replace(**manifest_overrides)
        elif manifest is None:
            manifest = infer_manifest(self.session, self.path, **manifest_overrides)
        elif manifest_overrides:
            manifest = manifest.replace(**manifest_overrides)
        self.manifest: Manifest = manifest
        if recommended:
            self._follow_recommendation(threads)
        self._bind_names()

    @classmethod
    def default(cls, name: str = "speech-denoiser", **kwargs: Any) -> Model:
        """A pretrained model shipped inside the runtime package (:mod:`.pretrained`)."""
        from .pretrained import pretrained_path

        return cls(pretrained_path(name), **kwargs)

    # -- set-up ------------------------------------------------------------------------
    def _follow_recommendation(self, threads: int) -> None:
        """Reopen on the provider ``manifest.execution`` recommends, when it is installed."""
        advice = self.manifest.execution
        if advice is None or advice.provider != "openvino":
            return
        from .ov_backend import OPENVINO, openvino_version

        if openvino_version() is not None:
            self.session = open_session(self.path, threads=threads, providers=[OPENVINO])

    def _bind_names(self) -> None:
        """Map the manifest's input/output names onto the session's, checking they exist."""
        m = self.manifest
        ins = {i.name: i for i in self.session.get_inputs()}
        outs = [o.name for o in self.session.get_outputs()]
        in_name = m.inputs[0].name
        if in_name not in ins:
            raise ModelError(
                f"{self.path.name}: the manifest names input {in_name!r}, the graph has "
                f"{sorted(ins)}"
            )
        for spec in m.outputs:
            if spec.name not in outs:
                raise ModelError(
                    f"{self.path.name}: the manifest names output {spec.name!r}, the graph "
                    f"has {outs}"
                )
        check_graph(
            m,
            [(i.name, i.shape) for i in self.session.get_inputs()],
            [(o.name, o.shape) for o in self.session.get_outputs()],
            name=self.path.name,
        )
        out_names = [o.name for o in m.outputs]
        self._input = in_name
        node = ins[in_name]
        self._in_dtype = _ORT_DTYPES.get(node.type)
        if self._in_dtype is None:
            raise ModelError(
                f"{self.path.name}: input {in_name!r} has type {node.type}; "
                "edgeae models take float tensors"
            )
        batch_dim = node.shape[0] if node.shape else None
        self._fixed_batch = batch_dim if isinstance(batch_dim, int) and batch_dim > 0 else None
        dims = list(node.shape or [])
        self._any_size = len(dims) == 4 and not any(isinstance(d, int) for d in dims[2:])
        self._recon: str | None = None
        self._latent: str | None = None
        if m.role == "autoencoder":
            self._recon = "reconstruction" if "reconstruction" in out_names else out_names[0]
            others = [n for n in out_names if n != self._recon]
            self._latent = "latent" if "latent" in others else (others[0] if others else None)
        elif m.role == "encoder":
            self._latent = "latent" if "latent" in out_names else out_names[0]
        else:
            self._recon = "reconstruction" if "reconstruction" in out_names else out_names[0]

    # -- properties ----------------------------------------------------------------------
    @property
    def role(self) -> str:
        """``"autoencoder"``, ``"encoder"`` or ``"decoder"``."""
        return self.manifest.role

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one input item (no batch axis)."""
        return tuple(self.manifest.item_shape)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of one latent vector (no batch axis)."""
        return tuple(self.manifest.latent_shape)

    @property
    def any_size(self) -> bool:
        """True when the graph takes images of any height and width (a fully convolutional
        encoder or decoder exported with spatial axes): ``encode``/``decode`` then accept
        ``any_size=True`` batches, and a whole image is coded as one latent map."""
        return self._any_size

    @property
    def fingerprint(self) -> str:
        """The trained model's identity (shared by its model/encoder/decoder files)."""
        return self.manifest.provenance.fingerprint

    @property
    def signal(self) -> SignalSpec | None:
        """The framing of signals for this model, or None for non-signal models."""
        return self.manifest.signal

    def require_signal(self) -> SignalSpec:
        """The signal spec, or ManifestError telling the caller how to supply it."""
        if self.manifest.signal is None:
            how = "pass signal=SignalSpec(...) when loading the model"
            if self.manifest.windows is not None:  # windows of a signal stored without a rate
                how = (
                    f"it was trained on {self.manifest.windows.window}-sample windows of a "
                    "signal with no sample rate: train on FILE?rate=HZ to stream it, or "
                    + how
                )
            raise ManifestError(
                f"{self.path.name}: manifest.signal is missing (window, hop, sample rate, "
                f"channels); {how}"
            )
        return self.manifest.signal

    def __repr__(self) -> str:
        return (
            f"Model({str(self.path)!r}, role={self.role!r}, item_shape={self.item_shape}, "
            f"latent_shape={self.latent_shape})"
        )

    # -- running -------------------------------------------------------------------------
    def _require(self, op: str) -> None:
        if self.role not in _NEEDS[op]:
            raise ModelError(
                f"{self.path.name} is the {self.role}; {op}() needs {_FILES[_NEEDS[op][-1]]}"
            )
        if op == "encode" and self._latent is None:
            raise ModelError(
                f"{self.path.name} has no 'latent' output; encode() needs the encoder "
                "(encoder.onnx) or an autoencoder exported with its latent output"
            )

    def _run_model_space(
        self,
        output: str,
        x: np.ndarray,
        max_batch: int | None = None,
        *,
        finite: bool = False,
        check_output: bool = True,
    ) -> np.ndarray:
        """Run one graph output on an already-validated model-space batch, in slices.

        ``finite=True`` says ``x`` is known finite (raw frames checked on the way in,
        identity preprocessing): the overflow check of the input is skipped; the
        output's is not, unless ``check_output=False`` (the caller checks a result
        that is non-finite whenever the output is).
        """
        name = self._recon if output == "reconstruction" else self._latent
        if name is None or output not in ("reconstruction", "latent"):
            raise ModelError(f"{self._name} has no {output!r} output")
        step = self.max_batch if max_batch is None else _check_max_batch(max_batch)
        if self._fixed_batch is not None:
            step = min(step, self._fixed_batch)
        n = x.shape[0]
        if not finite:
            _check_overflow(x, self._name, f"{output} input (after preprocessing)")
        if x.dtype != self._in_dtype:
            x = x.astype(self._in_dtype)
        run, feed = self.session.run, self._input
        if n <= step:
            y = run([name], {feed: x})[0]
            if y.dtype != np.float32:
                y = y.astype(np.float32)
        else:
            parts = [run([name], {feed: x[i : i + step]})[0] for i in range(0, n, step)]
            y = np.concatenate(parts).astype(np.float32, copy=False)
        if check_output:
            _check_overflow(y, self._name, output)
        return y

    def _step_runner(self) -> Callable[[np.ndarray], list[np.ndarray]]:
        """A function running one finite model-space batch to ``[reconstruction, latent]`` in
        one unchecked call: a recurrent model's frame loop calls it per frame and checks the
        outputs of the whole run once (:meth:`_check_outputs`)."""
        if self._recon is None or self._latent is None:
            raise ModelError(f"{self._name} needs both a reconstruction and a latent output")
        run, names = self.session.run, [self._recon, self._latent]
        feed, dtype = self._input, self._in_dtype
        return lambda x: run(names, {feed: x if x.dtype == dtype else x.astype(dtype)})

    def _check_outputs(self, *arrays: np.ndarray) -> None:
        """Refuse non-finite outputs of finite inputs (float32 overflow), naming the model."""
        for a in arrays:
            _check_overflow(a, self._name, "output")

    def reconstruct(self, x: Any, *, max_batch: int | None = None) -> np.ndarray:
        """Reconstruct a raw batch ``(N, *item_shape)``; returns raw units, same shape."""
        self._require("reconstruct")
        xb = _as_batch(x, self.item_shape, f"{self.path.name}: reconstruct input")
        pre = self.manifest.preprocessing
        y = denormalize(self._run_model_space("reconstruction", normalize(xb, pre), max_batch), pre)
        _check_overflow(y, self._name, "reconstruction in raw units")
        return y

    def encode(self, x: Any, *, max_batch: int | None = None, any_size: bool = False) -> np.ndarray:
        """Latent vectors ``(N, *latent_shape)`` of a raw batch ``(N, *item_shape)``;
        ``any_size``: images of any height and width (:attr:`any_size` graphs only)."""
        self._require("encode")
        shape = self._sized(x, self.item_shape, any_size, "encode")
        xb = _as_batch(x, shape, f"{self.path.name}: encode input")
        return self._run_model_space(
            "latent", normalize(xb, self.manifest.preprocessing), max_batch
        )

    def decode(self, z: Any, *, max_batch: int | None = None, any_size: bool = False) -> np.ndarray:
        """Raw-unit reconstructions ``(N, *item_shape)`` of latents ``(N, *latent_shape)``;
        ``any_size``: latent maps of any height and width (:attr:`any_size` graphs only)."""
        self._require("decode")
        shape = self._sized(z, self.latent_shape, any_size, "decode")
        zb = _as_batch(z, shape, f"{self.path.name}: decode input")
        y = denormalize(
            self._run_model_space("reconstruction", zb, max_batch), self.manifest.preprocessing
        )
        _check_overflow(y, self._name, "reconstruction in raw units")
        return y

    def _sized(self, x: Any, shape: tuple[int, ...], any_size: bool, op: str) -> tuple[int, ...]:
        """The item shape a batch is checked against: ``shape``, or with ``any_size`` its
        channels and the batch's own height and width."""
        if not any_size:
            return shape
        if not self._any_size:
            raise ModelError(
                f"{self.path.name} takes only {shape} items; {op}(any_size=True) needs a graph "
                "with spatial axes (re-export a fully convolutional image model with edgeae "
                "export)"
            )
        dims = np.shape(x)
        return (shape[0], *dims[2:]) if len(dims) == 4 else shape

    @property
    def anomaly_spec(self) -> AnomalySpec:
        """The manifest's anomaly section, else the default (mse, upper tail, uncalibrated)."""
        spec = self.manifest.anomaly
        return spec if spec is not None else _default_anomaly()

    def errors(self, x: Any, *, max_batch: int | None = None) -> np.ndarray:
        """Per-item reconstruction error in model space (``manifest.anomaly.score``; mse)."""
        self._require("score")
        what, pre = f"{self.path.name}: score input", self.manifest.preprocessing
        free = overflow_free(pre)  # then a non-finite input is found from the errors
        xb = _as_batch(x, self.item_shape, what, finite=not free)
        return self._errors_model_space(
            normalize(xb, pre), max_batch, finite=free, raw=(xb, what) if free else None
        )

    def _errors_model_space(
        self,
        xn: np.ndarray,
        max_batch: int | None = None,
        *,
        finite: bool = False,
        raw: tuple[np.ndarray, str] | None = None,
    ) -> np.ndarray:
        """Per-item error of an already-normalized, validated batch (``finite``: known
        finite, as :meth:`_run_model_space` takes it; ``raw``: the raw batch and its name,
        not yet checked finite).

        A NaN or Inf in the input or the reconstruction makes its item's error NaN or
        Inf, so the errors are checked instead of both (only when that fails are they
        looked at, input first, for the message): at batch 1 each pass over the batch
        saved is microseconds, on the hot path of stream scoring.
        """
        from .metrics import per_item_error  # scoring only: not on a denoiser's import path

        y = self._run_model_space(
            "reconstruction", xn, max_batch, finite=finite, check_output=False
        )
        e = per_item_error(xn, y, self.anomaly_spec.score)
        if not math.isfinite(np.add.reduce(e)):  # errors are >= 0: a finite sum, all finite
            if raw is not None:
                check_finite(*raw)
            _check_overflow(y, self._name, "reconstruction")
        return e.astype(np.float32)

    def score(self, x: Any, *, max_batch: int | None = None) -> np.ndarray:
        """Per-item anomaly scores: the errors under the manifest's score law (``scores``)."""
        from .scores import score_law

        return score_law(self.errors(x, max_batch=max_batch), self.anomaly_spec)

    def _score_model_space(self, xn: np.ndarray, max_batch: int | None = None) -> np.ndarray:
        """Anomaly scores of an already-normalized, validated batch (used by stream scoring)."""
        from .scores import score_law

        return score_law(self._errors_model_space(xn, max_batch), self.anomaly_spec)
