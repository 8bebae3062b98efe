"""The manifest's schema: its records, from :class:`TensorSpec` to :class:`Manifest`.

One frozen dataclass per section of the JSON document (docs/manifest.md), with the
schema version each field needs (:func:`_required_version`) and the record -> JSON form
(:func:`_to_plain`: optional fields written only when set, so a file that does not use
a newer field still opens in an older runtime). Building a record runs every check
(:mod:`.checks`); reading JSON goes through :mod:`.coerce` within the bounds of
:mod:`.limits`.

No ``from __future__ import annotations`` here, deliberately: the field types are
real objects, so defining the dataclasses and reading their types back
(``get_type_hints`` in :func:`~.coerce._build`) compiles no annotation strings, which is
most of what loading a model costs beyond onnxruntime (bench_runtime's footprint).
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal

from ..errors import ManifestError
from .checks import _check_manifest
from .coerce import _build
from .limits import LIMITS, _check_depth, _check_text_depth
from .record import _Record, _record

MANIFEST_KEY = "edgeae.manifest"
#: The newest schema version this runtime reads. A file is written with the lowest
#: version that holds its fields (:func:`required_version`), so a runtime that reads
#: only version 1 still opens every file that uses nothing newer.
SCHEMA_VERSION = 9


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
    ``state > 0`` (schema version 9) makes the model recurrent: one last item column whose
    first ``state`` rows hold the model's latent ``(state, 1)`` of the previous frame (zero
    at the start of a stream), the rest zero; the runtime feeds each latent back.
    """

    fft_size: int
    context_frames: int
    analysis_window: Literal["sqrt_hann"] = "sqrt_hann"
    compression: Literal["power", "log1p"] = "power"
    exponent: float = 0.3
    output: Literal["mask"] = "mask"
    noise_floor: float = 0.0
    mask_floor: float = 0.0
    state: int = 0

    @property
    def item_columns(self) -> int:
        """Columns of one item: the context frames, the noise floor when tracked, the
        state when recurrent."""
        return self.context_frames + int(self.noise_floor > 0) + int(self.state > 0)


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
    SpectralSpec: ("state",),
}


def _required_version(m: Manifest) -> int:
    """The lowest schema version that holds ``m``'s fields.

    2 once ``execution`` is set; 3 when ``anomaly.method`` is ``accuracy`` (a runtime
    reading only 1..2 then refuses the file by its version, not by an unknown value);
    4 with ``sensorlog``; 5 with ``features`` on 2-D items (layout NCW or NCHW: a
    runtime reading 1..4 knows only flat log-mel items); 6 with ``windows``; 7 with a
    context entropy model (``codec.context``); 8 with an adaptive one (``codec.adaptive``);
    9 with a recurrent spectral model (``spectral.state``).
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
    if m.spectral is not None and m.spectral.state > 0:
        version = 9
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
