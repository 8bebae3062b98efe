"""The model manifest: the one JSON document every exported model carries.

This module is the single source of truth for the schema. The exporter builds a
:class:`Manifest` and stores ``manifest.to_json()`` under :data:`MANIFEST_KEY` in
the ONNX file's ``metadata_props``; the runtime reads it back through
onnxruntime alone (``session.get_modelmeta().custom_metadata_map``), so a device
needs no side file and no flags. The schema is documented in docs/manifest.md.

No ``from __future__ import annotations`` here, deliberately: the field types are
real objects, so defining the dataclasses and reading their types back
(``get_type_hints`` in :func:`_build`) compiles no annotation strings, which is
most of what loading a model costs beyond onnxruntime (bench_runtime's footprint).
"""

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

from .errors import InputError, ManifestError

__all__ = [
    "LIMITS",
    "MANIFEST_KEY",
    "SCHEMA_VERSION",
    "AnomalySpec",
    "CodecSpec",
    "EntropySpec",
    "ExecutionAdvice",
    "LogMelSpec",
    "Manifest",
    "Parity",
    "Preprocessing",
    "Provenance",
    "QuantizationSpec",
    "SensorLogSpec",
    "SignalSpec",
    "SpectralSpec",
    "TensorSpec",
    "ThresholdMethod",
    "WindowSpec",
    "check_graph",
    "input_shape_of",
]

MANIFEST_KEY = "edgeae.manifest"
#: The newest schema version this runtime reads. A file is written with the lowest
#: version that holds its fields (:func:`required_version`), so a runtime that reads
#: only version 1 still opens every file that uses nothing newer.
SCHEMA_VERSION = 8

#: The bounds every manifest is held to (a hostile file cannot make the runtime
#: allocate more than these allow): JSON text size and nesting, dimensions, element
#: counts per item/latent, signal framing, tensors, list lengths, integer magnitude.
LIMITS: Mapping[str, int] = {
    "json_bytes": 1 << 20,
    "json_depth": 32,
    "dim": 1 << 20,
    "item_elements": 1 << 24,
    "sample_rate": 10_000_000,
    "channels": 1024,
    "window": 1 << 20,
    "tensors": 16,
    "list": 1 << 16,
    "int": 1 << 53,
}

class _Record:
    """The methods of the manifest's frozen dataclasses, written once for all of them.

    What ``@dataclass(frozen=True)`` would generate per class, with the same results:
    ``__init__`` (positional or keyword arguments in field order, defaults and default
    factories, then ``__post_init__``), ``repr`` (the fields in order), ``==`` (same
    class, equal fields), ``hash`` and immutability (assigning or deleting an attribute
    raises ``dataclasses.FrozenInstanceError``). Shared instead of compiled anew for each
    of the twelve classes at import: defining a dataclass compiles every method it
    generates, and these classes are on every device's model-load path (bench_runtime's
    footprint). ``dataclasses.fields``, ``replace`` and ``asdict`` work as on any
    dataclass.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        spec = _INIT.get(cls)
        if spec is None:
            spec = _INIT[cls] = tuple(
                (f.name, f.default, f.default_factory) for f in dataclasses.fields(cls)
            )
        name = cls.__qualname__
        if len(args) > len(spec):
            raise TypeError(
                f"{name}() takes {len(spec)} positional arguments but {len(args)} were given"
            )
        for (field_name, _, _), value in zip(spec, args, strict=False):
            if field_name in kwargs:
                raise TypeError(f"{name}() got multiple values for argument {field_name!r}")
            kwargs[field_name] = value
        if len(kwargs) > len(args):
            known = {n for n, _, _ in spec}
            for key in kwargs:
                if key not in known:
                    raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        for field_name, default, factory in spec:
            if field_name in kwargs:
                value = kwargs[field_name]
            elif default is not dataclasses.MISSING:
                value = default
            elif factory is not dataclasses.MISSING:
                value = factory()
            else:
                raise TypeError(f"{name}() missing required argument: {field_name!r}")
            object.__setattr__(self, field_name, value)
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
        )
        return f"{type(self).__qualname__}({shown})"

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.compare)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())


_INIT: dict[type, tuple[tuple[str, Any, Any], ...]] = {}

#: The manifest's record classes: dataclasses (fields, defaults) whose methods are
#: :class:`_Record`'s, frozen like ``@dataclass(frozen=True)``.
_record = dataclass(init=False, repr=False, eq=False)


Role = Literal["autoencoder", "encoder", "decoder"]
Layout = Literal["NF", "NCW", "NCHW"]


@_record
class TensorSpec(_Record):
    """One graph input or output: its name, shape (None for a dynamic axis) and dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"


@_record
class Preprocessing(_Record):
    """The affine normalization the runtime applies: ``x_model = (x - offset) / scale``.

    ``offset`` and ``scale`` hold one value, or one per channel (axis 0 of an
    item for NCW/NCHW layouts). ``clip`` bounds reconstructions in raw units
    (e.g. pixel range); ``value_range`` documents the raw range seen in training.
    """

    offset: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0,)
    clip: tuple[float, float] | None = None
    value_range: tuple[float, float] | None = None


@_record
class SignalSpec(_Record):
    """How a 1-D signal is cut into model windows and put back together."""

    sample_rate: int
    channels: int
    window: int
    hop: int
    synthesis_window: Literal["hann", "rect"] = "hann"


@_record
class WindowSpec(_Record):
    """The items are consecutive windows of one signal: ``window`` samples (per channel)
    starting every ``hop`` samples, so neighbours share ``window - hop`` of them.

    For models trained on signal windows whose manifest has no ``signal`` section: flat NF
    windows (dense models; an item is the ``(channels, window)`` window flattened) and
    signals without a sample rate. It describes the items only (the false-alarm law counts
    ``hop / window`` of them independent: :func:`edgeae_runtime.scores.item_independence`);
    streaming a signal still needs ``signal``. Schema version 6.
    """

    window: int
    hop: int

    def fits(self, layout: str, item_shape: tuple[int, ...]) -> bool:
        """Whether items of ``item_shape`` can be such windows: NF items hold channels x
        window values, NCW items are ``(channels, window)``; no other layout."""
        if layout == "NF":
            return item_shape[0] % self.window == 0
        return layout == "NCW" and item_shape[-1] == self.window


@_record
class LogMelSpec(_Record):
    """A log-mel front-end (:mod:`edgeae_runtime.logmel`): mono audio -> stacked log-mel items.

    ``frames`` log-mel frames of ``n_mels`` bands (``n_fft``-point frames every
    ``hop`` samples) make one item, laid out as the manifest's ``layout`` says
    (:meth:`item_shape`): NF a flat ``frames * n_mels`` vector (frame-major),
    NCW ``(n_mels, frames)`` (conv1d over time, mels as channels), NCHW
    ``(1, n_mels, frames)`` (conv2d over a patch of the spectrogram; version 5 for
    both 2-D forms). A clip's score is the ``reduce`` (mean or max) of its items' scores.
    """

    sample_rate: int
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 128
    frames: int = 5
    fmin: float = 0.0
    fmax: float | None = None
    reduce: Literal["mean", "max"] = "mean"

    def item_shape(self, layout: str) -> tuple[int, ...]:
        """The shape of one item in ``layout`` (NF, NCW or NCHW): the one shape law of
        the stacking (:func:`edgeae_runtime.logmel.stack_frames`) and the manifest check."""
        if layout == "NF":
            return (self.frames * self.n_mels,)
        if layout == "NCW":
            return (self.n_mels, self.frames)
        if layout == "NCHW":
            return (1, self.n_mels, self.frames)
        raise ManifestError(f"manifest.layout: log-mel items are NF, NCW or NCHW, got {layout!r}")


@_record
class SensorLogSpec(_Record):
    """How a CSV sensor log becomes the model's windows (:mod:`edgeae_runtime.sensorlog`).

    ``columns`` are the sensors in channel order; ``time`` names the timestamp column
    ("": the first one called time/timestamp/date/datetime/ts, else the first column).
    Readings are interpolated onto a grid of ``period`` seconds where both neighbours
    lie within ``max_gap`` seconds (else the point is missing); windows of
    ``item_shape[-1]`` grid points every ``hop`` are scored unless a point is missing.
    Schema version 4.
    """

    columns: tuple[str, ...]
    period: float
    max_gap: float
    hop: int
    time: str = ""


@_record
class SpectralSpec(_Record):
    """The STFT front-end of a spectral-mask denoiser (:mod:`edgeae_runtime.spectral`).

    Each ``signal.window``-sample frame is weighted by ``analysis_window`` and
    transformed with an ``fft_size``-point real FFT (``fft_size // 2 + 1`` bins);
    the model sees the compressed magnitudes (``|X| ** exponent`` for
    ``"power"``, ``log1p(|X|)`` for ``"log1p"``) of the current frame and the
    ``context_frames - 1`` frames before it, item shape ``(bins, context_frames)``,
    and outputs a ``mask`` in [0, 1] per bin, shape ``(bins, 1)``, that multiplies
    the noisy complex spectrum before the inverse FFT and overlap-add.
    ``noise_floor > 0`` appends one more column to each item: a noise-floor
    estimate of the features that rises by ``noise_floor`` and falls by
    ``min(1, 10 * noise_floor)`` of the gap per frame (items ``(bins, context_frames + 1)``).
    ``mask_floor`` in [0, 1) lifts the applied gain to ``mask_floor + (1 - mask_floor) * mask``
    (no bin is attenuated by more than ``mask_floor``; 0 = the mask as it is).
    """

    fft_size: int
    context_frames: int
    analysis_window: Literal["sqrt_hann"] = "sqrt_hann"
    compression: Literal["power", "log1p"] = "power"
    exponent: float = 0.3
    output: Literal["mask"] = "mask"
    noise_floor: float = 0.0
    mask_floor: float = 0.0

    @property
    def item_columns(self) -> int:
        """Columns of one item: the context frames, plus the noise floor when tracked."""
        return self.context_frames + (1 if self.noise_floor > 0 else 0)


#: The threshold laws a manifest may name (:mod:`edgeae_runtime.operating_point` implements
#: them and takes its ``METHODS`` from here). ``accuracy`` needs schema version 3.
ThresholdMethod = Literal["percentile", "mean_std", "far", "f1", "youden", "accuracy"]
#: Threshold methods newer than schema version 1, with the version that introduced them.
_METHOD_VERSION = {"accuracy": 3}


@_record
class AnomalySpec(_Record):
    """Anomaly scoring: per-item error, the score law, and its calibrated threshold.

    ``score`` names the per-item reconstruction error (model space). With
    ``tails="upper"`` the anomaly score is that error; with ``"both"`` it is
    ``|ln(error + 1e-12) - center|`` (``center``: median log error of normal items).
    An item is anomalous when its score is above ``threshold``. The law lives in
    :mod:`edgeae_runtime.scores`.

    ``method`` names the threshold law (:mod:`edgeae_runtime.operating_point`) with
    its parameter (``percentile``, ``k`` or ``target_far`` per ``far_per``);
    ``val_tpr``/``val_fpr`` are its rates on the calibration data (``val_tpr`` None
    without labelled anomalies there). ``hysteresis``, ``vote_k``-of-``vote_n`` and
    ``min_windows`` are the stream event law (:mod:`edgeae_runtime.events`).
    ``baseline_windows > 0`` standardizes scores, ``(score - baseline_center) /
    baseline_scale`` (median and upper spread of the calibration scores), and lets a stream
    re-estimate both over its last ``baseline_windows`` windows (drift;
    :class:`edgeae_runtime.scores.ScoreBaseline`); ``threshold`` is then in those units.
    ``clip_threshold`` (log-mel models) is the same law on held-out *clip* scores
    (``clip_normal`` normal and ``clip_anomalies`` anomalous clips): a clip is anomalous
    when its score (``features.reduce`` of its item scores) is above it; None: the item
    threshold is used.
    """

    score: Literal["mse", "mae"] = "mse"
    threshold: float = 0.0
    percentile: float = 99.0
    calibrated_on: str = ""
    tails: Literal["upper", "both"] = "upper"
    center: float = 0.0
    method: ThresholdMethod = "percentile"
    k: float = 3.0
    target_far: float = 0.01
    far_per: Literal["item", "hour"] = "item"
    val_tpr: float | None = None
    val_fpr: float | None = None
    val_normal: int = 0
    val_anomalies: int = 0
    hysteresis: float = 0.0
    vote_k: int = 1
    vote_n: int = 1
    min_windows: int = 1
    baseline_windows: int = 0
    baseline_center: float = 0.0
    baseline_scale: float = 1.0
    clip_threshold: float | None = None
    clip_normal: int = 0
    clip_anomalies: int = 0


@_record
class QuantizationSpec(_Record):
    """How the graph was quantized (``mode == "float32"`` for an unquantized model)."""

    mode: Literal["float32", "dynamic", "static", "fp16", "mixed"] = "float32"
    weight_type: str | None = None
    activation_type: str | None = None
    per_channel: bool = False
    reduce_range: bool = False
    calibration_method: str | None = None
    calibration_data: str | None = None
    excluded_nodes: tuple[str, ...] = ()
    excluded_op_types: tuple[str, ...] = ()
    metric: str | None = None
    max_drop: float | None = None
    measured_drop: float | None = None
    target: str | None = None  # the CPU kind the int8 types were chosen for: arm64, x86


@_record
class EntropySpec(_Record):
    """An entropy model of the codes, as integer tables (``K`` rows per latent channel).

    ``cdf[c * K + k]`` rises from 0 to ``2**precision``; its symbol ``s`` codes the value
    ``offset[c] + s``, its last symbol is the escape. ``K = len(thresholds) + 1``: a
    context model picks row ``k`` of channel ``c`` from the magnitudes of the already
    coded neighbours along the latent axes ``neighbours``; both empty is a factorized
    model (``K = 1``). ``adapt`` above 0 (schema version 8) makes the tables the prior of an
    adaptive model, of that weight in codes, whose rows adapt within a frame (split by
    the code's place in its latent when ``positions``). The coder, the context law and
    the checks live in :mod:`edgeae_runtime.codec.entropy`.
    """

    precision: int
    offset: tuple[int, ...]
    cdf: tuple[tuple[int, ...], ...]
    thresholds: tuple[int, ...] = ()
    neighbours: tuple[int, ...] = ()
    adapt: int = 0
    positions: bool = False


@_record
class CodecSpec(_Record):
    """Integer quantization of latent codes: ``code = round(z / scale) + zero_point``.

    ``scale``/``zero_point`` hold one value, or one per latent channel (axis 0
    of the latent shape). With an ``entropy`` model, codes are ``round(z / scale)``,
    unclipped, and rANS-coded with its tables (``bits`` then plays no part).
    ``entropy`` is the factorized model (one table per channel); ``context``, when
    present (schema version 7), a context model over the same symbols; ``adaptive``, when
    present (schema version 8), an adaptive model over them (format version 5). Streams
    use the adaptive model by default, else the context model.
    """

    bits: int = 8
    scale: tuple[float, ...] = (1.0,)
    zero_point: tuple[int, ...] = (0,)
    entropy: EntropySpec | None = None
    context: EntropySpec | None = None
    adaptive: EntropySpec | None = None


@_record
class ExecutionAdvice(_Record):
    """The execution path ``edgeae bench --openvino --record`` measured fastest for this file.

    A recommendation, never a requirement: ``Model(path, providers="recommended")``
    follows it when that provider is installed and otherwise runs onnxruntime's CPU
    path. ``speedup`` is OpenVINO's over onnxruntime on the same file at ``batch``
    items per call and ``threads`` threads (median of interleaved rounds), measured
    on ``machine`` (the CPU's name) on ``measured`` (ISO date). Schema version 2.
    """

    provider: Literal["onnxruntime", "openvino"]
    batch: int
    threads: int
    speedup: float
    machine: str = ""
    measured: str = ""


@_record
class Provenance(_Record):
    """Where a model came from; ``fingerprint`` is what compressed streams refer to.

    ``fingerprint`` identifies the trained model (same for model, encoder and
    decoder files and their quantized variants); ``file_fingerprint`` hashes
    this file's own graph and weights.
    """

    fingerprint: str
    file_fingerprint: str = ""
    data_fingerprint: str = ""
    versions: Mapping[str, str] = field(default_factory=dict)
    created: str = ""
    source: str = ""


@_record
class Parity(_Record):
    """Agreement measured at export between this file and its reference."""

    max_abs_error: float
    tolerance: float
    reference: str = "torch"
    samples: int = 0


@_record
class Manifest(_Record):
    """Everything the runtime needs to use a model correctly, with no flags."""

    role: Role
    arch: str
    layout: Layout
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    item_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]
    provenance: Provenance
    preprocessing: Preprocessing = Preprocessing()
    arch_config: Mapping[str, Any] = field(default_factory=dict)
    signal: SignalSpec | None = None
    spectral: SpectralSpec | None = None
    features: LogMelSpec | None = None
    anomaly: AnomalySpec | None = None
    quantization: QuantizationSpec = QuantizationSpec()
    codec: CodecSpec | None = None
    parity: Parity | None = None
    execution: ExecutionAdvice | None = None
    sensorlog: SensorLogSpec | None = None
    windows: WindowSpec | None = None
    schema_version: int = field(default=1, compare=False)  # derived: _required_version()

    def __post_init__(self) -> None:
        _check_manifest(self)
        object.__setattr__(self, "schema_version", _required_version(self))

    # -- serialization -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict (tuples become lists); unset :data:`_WRITTEN_WHEN_SET`
        fields are left out, so such a file is what a runtime without them reads."""
        return _to_plain(self)

    def to_json(self) -> str:
        """The compact JSON text stored in the ONNX metadata."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Manifest":
        """Build and validate a manifest; errors name the offending field."""
        if not isinstance(data, Mapping):
            raise ManifestError("manifest: expected a JSON object")
        _check_depth(data, "manifest", 1)
        version = data.get("schema_version")
        if isinstance(version, bool) or version not in range(1, SCHEMA_VERSION + 1):
            raise ManifestError(
                f"manifest.schema_version: this runtime reads versions 1..{SCHEMA_VERSION}, "
                f"the model has {version!r}; install a matching edgeae-runtime"
            )
        manifest = _build(cls, data, "manifest")
        if manifest.schema_version > version:
            raise ManifestError(
                f"manifest.schema_version: the model says {version}, but its fields need "
                f"version {manifest.schema_version}"
            )
        return manifest

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse the JSON text stored in a model's metadata (bounded in size and nesting)."""
        if not isinstance(text, str):
            raise ManifestError(f"manifest: expected JSON text, got {type(text).__name__}")
        if len(text) > LIMITS["json_bytes"]:
            raise ManifestError(
                f"manifest: {len(text)} characters of JSON, more than {LIMITS['json_bytes']}"
            )
        _check_text_depth(text)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"manifest: not valid JSON ({exc})") from None
        except (ValueError, RecursionError) as exc:  # e.g. an integer of 5000 digits
            raise ManifestError(f"manifest: unreadable JSON ({str(exc)[:120]})") from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> "Manifest":
        """A copy with some fields changed (the manifest itself is immutable)."""
        return dataclasses.replace(self, **changes)

    # -- convenience -----------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        return self.provenance.fingerprint

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one item of the graph's input: the latent's for a decoder."""
        return tuple(self.latent_shape if self.role == "decoder" else self.item_shape)


def input_shape_of(metadata: Mapping[str, str]) -> tuple[int, ...] | None:
    """:attr:`Manifest.input_shape` of the manifest in a model's metadata (an ONNX file's
    ``metadata_props`` or a session's ``custom_metadata_map``), None without a readable
    one (a foreign model: its graph's own dimensions are all there is)."""
    text = metadata.get(MANIFEST_KEY)
    if text is None:
        return None
    try:
        return Manifest.from_json(text).input_shape
    except ManifestError:  # a foreign or broken manifest: no item shape
        return None


#: Optional fields written only when set (not at their default), per record class: a file
#: that does not use one carries no key for it, so a runtime older than the field (which
#: refuses unknown fields) still opens it; a factorized model's codec (no ``context``, no
#: ``thresholds``/``neighbours``) is what a schema 5 runtime reads.
_WRITTEN_WHEN_SET: dict[type, tuple[str, ...]] = {
    Manifest: ("execution", "sensorlog", "windows"),
    CodecSpec: ("context", "adaptive"),
    EntropySpec: ("thresholds", "neighbours", "adapt", "positions"),
}


def _required_version(m: Manifest) -> int:
    """The lowest schema version that holds ``m``'s fields.

    2 once ``execution`` is set; 3 when ``anomaly.method`` is ``accuracy`` (a runtime
    reading only 1..2 then refuses the file by its version, not by an unknown value);
    4 with ``sensorlog``; 5 with ``features`` on 2-D items (layout NCW or NCHW: a
    runtime reading 1..4 knows only flat log-mel items); 6 with ``windows``; 7 with a
    context entropy model (``codec.context``); 8 with an adaptive one (``codec.adaptive``).
    """
    version = 2 if m.execution is not None else 1
    if m.anomaly is not None:
        version = max(version, _METHOD_VERSION.get(m.anomaly.method, 1))
    if m.sensorlog is not None:
        version = max(version, 4)
    if m.features is not None and m.layout != "NF":
        version = max(version, 5)
    if m.windows is not None:
        version = max(version, 6)
    if m.codec is not None and m.codec.context is not None:
        version = 7
    if m.codec is not None and m.codec.adaptive is not None:
        version = 8
    return version


def _to_plain(value: Any) -> Any:
    """Records as dicts (without their unset :data:`_WRITTEN_WHEN_SET` fields), tuples as
    lists, recursively: what ``dataclasses.asdict`` gives, JSON-ready."""
    if isinstance(value, _Record):
        skip = _WRITTEN_WHEN_SET.get(type(value), ())
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if not (f.name in skip and v == f.default):
                out[f.name] = _to_plain(v)
        return out
    if isinstance(value, Mapping):
        return {str(k): _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _build(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """Recursively build dataclass ``cls`` from ``data``, checking every field's type."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"{where}: expected an object, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ManifestError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ManifestError(f"{where}.{f.name}: required field is missing")
            continue
        kwargs[f.name] = _coerce(hints[f.name], data[f.name], f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except ManifestError:
        raise
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from None


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            raise ManifestError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if args and type(None) in args:  # Optional[X]
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0] if len(inner) == 1 else inner, value, where)
    if isinstance(tp, list):  # a union of several non-None types, e.g. int | None handled above
        for option in tp:
            try:
                return _coerce(option, value, where)
            except ManifestError:
                pass
        raise ManifestError(f"{where}: unexpected value {value!r}")
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ManifestError(f"{where}: expected a list, got {type(value).__name__}")
        if len(value) > LIMITS["list"]:
            raise ManifestError(f"{where}: {len(value)} values, more than {LIMITS['list']}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ManifestError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(
            _coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is Mapping or tp is Mapping:
        if not isinstance(value, Mapping):
            raise ManifestError(f"{where}: expected an object")
        return dict(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ManifestError(f"{where}: expected a number, got {value!r}")
        if isinstance(value, int) and abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
        if not math.isfinite(value):
            raise ManifestError(f"{where}: must be a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ManifestError(f"{where}: expected an integer, got {value!r}")
        if abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
        return value
    if tp in (str, bool):
        if not isinstance(value, tp):
            raise ManifestError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    if get_origin(tp) is None and isinstance(tp, type):
        if not isinstance(value, tp):
            raise ManifestError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    # X | Y unions without None
    for option in args:
        try:
            return _coerce(option, value, where)
        except ManifestError:
            pass
    raise ManifestError(f"{where}: unexpected value {value!r}")


def _check_features(m: Manifest) -> None:
    """Bounds of the log-mel front-end and its agreement with the item shape."""
    f = m.features
    assert f is not None
    if not 1000 <= f.sample_rate <= 768_000:
        raise ManifestError(f"manifest.features.sample_rate: 1000..768000 Hz, got {f.sample_rate}")
    if not 16 <= f.n_fft <= 16384:
        raise ManifestError(f"manifest.features.n_fft: must be in 16..16384, got {f.n_fft}")
    if not 1 <= f.hop <= f.n_fft:
        raise ManifestError(f"manifest.features.hop: must be in 1..n_fft ({f.n_fft}), got {f.hop}")
    if not 1 <= f.n_mels <= min(512, f.n_fft // 2 + 1):
        raise ManifestError(
            f"manifest.features.n_mels: must be in 1..{min(512, f.n_fft // 2 + 1)}, got {f.n_mels}"
        )
    if not 1 <= f.frames <= 64:
        raise ManifestError(f"manifest.features.frames: must be in 1..64, got {f.frames}")
    top = f.sample_rate / 2 if f.fmax is None else f.fmax
    finite = math.isfinite(f.fmin) and math.isfinite(top)
    if not (finite and 0 <= f.fmin < top <= f.sample_rate / 2):
        raise ManifestError(
            f"manifest.features.fmin/fmax: need 0 <= fmin < fmax <= {f.sample_rate / 2}"
        )
    want = f.item_shape(m.layout)
    if tuple(m.item_shape) != want:
        raise ManifestError(
            f"manifest.item_shape: features of {f.frames} frames x {f.n_mels} mels in layout "
            f"{m.layout} make items {want}, got {tuple(m.item_shape)}"
        )


def _check_windows(m: Manifest) -> None:
    """``windows`` only where nothing else records the framing, and agreeing with the items."""
    w = m.windows
    assert w is not None
    other = [n for n in ("signal", "features", "sensorlog") if getattr(m, n) is not None]
    if other:
        raise ManifestError(
            f"manifest.windows: the {other[0]} section already records how items are cut; "
            "windows is for signal windows without one"
        )
    if not 1 <= w.window <= LIMITS["window"]:
        raise ManifestError(
            f"manifest.windows.window: must be in 1..{LIMITS['window']}, got {w.window}"
        )
    if not 1 <= w.hop <= w.window:
        raise ManifestError(f"manifest.windows.hop: must be in 1..window ({w.window}), got {w.hop}")
    if not w.fits(m.layout, tuple(m.item_shape)):
        raise ManifestError(
            f"manifest.windows.window: {w.window} samples per window do not make items "
            f"{list(m.item_shape)} ({m.layout}); NF items hold channels x window values, "
            "NCW items (channels, window)"
        )


def _check_spectral(m: Manifest) -> None:
    """Bounds of the spectral front-end and its agreement with the item shape."""
    sp = m.spectral
    assert sp is not None
    if m.signal is None or m.signal.channels != 1:
        raise ManifestError("manifest.spectral: needs a mono manifest.signal (window, hop, rate)")
    if not m.signal.window <= sp.fft_size <= 8192:
        raise ManifestError(
            f"manifest.spectral.fft_size: must be in signal.window ({m.signal.window})..8192, "
            f"got {sp.fft_size}"
        )
    if not 1 <= sp.context_frames <= 256:
        raise ManifestError(
            f"manifest.spectral.context_frames: must be in 1..256, got {sp.context_frames}"
        )
    if not (math.isfinite(sp.exponent) and 0 < sp.exponent <= 1):
        raise ManifestError(f"manifest.spectral.exponent: must be in (0, 1], got {sp.exponent}")
    if not (math.isfinite(sp.noise_floor) and 0 <= sp.noise_floor <= 1):
        raise ManifestError(
            f"manifest.spectral.noise_floor: must be in [0, 1], got {sp.noise_floor}"
        )
    if not (math.isfinite(sp.mask_floor) and 0 <= sp.mask_floor < 1):
        raise ManifestError(
            f"manifest.spectral.mask_floor: must be in [0, 1), got {sp.mask_floor}"
        )
    want = (sp.fft_size // 2 + 1, sp.item_columns)
    if tuple(m.item_shape) != want:
        raise ManifestError(
            f"manifest.item_shape: a spectral model with fft_size {sp.fft_size} and "
            f"{sp.context_frames} context frames (noise floor {sp.noise_floor}) takes items "
            f"{list(want)}, got {list(m.item_shape)}"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _check_text_depth(text: str) -> None:
    """Refuse JSON nested deeper than ``LIMITS["json_depth"]`` before parsing it."""
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > LIMITS["json_depth"]:
            raise ManifestError(
                f"manifest: JSON nested deeper than {LIMITS['json_depth']} levels"
            )


def _check_depth(value: Any, where: str, depth: int) -> None:
    """The same bound for a manifest given as Python objects."""
    if depth > LIMITS["json_depth"]:
        raise ManifestError(f"{where}: nested deeper than {LIMITS['json_depth']} levels")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _check_depth(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_depth(v, f"{where}[{i}]", depth + 1)


def _check_values(value: Any, where: str, depth: int = 1) -> None:
    """Every number in the manifest finite and of bounded magnitude, the nesting bounded."""
    if depth > LIMITS["json_depth"]:
        raise ManifestError(f"{where}: nested deeper than {LIMITS['json_depth']} levels")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ManifestError(f"{where}: must be a finite number, got {value!r}")
    elif isinstance(value, int):
        if abs(value) > LIMITS["int"]:
            raise ManifestError(f"{where}: {_short(value)} is out of range")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _check_values(getattr(value, f.name), f"{where}.{f.name}", depth + 1)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_values(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        if len(value) > LIMITS["list"]:
            raise ManifestError(f"{where}: {len(value)} values, more than {LIMITS['list']}")
        for i, v in enumerate(value):
            _check_values(v, f"{where}[{i}]", depth + 1)


def _check_shape(shape: tuple[int, ...], name: str) -> None:
    if not 1 <= len(shape) <= 3:
        raise ManifestError(f"manifest.{name}: needs 1 to 3 dimensions, got {list(shape)}")
    if any(not 1 <= d <= LIMITS["dim"] for d in shape):
        raise ManifestError(
            f"manifest.{name}: dimensions must be in 1..{LIMITS['dim']}, got {list(shape)}"
        )
    if math.prod(shape) > LIMITS["item_elements"]:
        raise ManifestError(
            f"manifest.{name}: {math.prod(shape)} values per item, more than "
            f"{LIMITS['item_elements']}"
        )


def _check_tensors(m: Manifest) -> None:
    """Graph I/O specs: present, bounded, and agreeing with item/latent shapes."""
    item, latent = tuple(m.item_shape), tuple(m.latent_shape)
    for group in ("inputs", "outputs"):
        specs = getattr(m, group)
        if not specs:
            raise ManifestError(f"manifest.{group}: at least one is required")
        if len(specs) > LIMITS["tensors"]:
            raise ManifestError(f"manifest.{group}: {len(specs)} tensors, more than 16")
        for i, t in enumerate(specs):
            where = f"manifest.{group}[{i}]"
            if not t.name:
                raise ManifestError(f"{where}.name: must not be empty")
            dims_ok = all(d is None or 1 <= d <= LIMITS["dim"] for d in t.shape)
            if len(t.shape) > 4 or not dims_ok:
                raise ManifestError(f"{where}.shape: {list(t.shape)} is not a tensor shape")
    first = m.inputs[0]
    want = latent if m.role == "decoder" else item
    what = "latent_shape" if m.role == "decoder" else "item_shape"
    if first.shape and not _agrees(first.shape[1:], want):
        raise ManifestError(
            f"manifest.{what}: {list(want)} but manifest.inputs[0] ({first.name!r}) has "
            f"shape {list(first.shape)}"
        )
    recon = item
    if m.spectral is not None:  # a spectral model reconstructs a mask per bin: (bins, 1)
        recon = (m.spectral.fft_size // 2 + 1, 1)
    for i, t in enumerate(m.outputs):
        expect = {"reconstruction": (recon, "item_shape"), "latent": (latent, "latent_shape")}
        if t.name in expect and t.shape and not _agrees(t.shape[1:], expect[t.name][0]):
            field_, shape = expect[t.name][1], expect[t.name][0]
            raise ManifestError(
                f"manifest.{field_}: {list(shape)} but manifest.outputs[{i}] ({t.name!r}) "
                f"has shape {list(t.shape)}"
            )


def _agrees(dims: Any, shape: tuple[int, ...]) -> bool:
    """Whether graph dims (ints, or None/str for dynamic axes) can hold ``shape``."""
    dims = tuple(dims)
    if len(dims) != len(shape):
        return False
    return all(not isinstance(d, int) or d <= 0 or d == s for d, s in zip(dims, shape, strict=True))


def check_graph(
    m: Manifest,
    inputs: Sequence[tuple[str, Sequence[Any]]],
    outputs: Sequence[tuple[str, Sequence[Any]]],
    *,
    name: str = "model",
) -> None:
    """Check ``m`` against a graph's ``(name, shape)`` inputs and outputs, on load.

    The input named by ``manifest.inputs[0]`` must take ``(N, *item_shape)``
    (``latent_shape`` for a decoder) and the reconstruction/latent outputs must
    give ``item_shape``/``latent_shape`` wherever the graph states a dimension;
    a mismatch is a ManifestError naming the field instead of an onnxruntime
    error on the first run.
    """
    graph_in = dict((n, tuple(s)) for n, s in inputs)
    graph_out = dict((n, tuple(s)) for n, s in outputs)
    item, latent = tuple(m.item_shape), tuple(m.latent_shape)
    in_name = m.inputs[0].name
    if in_name not in graph_in:
        raise ManifestError(
            f"{name}: manifest.inputs[0].name is {in_name!r}, the graph's inputs are "
            f"{sorted(graph_in)}"
        )
    for i, t in enumerate(m.outputs):
        if t.name not in graph_out:
            raise ManifestError(
                f"{name}: manifest.outputs[{i}].name is {t.name!r}, the graph's outputs are "
                f"{sorted(graph_out)}"
            )
    want, what = (latent, "latent_shape") if m.role == "decoder" else (item, "item_shape")
    dims = graph_in.get(in_name)
    if dims is not None and dims and not _agrees(dims[1:], want):
        raise ManifestError(
            f"{name}: manifest.{what} is {list(want)} but the graph's input {in_name!r} takes "
            f"{_dims_text(dims)}"
        )
    names = [t.name for t in m.outputs]
    for out_name, (shape, field_) in _output_roles(m, names, item, latent).items():
        dims = graph_out.get(out_name)
        if dims is not None and dims and not _agrees(dims[1:], shape):
            raise ManifestError(
                f"{name}: manifest.{field_} is {list(shape)} but the graph's output "
                f"{out_name!r} gives {_dims_text(dims)}"
            )


def _output_roles(
    m: Manifest, names: list[str], item: tuple[int, ...], latent: tuple[int, ...]
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Which named outputs are the reconstruction and the latent (as Model binds them)."""
    roles: dict[str, tuple[tuple[int, ...], str]] = {}
    if m.spectral is not None:  # a mask output has its own shape
        return roles
    if m.role in ("autoencoder", "decoder"):
        recon = "reconstruction" if "reconstruction" in names else names[0]
        roles[recon] = (item, "item_shape")
        others = [n for n in names if n != recon]
        if m.role == "autoencoder" and others:
            roles["latent" if "latent" in others else others[0]] = (latent, "latent_shape")
    else:
        roles["latent" if "latent" in names else names[0]] = (latent, "latent_shape")
    return roles


def _dims_text(dims: tuple[Any, ...]) -> str:
    return "(" + ", ".join("N" if not isinstance(d, int) or d <= 0 else str(d) for d in dims) + ")"


def _check_manifest(m: Manifest) -> None:
    """Every rule in one place: finite numbers, bounded sizes, consistent shapes."""
    _check_values(m, "manifest")
    _check_shape(tuple(m.item_shape), "item_shape")
    _check_shape(tuple(m.latent_shape), "latent_shape")
    _check_tensors(m)
    expected_rank = {"NF": 1, "NCW": 2, "NCHW": 3}[m.layout]
    if len(m.item_shape) != expected_rank:
        raise ManifestError(
            f"manifest.item_shape: layout {m.layout} needs {expected_rank} dims per item, "
            f"got {list(m.item_shape)}"
        )
    p = m.preprocessing
    if len(p.offset) != len(p.scale):
        raise ManifestError("manifest.preprocessing: offset and scale must have the same length")
    channels = m.item_shape[0] if m.layout != "NF" else 1
    if len(p.scale) not in (1, channels):
        raise ManifestError(
            f"manifest.preprocessing.scale: needs 1 or {channels} values, got {len(p.scale)}"
        )
    if len(p.offset) not in (1, channels):
        raise ManifestError(
            f"manifest.preprocessing.offset: needs 1 or {channels} values, got {len(p.offset)}"
        )
    if any(not 1e-30 <= abs(s) <= 1e30 for s in p.scale):
        raise ManifestError(
            f"manifest.preprocessing.scale: values must be non-zero, with magnitude in "
            f"[1e-30, 1e30], got {list(p.scale)}"
        )
    if any(abs(o) > 1e30 for o in p.offset):
        raise ManifestError(
            f"manifest.preprocessing.offset: magnitude must be at most 1e30, got {list(p.offset)}"
        )
    for name in ("clip", "value_range"):
        pair = getattr(p, name)
        if pair is not None and not pair[0] < pair[1]:
            raise ManifestError(
                f"manifest.preprocessing.{name}: needs low < high, got {list(pair)}"
            )
    if m.signal is not None:
        s = m.signal
        for name in ("sample_rate", "channels", "window"):
            value, high = getattr(s, name), LIMITS[name]
            if not 1 <= value <= high:
                raise ManifestError(f"manifest.signal.{name}: must be in 1..{high}, got {value}")
        if not 0 < s.hop <= s.window:
            raise ManifestError(
                f"manifest.signal.hop: must be in 1..window ({s.window}), got {s.hop}"
            )
        if s.channels * s.window > LIMITS["item_elements"]:
            raise ManifestError(
                f"manifest.signal: {s.channels} channels x window {s.window} is more than "
                f"{LIMITS['item_elements']} values per window"
            )
    if m.spectral is not None:
        _check_spectral(m)
    if m.features is not None:
        _check_features(m)
    if m.codec is not None:
        c = m.codec
        if c.bits not in (4, 8, 16):
            raise ManifestError(f"manifest.codec.bits: must be 4, 8 or 16, got {c.bits}")
        if len(c.scale) != len(c.zero_point):
            raise ManifestError("manifest.codec: scale and zero_point must have the same length")
        if len(c.scale) not in (1, m.latent_shape[0]):
            raise ManifestError(
                f"manifest.codec.scale: needs 1 or {m.latent_shape[0]} values, got {len(c.scale)}"
            )
        if any(s <= 0 for s in c.scale):
            raise ManifestError("manifest.codec.scale: values must be positive")
        if c.entropy is not None:
            _check_entropy(c.entropy, m.latent_shape, "entropy")
        if c.context is not None:
            if c.entropy is None or not c.context.thresholds:
                raise ManifestError(
                    "manifest.codec.context: a context model (with thresholds) comes with "
                    "the factorized `entropy` tables"
                )
            _check_entropy(c.context, m.latent_shape, "context")
        if c.context is not None and c.context.adapt:
            raise ManifestError("manifest.codec.context.adapt: only the adaptive model adapts")
        if c.entropy is not None and c.entropy.adapt:
            raise ManifestError("manifest.codec.entropy.adapt: the factorized tables do not adapt")
        if c.adaptive is not None:
            if c.entropy is None or not c.adaptive.adapt:
                raise ManifestError(
                    "manifest.codec.adaptive: an adaptive model (adapt above 0) comes with "
                    "the factorized `entropy` tables"
                )
            _check_entropy(c.adaptive, m.latent_shape, "adaptive")
    if m.sensorlog is not None:
        g = m.sensorlog
        if m.layout != "NCW" or len(g.columns) != m.item_shape[0]:
            raise ManifestError(
                f"manifest.sensorlog.columns: {len(g.columns)} columns for items "
                f"{list(m.item_shape)} ({m.layout}); need one column per channel of NCW items"
            )
        if not (g.period > 0 and g.max_gap >= 0 and 1 <= g.hop <= m.item_shape[-1]):
            raise ManifestError(
                "manifest.sensorlog: needs period > 0, max_gap >= 0 and 1 <= hop <= window, "
                f"got period {g.period}, max_gap {g.max_gap}, hop {g.hop}"
            )
    if m.windows is not None:
        _check_windows(m)
    if m.execution is not None:
        e = m.execution
        if not (1 <= e.batch <= LIMITS["dim"] and 1 <= e.threads <= 1024 and e.speedup > 0):
            raise ManifestError(
                "manifest.execution: needs batch >= 1, threads in 1..1024 and speedup > 0, got "
                f"batch {e.batch}, threads {e.threads}, speedup {e.speedup}"
            )
    if m.anomaly is not None:
        if not 0 < m.anomaly.percentile <= 100:
            raise ManifestError("manifest.anomaly.percentile: must be in (0, 100]")
        if m.anomaly.tails not in ("upper", "both"):
            raise ManifestError(
                f"manifest.anomaly.tails: must be 'upper' or 'both', got {m.anomaly.tails!r}"
            )
        for name in ("threshold", "center"):
            if not math.isfinite(getattr(m.anomaly, name)):
                raise ManifestError(f"manifest.anomaly.{name}: must be a finite number")
        _check_operating_point(m.anomaly)


def _check_entropy(e: EntropySpec, latent_shape: tuple[int, ...], name: str) -> None:
    """The entropy tables must be valid coder tables, one per latent channel and context,
    with context neighbours along axes the latents have."""
    from .codec.entropy import EntropyTables  # the codec imports this module

    channels = latent_shape[0]
    if len(e.offset) != channels:
        raise ManifestError(
            f"manifest.codec.{name}.offset: needs one table per latent channel ({channels}), "
            f"got {len(e.offset)} offsets"
        )
    if any(not 0 <= a < len(latent_shape) for a in e.neighbours):
        raise ManifestError(
            f"manifest.codec.{name}.neighbours: {list(e.neighbours)} are not all axes of "
            f"latents of shape {list(latent_shape)}"
        )
    try:
        EntropyTables.from_spec(e)
    except InputError as exc:
        raise ManifestError(f"manifest.codec.{name}.{exc.param}: {exc.message}") from None


def _check_operating_point(a: AnomalySpec) -> None:
    """Bounds of the threshold law's parameters, its validation rates and the event law."""
    if not (math.isfinite(a.k) and 0 <= a.k <= 100):
        raise ManifestError(f"manifest.anomaly.k: must be in [0, 100], got {a.k}")
    if a.far_per == "item" and not 0 < a.target_far < 1:
        raise ManifestError(
            f"manifest.anomaly.target_far: a per-item rate in (0, 1), got {a.target_far}"
        )
    if a.far_per == "hour" and not (math.isfinite(a.target_far) and 0 < a.target_far <= 1e6):
        raise ManifestError(
            f"manifest.anomaly.target_far: false alarms per hour in (0, 1e6], got {a.target_far}"
        )
    for name in ("val_tpr", "val_fpr"):
        value = getattr(a, name)
        if value is not None and not 0 <= value <= 1:
            raise ManifestError(f"manifest.anomaly.{name}: a rate in [0, 1], got {value}")
    for name in ("val_normal", "val_anomalies"):
        if getattr(a, name) < 0:
            raise ManifestError(f"manifest.anomaly.{name}: must be >= 0")
    if not 0 <= a.hysteresis < 1:
        raise ManifestError(f"manifest.anomaly.hysteresis: must be in [0, 1), got {a.hysteresis}")
    if not 1 <= a.vote_k <= a.vote_n <= 1024:
        raise ManifestError(
            "manifest.anomaly.vote_k/vote_n: need 1 <= k <= n <= 1024, "
            f"got {a.vote_k}-of-{a.vote_n}"
        )
    if not 1 <= a.min_windows <= 1_000_000:
        raise ManifestError(
            f"manifest.anomaly.min_windows: must be in 1..1000000, got {a.min_windows}"
        )
    if not 0 <= a.baseline_windows <= 1_000_000:
        raise ManifestError(
            f"manifest.anomaly.baseline_windows: must be in 0..1000000, got {a.baseline_windows}"
        )
    if not (math.isfinite(a.baseline_center) and math.isfinite(a.baseline_scale)):
        raise ManifestError("manifest.anomaly.baseline_center/baseline_scale: must be finite")
    if a.clip_threshold is not None and not math.isfinite(a.clip_threshold):
        raise ManifestError("manifest.anomaly.clip_threshold: must be a finite number or null")
    if a.clip_normal < 0 or a.clip_anomalies < 0:
        raise ManifestError("manifest.anomaly.clip_normal/clip_anomalies: must be >= 0")
    if not a.baseline_scale > 0:
        raise ManifestError(
            f"manifest.anomaly.baseline_scale: must be > 0, got {a.baseline_scale}"
        )
