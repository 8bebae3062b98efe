"""PNG plots for reports, drawn with matplotlib imported only when a plot is made.

matplotlib is the optional ``edgeae[report]`` extra: :func:`matplotlib_available`
tells the report writer whether it can draw at all, and every function here
writes one PNG atomically (temp file, then rename). Figures are built with the
object API (no pyplot global state), so plotting is safe in any process.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeae_runtime.atomic import atomic_path

__all__ = [
    "error_histograms",
    "examples_plot",
    "matplotlib_available",
    "roc_plot",
    "signal_plot",
    "sqnr_bars",
]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#7f7f7f")


def matplotlib_available() -> bool:
    """True when matplotlib can be imported (``pip install edgeae[report]``)."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    with atomic_path(p) as tmp:
        fig.savefig(tmp, format="png")
    return p


def error_histograms(errors: Mapping[str, np.ndarray], path: str | Path, *, unit: str = "") -> Path:
    """Overlaid histograms (log-spaced bins) of per-item reconstruction error, one per model."""
    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    values = [np.asarray(v, dtype=np.float64) for v in errors.values()]
    positive = np.concatenate([v[v > 0] for v in values]) if values else np.array([])
    if positive.size:
        bins = np.geomspace(positive.min(), positive.max() * 1.0001, 40)
        ax.set_xscale("log")
    else:
        bins = 40
    for (name, v), color in zip(errors.items(), _COLORS, strict=False):
        ax.hist(
            np.clip(v, positive.min() if positive.size else 0, None),
            bins=bins,
            alpha=0.5,
            color=color,
            label=f"{name} (median {np.median(v):.3g})",
        )
    ax.set_xlabel(f"per-item MSE{unit}")
    ax.set_ylabel("items")
    ax.legend()
    return _save(fig, path)


def examples_plot(
    inputs: np.ndarray,
    rows: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    image_shape: tuple[int, ...] | None = None,
    sample_rate: int | None = None,
    titles: Sequence[str] | None = None,
) -> Path:
    """A few items and their reconstructions: images as a grid, signals as line plots.

    ``rows`` maps a name (``"reference"``, ``"A"``, ``"B"``) to arrays shaped like
    ``inputs``; ``titles`` (one per item) label the items, e.g. normal/anomaly.
    """
    k = inputs.shape[0]
    if image_shape is not None:
        names = ["input", *rows]
        arrays = [inputs, *rows.values()]
        fig = _figure(1.6 * k + 1, 1.6 * len(names))
        axes = fig.subplots(len(names), k, squeeze=False)
        lo = float(min(a.min() for a in arrays))
        hi = float(max(a.max() for a in arrays))
        for r, (name, arr) in enumerate(zip(names, arrays, strict=True)):
            for c in range(k):
                img = arr[c].reshape(image_shape)
                img = img[0] if img.shape[0] == 1 else np.moveaxis(img[:3], 0, -1)
                ax = axes[r][c]
                ax.imshow(img, cmap="gray", vmin=lo, vmax=hi)
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0:
                    ax.set_ylabel(name)
                if r == 0 and titles is not None:
                    ax.set_title(titles[c], fontsize="small")
        return _save(fig, path)
    fig = _figure(10, 2.0 * k + 0.5)
    axes = fig.subplots(k, 1, squeeze=False)
    for c in range(k):
        ax = axes[c][0]
        x = inputs[c].reshape(inputs.shape[1], -1)[0] if inputs.ndim > 2 else inputs[c]
        t = np.arange(x.size) / sample_rate if sample_rate else np.arange(x.size)
        ax.plot(t, x, color=_COLORS[3], lw=0.8, label="input")
        for (name, arr), color in zip(rows.items(), _COLORS, strict=False):
            y = arr[c].reshape(arr.shape[1], -1)[0] if arr.ndim > 2 else arr[c]
            ax.plot(t, y, color=color, lw=0.9, alpha=0.85, label=name)
        if c == 0:
            ax.legend(loc="upper right", fontsize="small", ncols=len(rows) + 1)
        if titles is not None:
            ax.set_title(titles[c], fontsize="small", loc="left")
    axes[-1][0].set_xlabel("seconds" if sample_rate else "sample")
    return _save(fig, path)


def sqnr_bars(nodes: Sequence[tuple[str, str, float]], path: str | Path, *, top: int = 20) -> Path:
    """Horizontal bars of ``(node, op_type, value_db)``, worst first (the order given)."""
    shown = list(nodes)[:top]
    fig = _figure(8, 0.32 * len(shown) + 1.2)
    ax = fig.add_subplot()
    labels = [f"{n} ({op})" for n, op, _ in shown]
    values = [v for _, _, v in shown]
    ax.barh(range(len(shown)), values, color=_COLORS[1])
    ax.set_yticks(range(len(shown)), labels, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("SQNR lost in the node (dB), most harmful first")
    return _save(fig, path)


def roc_plot(curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]], path: str | Path) -> Path:
    """ROC curves ``name -> (fpr, tpr, auroc)`` with the chance diagonal."""
    fig = _figure(4.5, 4.5)
    ax = fig.add_subplot()
    for (name, (fpr, tpr, area)), color in zip(curves.items(), _COLORS, strict=False):
        ax.plot(fpr, tpr, color=color, lw=1.5, label=f"{name} (AUROC {area:.3f})")
    ax.plot([0, 1], [0, 1], color=_COLORS[3], lw=0.8, ls="--")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    return _save(fig, path)


def rd_plot(
    curves: Mapping[str, Sequence[tuple[float, float]]],
    path: str | Path,
    *,
    x_label: str,
    y_label: str = "PSNR (dB)",
) -> Path:
    """Rate-distortion curves ``name -> [(rate, quality), ...]``, one line each."""
    fig = _figure(5.0, 3.6)
    ax = fig.add_subplot()
    for (name, points), color in zip(curves.items(), _COLORS, strict=False):
        xs, ys = zip(*sorted(points), strict=True) if points else ((), ())
        ax.plot(xs, ys, color=color, marker="o", ms=3, lw=1.2, label=name)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def signal_plot(
    traces: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    sample_rate: int,
    spans: Sequence[tuple[int, int]] = (),
    threshold: float | None = None,
) -> Path:
    """Stacked line plots of 1-D traces sharing a time axis; ``spans`` shade sample ranges."""
    fig = _figure(10, 1.8 * len(traces) + 0.6)
    axes = fig.subplots(len(traces), 1, squeeze=False, sharex=True)
    for (name, y), ax, color in zip(traces.items(), axes[:, 0], _COLORS * 4, strict=False):
        y = np.asarray(y).reshape(-1)
        ax.plot(np.arange(y.size) / sample_rate, y, color=color, lw=0.6)
        ax.set_ylabel(name, fontsize="small")
        for start, end in spans:
            ax.axvspan(start / sample_rate, end / sample_rate, color="#ffbf00", alpha=0.25)
        if name.startswith("score"):
            if np.all(y > 0):  # scores span decades: the threshold is readable on a log axis
                ax.set_yscale("log")
            if threshold is not None:
                ax.axhline(threshold, color=_COLORS[1], ls="--", lw=0.8)
    axes[-1][0].set_xlabel("seconds")
    return _save(fig, path)


def spectrogram_plot(
    signals: Mapping[str, np.ndarray], path: str | Path, *, sample_rate: int
) -> Path:
    """Stacked spectrograms (dB, one colour scale) of 1-D signals sharing a time axis."""
    fig = _figure(10, 1.9 * len(signals) + 0.6)
    axes = fig.subplots(len(signals), 1, squeeze=False, sharex=True)
    for (name, y), ax in zip(signals.items(), axes[:, 0], strict=True):
        y = np.asarray(y, dtype=np.float64).reshape(-1) + 1e-9
        ax.specgram(y, NFFT=512, Fs=sample_rate, noverlap=384, cmap="magma", vmin=-130, vmax=-20)
        ax.set_ylabel(f"{name}\nHz", fontsize="small")
    axes[-1][0].set_xlabel("seconds")
    return _save(fig, path)
