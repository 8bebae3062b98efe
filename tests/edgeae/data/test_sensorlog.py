"""sensorlog: CSV sensor logs (timestamp column, gaps, NaNs) and per-channel contributions."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edgeae.data import load_source
from edgeae.errors import DataError


def _log(path: Path, n: int = 600, gap: tuple[int, int] = (300, 320)) -> Path:
    rng = np.random.default_rng(0)
    t0 = datetime(2024, 1, 1)
    lines = ["timestamp,temp,pressure,flow,label"]
    for i in range(n):
        if gap[0] <= i < gap[1]:
            continue  # the logger was off: 20 s without rows
        t = t0 + timedelta(seconds=i + rng.uniform(-0.2, 0.2))  # jittered clock
        temp = 20 + np.sin(i / 30) + 0.05 * rng.standard_normal()
        pressure = 1000 + 5 * np.cos(i / 40) + 0.1 * rng.standard_normal()
        flow = "" if i % 97 == 5 else f"{3 + 0.1 * rng.standard_normal():.4f}"  # missing cells
        label = int(450 <= i < 470)
        lines.append(f"{t.isoformat()},{temp:.4f},{pressure:.3f},{flow},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sensor_log_is_resampled_masked_not_imputed(tmp_path: Path) -> None:
    src = f"sensorlog:{_log(tmp_path / 'log.csv')}?rate=1&window=32&hop=16&label=label"
    ds = load_source(src)
    assert ds.layout == "NCW" and ds.item_shape == (3, 32) and ds.sample_rate == 1
    assert np.isfinite(ds.x).all()
    assert "masked out" in ds.description and ds.channel_names == ("temp", "pressure", "flow")
    full = (600 - 32) // 16 + 1
    assert ds.x.shape[0] < full  # windows over the 20 s gap and the missing flow cells are gone
    assert ds.anomaly_labels is not None and ds.anomaly_labels.sum() > 0


def test_a_text_column_is_left_out_and_said(tmp_path: Path) -> None:
    """A status column ("run"/"idle") is not a sensor: left out (and named) unless the
    user picked it with ?columns=, which is refused by name."""
    log = _log(tmp_path / "log.csv")
    lines = log.read_text().splitlines()
    lines = [lines[0] + ",status"] + [f"{ln},{'run' if i % 2 else 'idle'}" for i, ln in
                                      enumerate(lines[1:])]  # fmt: skip
    log.write_text("\n".join(lines) + "\n")
    ds = load_source(f"sensorlog:{log}?window=32&label=label")
    assert ds.channel_names == ("temp", "pressure", "flow")
    assert "text column(s) status left out" in ds.description
    with pytest.raises(DataError, match="column\\(s\\) status hold no numbers"):
        load_source(f"sensorlog:{log}?window=32&columns=temp,status")


def test_bad_sensor_logs_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,a\nyesterday,1\n2024-01-01T00:00:01,2\n2024-01-01T00:00:02,3\n")
    with pytest.raises(DataError, match="row 2"):
        load_source(f"sensorlog:{bad}")
    with pytest.raises(DataError, match="unknown option"):
        load_source(f"sensorlog:{_log(tmp_path / 'l.csv')}?speed=2")
    with pytest.raises(DataError, match="no column"):
        load_source(f"sensorlog:{_log(tmp_path / 'm.csv')}?columns=temp,humidity")


def test_channel_contributions_name_the_anomalous_sensor(tmp_path: Path) -> None:
    from edgeae_runtime import Model, StreamScorer
    from edgeae_runtime.anomaly import channel_contributions
    from tests.runtime.onnx_models import make_autoencoder

    model = Model(make_autoencoder(tmp_path / "m.onnx", kind="conv1d", channels=3, window=32))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 3, 32)).astype(np.float32)
    x[5, 1] += 8.0  # channel 1 breaks in item 5
    shares = channel_contributions(model, x)
    assert shares.shape == (20, 3)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-5)
    assert int(np.argmax(shares[5])) == 1 and shares[5, 1] > 0.5
    # the stream scorer reports the same shares per window
    signal = rng.standard_normal((3, 320)).astype(np.float32)
    scorer = StreamScorer(model, threshold=1.0, per_channel=True)
    ups = [scorer.push(signal[:, :100]), scorer.push(signal[:, 100:]), scorer.flush()]
    got = np.concatenate([u.channels for u in ups])
    windows = np.stack([signal[:, s : s + 32] for s in range(0, 320 - 16, 16)])
    np.testing.assert_allclose(got, channel_contributions(model, windows), atol=1e-5)


@pytest.mark.slow
def test_a_sensor_log_model_scores_its_csv_on_the_device(tmp_path: Path, runner) -> None:
    """train sensorlog: -> export -> edgeae-rt score log.csv: the manifest carries the CSV law,
    the device cuts the training windows, masks the gaps and names the anomalous sensor."""
    import json

    from edgeae.cli import main
    from edgeae_runtime import Model
    from edgeae_runtime.anomaly import LogScorer
    from edgeae_runtime.cli import main as rt_main

    log = _log(tmp_path / "log.csv")
    src = f"sensorlog:{log}?rate=1&window=32&hop=16&label=label"
    res = runner.invoke(main, ["train", src, "-o", str(tmp_path / "run"), "--epochs", "3",
                               "--hidden", "8,8", "--latent", "4", "--batch-size", "8",
                               "-q"])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["export", str(tmp_path / "run"), "-o", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    int8 = str(tmp_path / "m" / "model.int8.onnx")
    res = runner.invoke(main, ["quantize", "-m", str(tmp_path / "m" / "model.onnx"), "-o", int8,
                               "--calibration", src, "--allow-slower"])  # fmt: skip
    assert res.exit_code == 0, res.output  # the source cuts its own windows: no window/hop
    assert Model(int8).manifest.sensorlog == Model(tmp_path / "m" / "model.onnx").manifest.sensorlog
    info = runner.invoke(rt_main, ["info", "-m", int8])
    assert "CSV columns temp, pressure, flow every 1 s" in info.output
    model = Model(tmp_path / "m" / "model.onnx")
    law = model.manifest.sensorlog
    assert law is not None and law.columns == ("temp", "pressure", "flow") and law.hop == 16
    assert model.manifest.schema_version == 4
    update, windows = LogScorer(model).score(log)
    ds = load_source(src)
    np.testing.assert_allclose(windows.windows[windows.complete], ds.x)  # the training windows
    np.testing.assert_allclose(update.scores, model.score(ds.x), rtol=1e-5, atol=1e-6)
    assert (~windows.complete).sum() == (600 - 32) // 16 + 1 - len(ds)
    out = runner.invoke(rt_main, ["score", "-m", str(tmp_path / "m" / "model.onnx"), str(log),
                                  "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert len(doc["scores"]) == len(ds) and doc["window_times"][0].startswith("2024-01-01T00:00")
    assert doc["masked_window_times"] and len(doc["channel_share"]) == len(ds)
    text = runner.invoke(rt_main, ["score", "-m", str(tmp_path / "m" / "model.onnx"), str(log),
                                   "--threshold", "0"])  # fmt: skip
    assert text.exit_code == 0 and "ANOMALY" in text.stdout and "masked for missing" in text.stderr
    assert any(name in text.stdout for name in law.columns)


def test_a_model_without_the_csv_law_refuses_a_log_scorer(tmp_path: Path) -> None:
    from edgeae_runtime import Model
    from edgeae_runtime.anomaly import LogScorer
    from edgeae_runtime.errors import ManifestError
    from tests.runtime.onnx_models import make_autoencoder

    model = Model(make_autoencoder(tmp_path / "m.onnx", kind="conv1d", channels=3, window=32))
    with pytest.raises(ManifestError, match=r"manifest\.sensorlog is missing"):
        LogScorer(model)
