"""Denoise a WAV file with the pretrained speech denoiser (runtime only: numpy + onnxruntime).

    python examples/denoise_speech.py noisy.wav clean.wav
"""

import sys

from edgeae_runtime import Model, read_wav, write_wav
from edgeae_runtime.speech import denoise_signal

x, rate = read_wav(sys.argv[1])  # any rate 8-48 kHz, mono
write_wav(sys.argv[2], denoise_signal(Model.default("speech-denoiser"), x, rate), rate)
