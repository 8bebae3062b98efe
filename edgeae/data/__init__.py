"""Data for edgeae: file loaders, built-in datasets, signal framing, normalization, splits.

``load_source("builtin:digits")``, ``load_source("audio.wav", window=256)`` and
friends return a :class:`Dataset`; the trainer fits normalization on its training
split with :func:`fit_normalization` and stores the result with the model. Nothing
here imports torch.
"""

from .builtin import ANOMALY_KINDS as ANOMALY_KINDS
from .builtin import BuiltinInfo as BuiltinInfo
from .builtin import list_builtins as list_builtins
from .dataset import LAYOUTS as LAYOUTS
from .dataset import Dataset as Dataset
from .dataset import batches as batches
from .normalization import fit_normalization as fit_normalization
from .png import read_png as read_png
from .png import write_png as write_png
from .sources import load_source as load_source
from .split import normal_split as normal_split
from .split import split_indices as split_indices
from .wav import read_wav as read_wav
from .wav import write_wav as write_wav
from .windows import MIN_ANOMALY_FRACTION as MIN_ANOMALY_FRACTION
from .windows import frame_signal as frame_signal
from .windows import n_windows as n_windows
from .windows import window_labels as window_labels

__all__ = [
    "ANOMALY_KINDS",
    "LAYOUTS",
    "MIN_ANOMALY_FRACTION",
    "BuiltinInfo",
    "Dataset",
    "batches",
    "fit_normalization",
    "frame_signal",
    "list_builtins",
    "load_source",
    "n_windows",
    "normal_split",
    "read_png",
    "read_wav",
    "split_indices",
    "window_labels",
    "write_png",
    "write_wav",
]
