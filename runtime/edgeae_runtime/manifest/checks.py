"""The manifest's cross-field rules: what :meth:`Manifest.__post_init__` checks.

:func:`_check_manifest` runs every rule on every manifest however it is built (from JSON,
by the exporter, by ``replace``): consistent shapes, tensors and layouts, the signal,
spectral, log-mel, sensor-log and window framings against the items, the codec's
quantization and entropy tables, and the anomaly operating point. The generic bounds
(finite numbers, bounded sizes) it applies come from :mod:`.limits`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import InputError, ManifestError
from .limits import LIMITS, _check_shape, _check_values

if TYPE_CHECKING:  # the schema's records call these checks: no import at run time
    from .schema import AnomalySpec, EntropySpec, Manifest


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
    bins = sp.fft_size // 2 + 1
    if isinstance(sp.state, bool) or not 0 <= sp.state <= bins:
        raise ManifestError(
            f"manifest.spectral.state: must be in 0..{bins} (the bins), got {sp.state}"
        )
    if sp.state and tuple(m.latent_shape) != (sp.state, 1):
        raise ManifestError(
            f"manifest.latent_shape: a recurrent spectral model's latent is its state "
            f"[{sp.state}, 1], got {list(m.latent_shape)}"
        )
    want = (bins, sp.item_columns)
    if tuple(m.item_shape) != want:
        raise ManifestError(
            f"manifest.item_shape: a spectral model with fft_size {sp.fft_size} and "
            f"{sp.context_frames} context frames (noise floor {sp.noise_floor}, state "
            f"{sp.state}) takes items {list(want)}, got {list(m.item_shape)}"
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
    from ..codec.entropy import EntropyTables  # the codec imports this module

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
