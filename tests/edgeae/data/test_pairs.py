"""Paired folders: matching by name, clear errors for unmatched files, split by pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeae.data.pairs import PairCorpus, is_pair_folder, match_pairs
from edgeae.errors import DataError
from tests.edgeae.data.speech_files import babble, write_pairs
from tests.edgeae.data.writers import write_test_wav


def test_pairs_match_by_name_and_split_by_file(tmp_path: Path) -> None:
    root = write_pairs(tmp_path / "p", ["a.wav", "b.wav", "c.wav", "d.wav", "e.wav"])
    assert is_pair_folder(root) and not is_pair_folder(tmp_path)
    assert [k for k, _, _ in match_pairs(root)] == ["a", "b", "c", "d", "e"]
    corpus = PairCorpus.from_folder(root)
    train, val = set(corpus.train_files()), set(corpus.validation_files())
    assert val and train and not train & val and len(train | val) == 5
    noisy, clean = corpus.train_set(4000, length=3)[0]
    assert noisy.shape == clean.shape == (1, 4000)
    # The same window of both files of a pair.
    pair = next(p for p in corpus.pairs if _holds(p.clean, clean[0]))
    assert _holds(pair.noisy, noisy[0])
    assert [p.name for p in corpus.validation_pairs()] == corpus.validation_files()


def _holds(long: np.ndarray, seg: np.ndarray) -> bool:
    view = np.lib.stride_tricks.sliding_window_view(long, seg.size)
    return bool(np.any(np.all(view == seg, axis=1)))


def test_unmatched_files_are_named(tmp_path: Path) -> None:
    root = write_pairs(tmp_path / "p", ["a.wav", "b.wav"])
    write_test_wav(root / "noisy" / "only_noisy.wav", babble(0.5, 16000, 1), 16000, "pcm16")
    write_test_wav(root / "clean" / "only_clean.wav", babble(0.5, 16000, 1), 16000, "pcm16")
    with pytest.raises(DataError) as err:
        match_pairs(root)
    msg = str(err.value)
    assert "noisy/ files without a clean/ partner: only_noisy" in msg
    assert "clean/ files without a noisy/ partner: only_clean" in msg


def test_length_mismatch_and_missing_subfolder(tmp_path: Path) -> None:
    root = write_pairs(tmp_path / "p", ["a.wav", "b.wav"])
    write_test_wav(root / "noisy" / "a.wav", babble(0.3, 16000, 0), 16000, "pcm16")
    with pytest.raises(DataError, match="pair a: noisy has 4800 samples, clean 16000"):
        PairCorpus.from_folder(root)
    (tmp_path / "q" / "noisy").mkdir(parents=True)
    with pytest.raises(DataError, match="needs sub-folders noisy/ and clean/"):
        match_pairs(tmp_path / "q")


def test_val_1_holds_every_pair_out_for_evaluation(tmp_path: Path) -> None:
    from edgeae.data import load_source
    from edgeae.data.speech import load_speech

    root = write_pairs(tmp_path / "p", ["only.wav"])
    with pytest.raises(DataError, match=r"pairs:DIR&val=1"):
        load_speech(str(root))
    corpus = load_speech(f"pairs:{root}&val=1")
    assert corpus.train_files() == [] and corpus.validation_files() == ["only"]
    with pytest.raises(DataError, match="no training files"):
        corpus.train_set(4000)
    ds = load_source(f"pairs:{root}&val=1", window=128)
    assert ds.remix is None and ds.holdout.size == len(ds) > 0
