"""logmel: sources (machine-sound folders) and a log-mel model scored on audio by the runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.data import load_source
from edgeae.data.wav import write_wav
from edgeae.errors import DataError

RATE = 16000


def _clips(folder: Path, normal: int = 4, anomalous: int = 1, seconds: float = 0.5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(RATE * seconds)) / RATE
    for i in range(normal + anomalous):
        hum = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
        if i >= normal:  # a knocking bearing: broadband bursts
            hum += 0.5 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 8 * t) > 0.9)
        name = f"{'normal' if i < normal else 'anomaly'}_id_00_{i:08d}.wav"
        write_wav(folder / name, hum[None].astype(np.float32), RATE)
    return folder


def test_folder_becomes_stacked_logmel_items_with_clip_labels(tmp_path: Path) -> None:
    folder = _clips(tmp_path / "clips")
    ds = load_source(f"logmel:{folder}?n_fft=256&hop=128&n_mels=32&frames=3")
    assert ds.layout == "NF" and ds.item_shape == (96,)
    assert ds.features.n_mels == 32 and ds.features.sample_rate == RATE
    per_clip = np.bincount(ds.clips)
    assert per_clip.size == 5 and (per_clip == per_clip[0]).all()
    assert ds.anomaly_labels is not None
    np.testing.assert_array_equal(
        ds.anomaly_labels, (ds.clips == 0).astype(int)
    )  # sorted: anomaly_ first


def test_bad_logmel_sources_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no \.wav clips"):
        (tmp_path / "empty").mkdir()
        load_source(f"logmel:{tmp_path / 'empty'}")
    folder = _clips(tmp_path / "c", 2, 0)
    with pytest.raises(DataError, match="unknown option"):
        load_source(f"logmel:{folder}?mels=3")
    with pytest.raises(DataError, match="n_mels"):
        load_source(f"logmel:{folder}?n_fft=64&n_mels=100")


@pytest.mark.slow
def test_logmel_model_trains_exports_and_scores_audio_live(tmp_path: Path) -> None:
    from edgeae.cli import main

    folder = _clips(tmp_path / "clips", normal=12, anomalous=1)
    source = f"logmel:{folder}?n_fft=256&hop=128&n_mels=32&frames=3"
    r = CliRunner()
    out = r.invoke(
        main,
        ["train", source, "-o", str(tmp_path / "run"), "--epochs", "3", "--batch-size", "64",
         "--val-fraction", "0.5", "-q"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    out = r.invoke(main, ["export", str(tmp_path / "run"), "-o", str(tmp_path / "m")])
    assert out.exit_code == 0, out.output
    model = tmp_path / "m" / "model.onnx"
    clip = folder / "anomaly_id_00_00000012.wav"
    out = r.invoke(main, ["score", "-m", str(model), str(clip), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output[out.output.index("{") :])
    from edgeae_runtime import Model
    from edgeae_runtime.anomaly import ClipScorer  # the device's own path
    from edgeae_runtime.audio import read_wav

    signal, _ = read_wav(clip)
    scores, clip_score = ClipScorer(Model(model)).score_clip(signal)
    np.testing.assert_allclose(result["scores"], scores, rtol=1e-5)
    assert result["clip_score"] == pytest.approx(clip_score)
    normal_score = ClipScorer(Model(model)).score_clip(
        read_wav(folder / "normal_id_00_00000000.wav")[0]
    )[1]
    assert clip_score > normal_score
    # the clip verdict uses the clip-level threshold calibrated on the held-out normal clips
    spec = Model(model).manifest.anomaly
    assert spec.clip_threshold is not None and spec.clip_normal == 6
    assert result["clip_threshold"] == pytest.approx(spec.clip_threshold)
    assert result["clip_anomalous"] == (clip_score > spec.clip_threshold)
    # a multichannel recording (MIMII's 8 microphones) is scored on --channel, 0 by default
    from edgeae_runtime.audio import write_wav

    other = np.zeros_like(signal)
    write_wav(tmp_path / "st.wav", np.concatenate([signal, other]), 16000, subtype="FLOAT")
    write_wav(tmp_path / "ts.wav", np.concatenate([other, signal]), 16000, subtype="FLOAT")
    for name, args in (("st.wav", []), ("ts.wav", ["--channel", "1"])):
        out = r.invoke(main, ["score", "-m", str(model), str(tmp_path / name), "--json", *args])
        assert out.exit_code == 0, out.output
        got = json.loads(out.output[out.output.index("{") :])
        np.testing.assert_allclose(got["scores"], scores, rtol=1e-5)
    out = r.invoke(main, ["score", "-m", str(model), str(tmp_path / "st.wav"), "--channel", "2"])
    assert out.exit_code == 2 and "has 2 channel(s), no channel 2" in out.stderr


def test_logmel_items_in_every_layout_are_one_stacking(tmp_path: Path) -> None:
    folder = _clips(tmp_path / "clips", 2, 0)
    base = f"logmel:{folder}?n_fft=256&hop=128&n_mels=31&frames=7"
    flat = load_source(base)
    ncw = load_source(base + "&layout=NCW")
    nchw = load_source(base + "&layout=NCHW")
    assert (ncw.layout, ncw.item_shape, nchw.layout, nchw.item_shape) == (
        "NCW", (31, 7), "NCHW", (1, 31, 7)
    )  # fmt: skip
    patches = flat.x.reshape(-1, 7, 31).transpose(0, 2, 1)
    np.testing.assert_array_equal(ncw.x, patches)
    np.testing.assert_array_equal(nchw.x[:, 0], patches)
    thinned = load_source(base + "&layout=NCW&step=3")  # every 3rd item of each clip
    first = ncw.x[ncw.clips == 0]
    np.testing.assert_array_equal(thinned.x[thinned.clips == 0], first[::3])
    # a model's features and layout are the defaults of the options left out
    from edgeae.data.machine import model_defaults

    again = load_source(f"logmel:{folder}", layout="NCW", features=ncw.features)
    np.testing.assert_array_equal(again.x, ncw.x)
    assert model_defaults(None, "NCW") == {}
    with pytest.raises(DataError, match="layout"):
        load_source(base + "&layout=NHWC")
    with pytest.raises(DataError, match="step"):
        load_source(base + "&step=0")


@pytest.mark.slow
def test_conv2d_logmel_model_trains_exports_quantizes_and_scores_audio(tmp_path: Path) -> None:
    """--arch conv2d on a logmel: folder: odd mels and frames (padded inside the model),
    calibration from the bare folder (the model's own features and layout), and the
    device's score on a file and on a pipe equal to ClipScorer."""
    from edgeae.cli import main
    from edgeae_runtime import Model
    from edgeae_runtime.anomaly import ClipScorer
    from edgeae_runtime.audio import read_wav

    folder = _clips(tmp_path / "clips", normal=8, anomalous=1)
    r = CliRunner()
    out = r.invoke(
        main,
        ["train", f"logmel:{folder}?n_fft=256&hop=128&n_mels=29&frames=9&step=2",
         "--arch", "conv2d", "--hidden", "8,8", "--latent", "2", "-o", str(tmp_path / "run"),
         "--epochs", "2", "--batch-size", "32", "--val-fraction", "0.5", "-q"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["layout"] == "NCHW" and config["item_shape"] == [1, 29, 9]
    assert "layout=NCHW" in config["data_source"]  # the recipe's layout, recorded
    out = r.invoke(main, ["export", str(tmp_path / "run"), "-o", str(tmp_path / "m")])
    assert out.exit_code == 0, out.output
    model, q = tmp_path / "m" / "model.onnx", tmp_path / "m" / "model.int8.onnx"
    out = r.invoke(
        main, ["quantize", "-m", str(model), "-o", str(q), "--calibration", f"logmel:{folder}",
               "--allow-slower"],  # a tiny model: int8 does not pay (the speed gate)
    )
    assert out.exit_code == 0, out.output
    m = Model(q)
    assert m.manifest.features.n_mels == 29 and m.manifest.schema_version == 5
    clip = folder / "anomaly_id_00_00000008.wav"
    scores, clip_score = ClipScorer(m).score_clip(read_wav(clip)[0])
    assert scores.size == 54  # every item: the runtime scores all, step only thins training
    for args, stdin in (([str(clip)], None), (["-"], clip.read_bytes())):
        out = r.invoke(main, ["score", "-m", str(q), *args, "--json"], input=stdin)
        assert out.exit_code == 0, out.output
        result = json.loads(out.output[out.output.index("{") :])
        np.testing.assert_allclose(result["scores"], scores, rtol=1e-5)
        assert result["clip_score"] == pytest.approx(clip_score)


def test_a_recipe_batch_larger_than_the_data_is_fitted_to_it(tmp_path: Path) -> None:
    """The ad01 recipe's batch of 512 on a few clips: training goes on with a batch that
    gives 8 steps an epoch, and says so; a batch the user chose is never changed."""
    from edgeae.cli import main

    folder = _clips(tmp_path / "clips", normal=4, anomalous=1)
    source = f"logmel:{folder}?n_fft=256&hop=128&n_mels=32&frames=3"
    r = CliRunner()
    out = r.invoke(main, ["train", source, "-o", str(tmp_path / "run"), "--epochs", "1"])
    assert out.exit_code == 0, out.output
    n = json.loads((tmp_path / "run" / "config.json").read_text())["train_config"]["batch_size"]
    assert f"batch size {n}: the default 512 is more than" in out.stderr and 1 <= n < 64
    out = r.invoke(
        main, ["train", source, "-o", str(tmp_path / "r2"), "--epochs", "1", "--batch-size", "512"]
    )
    assert out.exit_code == 3 and "fewer than one batch of 512" in out.stderr
