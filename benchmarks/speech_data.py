"""Speech data for training and benchmarking the speech denoiser: file splits and noises.

Shared by ``train_speech_denoiser.py`` and ``bench_speech.py`` so both agree on
which files are held out. Everything comes from ``../shared/data/speech``
(``EDGEAE_SPEECH_DATA`` overrides it).

Only material whose licence allows shipping the trained model goes into
training (``../shared/data/README.md``: public domain, CC0, MIT, CC BY 4.0):

- training speech: LJSpeech clips (public domain) minus the validation and
  held-out files below, and the clean side of the VoiceBank-DEMAND p287 pairs
  ``VCTK_TRAIN_PAIRS`` (CC BY 4.0; ``VCTK_HELDOUT_PAIRS`` stay held out);
- training noise: the Speech Commands background recordings (CC BY 4.0) minus
  the stretches ``builtin:speech`` holds out, the real DEMAND noise of the
  training VoiceBank-DEMAND pairs (``noisy - clean``, CC BY 4.0), plus
  synthetic noises (:mod:`edgeae.data.synthetic_noise`: coloured noise, mains
  hum, amplitude-modulated noise, clicks, tones, rumble) and babble of other
  utterances.

CMU ARCTIC (BSD-style, "for measuring only") is never trained on: its clips
are speakers the model has not heard, measured by the benchmark.

Splits (by FILE, never by window of one file):
- validation (model selection): ``VAL_CLEAN`` mixed with the training noises;
- held out for the benchmark only: ``HELDOUT_CLEAN`` speech, every noise in
  ``HELDOUT_NOISE`` (none used in training: other noise types than training),
  the DNS and Freesound pairs and ``VCTK_HELDOUT_PAIRS``.

Mixing is edgeae's one mixer, :mod:`edgeae.data.mixing`: a random clean
segment (random offset, random speed/pitch factor so the model hears more
voices than the corpus has), a random noise (recorded with a random offset, or
synthetic) scaled by :func:`~edgeae.data.mixing.mix_at_snr` to an SNR drawn
uniformly in ``snr_db`` against the clean file's power, then
:func:`~edgeae.data.mixing.scale_to_level` (mixture RMS in ``level_db`` dBFS,
never past the 0.99 peak). Every epoch draws fresh mixtures from its own seed.
Optional noise augmentation (``MixLaw.rumble``, ``noise_eq``, ``noise_pair``; off in
the default law, which validation always uses): synthetic low-frequency rumble, a
random EQ on any noise, a second noise added to the first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeae.data.corpus import random_segment
from edgeae.data.mixing import add_second_noise, mix_at_snr, random_eq, scale_to_level
from edgeae.data.synthetic_noise import (
    babble_noise,
    loop_segment,
    play_faster,
    rumble_noise,
    synthetic_noise,
)
from edgeae_runtime.audio import read_wav
from edgeae_runtime.resample import resample

__all__ = [
    "HELDOUT_CLEAN",
    "HELDOUT_NOISE",
    "RATE",
    "VCTK_HELDOUT_PAIRS",
    "VCTK_PAIRS",
    "VCTK_TRAIN_PAIRS",
    "MixLaw",
    "SpeechCorpus",
    "data_root",
    "load",
    "random_eq",
    "rumble_noise",
]

RATE = 16000
HERE = Path(__file__).resolve().parent

VAL_CLEAN = ("ljspeech/LJ001-0025.wav", "ljspeech/LJ001-0026.wav", "ljspeech/LJ001-0027.wav")
HELDOUT_CLEAN = (
    "ljspeech/LJ001-0028.wav",
    "ljspeech/LJ001-0029.wav",
    "ljspeech/LJ001-0030.wav",
    "ljspeech/LJ001-0031.wav",
    "ljspeech/LJ050-0131.wav",
    "cmu_arctic/cmu_arctic_us_aew_a0003.wav",
    "cmu_arctic/cmu_arctic_us_axb_a0006.wav",
)
#: The VoiceBank-DEMAND p287 pairs (CC BY 4.0): four train, two held out for the benchmark.
VCTK_PAIRS = "vctk_demand_trainset_p287"
VCTK_TRAIN_PAIRS = ("p287_001.wav", "p287_002.wav", "p287_003.wav", "p287_005.wav")
VCTK_HELDOUT_PAIRS = ("p287_004.wav", "p287_006.wav")
TRAIN_NOISE = ("speech_commands_bg/doing_the_dishes.wav", "speech_commands_bg/exercise_bike.wav")
#: Seconds of each training noise left out: the stretches ``builtin:speech`` holds out
#: (edgeae/data/files/SPEECH-ATTRIBUTION.md), so the demo's mixtures are unseen noise.
TRAIN_NOISE_HELDOUT = {TRAIN_NOISE[0]: (60.0, 68.0), TRAIN_NOISE[1]: (40.0, 48.0)}
HELDOUT_NOISE = (
    "speechbrain_noise/noise1.wav",
    "speechbrain_noise/noise2.wav",
    "speechbrain_noise/noise3.wav",
    "speechbrain_noise/noise4.wav",
    "speechbrain_noise/noise5.wav",
    "esc50/1-100032-A-0.wav",
    "esc50/2-100648-A-43.wav",
    "esc50/3-103051-C-19.wav",
    "freesound/noise_freesound_573577.wav",
)


def data_root() -> Path:
    """The shared speech folder (``EDGEAE_SPEECH_DATA`` or ``../shared/data/speech``)."""
    env = os.environ.get("EDGEAE_SPEECH_DATA")
    return Path(env) if env else HERE.parent.parent / "shared" / "data" / "speech"


def load(path: Path) -> np.ndarray:
    """A mono float32 signal at 16 kHz (channels averaged, resampled if needed)."""
    x, rate = read_wav(path)
    x = x.mean(axis=0).astype(np.float32)
    return resample(x, rate, RATE).astype(np.float32) if rate != RATE else x


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def _without(x: np.ndarray, start_s: float, stop_s: float) -> np.ndarray:
    """``x`` with the stretch ``[start_s, stop_s)`` seconds cut out."""
    a, b = int(start_s * RATE), int(stop_s * RATE)
    return np.concatenate([x[:a], x[b:]])


@dataclass(frozen=True)
class MixLaw:
    """What training mixes: SNR and level ranges (dB), speed factors, clean-only share,
    and the share of each noise source (recorded, babble, the rest synthetic)."""

    snr_db: tuple[float, float] = (-5.0, 20.0)
    level_db: tuple[float, float] = (-38.0, -18.0)
    speed: tuple[float, float] = (0.88, 1.15)
    clean_only: float = 0.05
    recorded: float = 0.35
    babble: float = 0.15
    #: Noise augmentation (all 0 in the default law, so validation draws never change):
    #: share of synthetic noises that are low-frequency rumble, of noises put through a
    #: random EQ, and of mixtures with a second noise added at -10..+6 dB.
    rumble: float = 0.0
    noise_eq: float = 0.0
    noise_pair: float = 0.0


@dataclass
class SpeechCorpus:
    """Training/validation speech and training noise, loaded once."""

    train_clean: list[np.ndarray]
    val_clean: list[np.ndarray]
    train_noise: list[np.ndarray]
    train_files: list[str]
    noise_files: list[str]
    law: MixLaw = MixLaw()

    @classmethod
    def load(cls, root: Path | None = None, law: MixLaw | None = None) -> SpeechCorpus:
        root = root or data_root()
        clean_root = root / "clean"
        excluded = set(VAL_CLEAN) | set(HELDOUT_CLEAN)
        files = sorted(
            str(p.relative_to(clean_root)) for p in (clean_root / "ljspeech").glob("*.wav")
        )
        train_files = [f for f in files if f not in excluded]
        clean = [load(clean_root / f) for f in train_files]
        noise = [_without(load(root / "noise" / f), *TRAIN_NOISE_HELDOUT[f]) for f in TRAIN_NOISE]
        noise_files = list(TRAIN_NOISE)
        pairs = root / "pairs" / VCTK_PAIRS
        for f in VCTK_TRAIN_PAIRS:
            c, x = load(pairs / "clean" / f), load(pairs / "noisy" / f)
            k = min(len(c), len(x))
            clean.append(c[:k])
            noise.append((x[:k] - c[:k]).astype(np.float32))  # the recorded DEMAND noise
            train_files.append(f"pairs/{VCTK_PAIRS}/clean/{f}")
            noise_files.append(f"pairs/{VCTK_PAIRS}/noisy-clean/{f}")
        return cls(
            train_clean=clean,
            val_clean=[load(clean_root / f) for f in VAL_CLEAN],
            train_noise=noise,
            train_files=train_files,
            noise_files=noise_files,
            law=law or MixLaw(),
        )

    def noise(
        self, n: int, rng: np.random.Generator, pool: list[np.ndarray], law: MixLaw | None = None
    ) -> np.ndarray:
        """One noise segment: recorded, babble of other utterances, or synthetic (``law``),
        then the law's augmentation (EQ, a second noise)."""
        law = law or self.law
        out = self._one_noise(n, rng, pool, law)
        if law.noise_eq > 0 and rng.random() < law.noise_eq:
            out = random_eq(out, rng, RATE)
        if law.noise_pair > 0 and rng.random() < law.noise_pair:
            out = add_second_noise(out, self._one_noise(n, rng, pool, law), rng)
        return out

    def _one_noise(
        self, n: int, rng: np.random.Generator, pool: list[np.ndarray], law: MixLaw
    ) -> np.ndarray:
        u = rng.random()
        if u < law.recorded:
            return loop_segment(self.train_noise[int(rng.integers(len(self.train_noise)))], n, rng)
        if u < law.recorded + law.babble:
            return babble_noise(n, rng, pool)
        return synthetic_noise(n, rng, RATE, rumble=law.rumble)

    def mixtures(
        self, count: int, n: int, seed: int, *, val: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``count`` (noisy, clean) pairs of ``n`` samples, ``(count, n)`` each, from ``seed``.

        Validation mixtures use the default :class:`MixLaw` whatever ``law`` is, so
        runs with different laws are selected on the same data.
        """
        rng = np.random.default_rng(seed)
        pool = self.val_clean if val else self.train_clean
        law = MixLaw() if val else self.law
        noisy = np.zeros((count, n), dtype=np.float32)
        clean = np.zeros((count, n), dtype=np.float32)
        for i in range(count):
            s = pool[int(rng.integers(len(pool)))]
            if not val:
                s = play_faster(s, rng.uniform(*law.speed))
            power = _rms(s) ** 2
            c, _, _ = random_segment(s, n, rng)
            for _ in range(5):  # mostly silence: take another offset
                if _rms(c) ** 2 > 0.25 * power:
                    break
                c, _, _ = random_segment(s, n, rng)
            noise = self.noise(n, rng, self.train_clean, law)
            m = mix_at_snr(c, noise, float(rng.uniform(*law.snr_db)), clean_power=power)
            if not val and rng.random() < law.clean_only:  # some clean input: leave it alone
                m = c.copy()
            noisy[i], clean[i] = scale_to_level(m, c, float(rng.uniform(*law.level_db)))
        return noisy, clean
