"""Speech sources by name (builtin:speech, mix:, paired folders), as corpora and as Datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source
from edgeae.data.builtin.speech import HELD_OUT_CLEAN, HELD_OUT_NOISE, bundle_dir
from edgeae.data.speech import is_speech_source, load_speech, parse_range
from edgeae.errors import DataError
from tests.edgeae.data.speech_files import write_corpus, write_pairs

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "speech"


def test_builtin_speech_bundle_is_small_real_and_held_out() -> None:
    files = list(bundle_dir().rglob("*.flac"))
    assert len(files) == 23 and sum(f.stat().st_size for f in files) <= 4_000_000
    assert (bundle_dir().parent / "SPEECH-ATTRIBUTION.md").is_file()
    corpus = load_speech("builtin:speech")
    assert corpus.validation_files() == [f"{n}.flac" for n in HELD_OUT_CLEAN]
    assert corpus.noise_files(True) == [f"{n}.flac" for n in HELD_OUT_NOISE]
    assert not set(corpus.train_files()) & set(corpus.validation_files())
    info = corpus.describe()
    assert info["clean"]["train_seconds"] > 100 and info["noise"]["seconds"] == 56.0


def test_source_strings_parse_and_fail_clearly(tmp_path: Path) -> None:
    clean, noise = write_corpus(tmp_path, n_clean=3, n_noise=2)
    src = f"mix:clean={clean}&noise={noise}&snr=0..5&level=-30..-20&val=0.34&seed=3"
    assert is_speech_source(src) and not is_speech_source(str(clean))
    c = load_speech(src, sample_rate=8000)
    assert c.sample_rate == 8000 and c.options.snr_db == (0.0, 5.0) and c.options.seed == 3
    assert parse_range("7", "snr", "x") == (7.0, 7.0)
    with pytest.raises(DataError, match="needs noise=FOLDER"):
        load_speech(f"mix:clean={clean}")
    with pytest.raises(DataError, match="unknown option 'snrr'"):
        load_speech(f"mix:clean={clean}&noise={noise}&snrr=3")
    with pytest.raises(DataError, match="not a number or a range"):
        load_speech("builtin:speech?snr=loud")
    with pytest.raises(DataError, match="low end is above"):
        load_speech("builtin:speech?snr=9..1")
    assert load_speech(f"mix:clean={clean}&noise={noise}&rumble=0", 8000).options.rumble == 0
    with pytest.raises(DataError, match="rumble must be a share"):
        load_speech(f"mix:clean={clean}&noise={noise}&rumble=2", 8000)


def test_load_source_frames_speech_with_a_file_holdout(tmp_path: Path) -> None:
    root = write_pairs(tmp_path / "p", ["a.wav", "b.wav", "c.wav", "d.wav"])
    ds = load_source(str(root), window=128, hop=64)
    assert ds.layout == "NCW" and ds.item_shape == (1, 128) and ds.target is not None
    assert ds.holdout is not None and 0 < ds.holdout.size < len(ds)
    assert ds.holdout[-1] == len(ds) - 1 and ds.corpus.kind == "pairs"
    x, t = ds.remix(1)
    assert x.shape == t.shape and x.shape[1:] == (1, 128)
    flat = load_source(str(root), window=128, layout="NF")
    assert flat.item_shape == (128,) and flat.remix(2)[0].shape[1:] == (128,)
    assert (
        load_source(str(root), window=128).fingerprint
        == load_source(str(root), window=128).fingerprint
    )
    with pytest.raises(DataError, match="do not apply to speech"):
        load_source(str(root), limit=3)


def test_segment_dataset_feeds_a_torch_dataloader() -> None:
    torch = pytest.importorskip("torch")
    corpus = load_speech("builtin:speech")
    loader = torch.utils.data.DataLoader(corpus.train_set(8000, length=8), batch_size=4)
    noisy, clean = next(iter(loader))
    assert noisy.shape == clean.shape == (4, 1, 8000) and noisy.dtype == torch.float32


def test_trainer_splits_speech_by_file() -> None:
    pytest.importorskip("torch")
    from edgeae.train.config import TrainConfig
    from edgeae.train.prepare import prepare, remix_epoch

    ds = load_source("builtin:speech?snr=0..10", window=256, hop=128)
    prep = prepare(ds, TrainConfig(epochs=1, batch_size=64))
    assert "by file" in prep.split and prep.val_x.shape[0] == ds.holdout.size
    before = prep.train_x.clone()
    assert remix_epoch(prep, 1) and not np.array_equal(before.numpy(), prep.train_x.numpy())
    assert not remix_epoch(prep, 0)


@pytest.mark.skipif(not (SHARED / "clean").is_dir(), reason="../shared/data/speech is absent")
def test_shared_folders_mix_and_pair_at_any_rate() -> None:
    clean_dir, noise_dir = SHARED / "clean" / "cmu_arctic", SHARED / "noise" / "esc50"
    c = load_speech(f"mix:clean={clean_dir}&noise={noise_dir}", sample_rate=8000)
    noisy, _clean = c.train_set(8000, length=2)[1]
    assert noisy.shape == (1, 8000) and np.isfinite(noisy).all()
    p = load_speech(str(SHARED / "pairs" / "vctk_demand_trainset_p287"))
    assert len(p.validation_pairs()) >= 1 and p.sample_rate == 16000


def test_load_source_resamples_to_the_model_rate(tmp_path: Path) -> None:
    from tests.edgeae.data.writers import write_test_wav

    t = np.arange(48000) / 48000
    wav = write_test_wav(
        tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 440 * t)[None], 48000, "pcm16"
    )
    ds = load_source(str(wav), window=256, sample_rate=16000)
    assert ds.sample_rate == 16000 and ds.signal.shape == (1, 16000)
    assert load_source(str(wav), window=256).sample_rate == 48000
    assert load_source("builtin:speech", sample_rate=8000).corpus.sample_rate == 8000
