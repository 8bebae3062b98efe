"""Task metrics the host adds to the runtime's (:mod:`edgeae_runtime.metrics`): speech quality.

SNR and SI-SNR live in the runtime (numpy only, also on the device); PESQ and
STOI need the optional ``metrics`` extra (``pip install 'edgeae[metrics]'``).
"""

from .speech import SPEECH_METRICS as SPEECH_METRICS
from .speech import metric_function as metric_function
from .speech import pesq_wb as pesq_wb
from .speech import speech_scores as speech_scores
from .speech import stoi as stoi

__all__ = ["SPEECH_METRICS", "metric_function", "pesq_wb", "speech_scores", "stoi"]
