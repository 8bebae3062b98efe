"""What a run tells the user: a progress bar, one line per epoch, and the loss-curve PNG.

No tqdm: a carriage-return bar on stderr, redrawn at most ten times a second, is
all a trainer needs and costs nothing measurable per batch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from edgeae_runtime.atomic import atomic_path

__all__ = ["Progress", "plot_losses"]


class Progress:
    """Progress bar and epoch log lines on ``stream`` (stderr); silent when disabled.

    The bar is drawn only on a terminal: in a log file or a CI transcript the
    carriage returns would be noise, so there only the epoch lines appear.
    """

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.bar = bool(enabled and isatty is not None and isatty())
        self._last = 0.0
        self._bar_shown = False

    def step(self, epoch: int, epochs: int, done: int, total: int, loss: float) -> None:
        """Redraw the bar for batch ``done`` of ``total`` (throttled)."""
        if not self.bar:
            return
        now = time.perf_counter()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 24
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\repoch {epoch}/{epochs} [{bar}] {done}/{total} loss {loss:.4g}")
        self.stream.flush()
        self._bar_shown = True

    def line(self, text: str) -> None:
        """One log line (clears the bar first)."""
        if not self.enabled:
            return
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()


def plot_losses(history: Sequence[dict[str, Any]], path: Path) -> str | None:
    """Write the train/val loss curves to ``path``; without matplotlib, return a note.

    A bare ``Figure`` on the Agg canvas (no pyplot: no global figure state, a lighter
    import) with fixed margins: ``tight_layout`` would measure every tick label first,
    which took longer than drawing the plot.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed: loss.png skipped (pip install matplotlib)"
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.96)
    ax = fig.add_subplot()
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if all(h["train_loss"] > 0 and h["val_loss"] > 0 for h in history):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return None
