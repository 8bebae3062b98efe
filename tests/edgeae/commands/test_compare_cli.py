"""``edgeae compare``: the table, --json, --report, the verdict's exit code, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main
from tests.export.compare_support import quantize_qdq
from tests.export.quantize.models import make_data
from tests.runtime.onnx_models import make_triplet

FAST = ["--no-memory", "--batch", "1,4"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("cli")
    a = make_triplet(d, "qdense")["autoencoder"]
    x = make_data("dense", 96)
    b = quantize_qdq(a, d / "model.int8.onnx", x)
    np.save(d / "items.npy", x)
    return a, b, d / "items.npy"


def _run(runner: CliRunner, *args: object) -> tuple[int, str, str]:
    result = runner.invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_table_output(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, err = _run(runner, "compare", a, b, "--data", data, *FAST)
    assert code == 0, err
    assert "PSNR (dB)" in out and "latency p50 b4" in out and "per-node error" in out
    assert out.strip().splitlines()[-1].startswith("NO BUDGET psnr drop")
    assert "compare: reconstructing 96 items" in err  # progress goes to stderr


def test_json_output(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--json", *FAST)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"a", "b", "verdict", "output_difference", "nodes", "notes", "items"}
    assert doc["a"]["quality"]["psnr"] > doc["b"]["quality"]["psnr"]
    assert doc["nodes"][0]["op_type"] == "Gemm"


def test_report_files(runner: CliRunner, models: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, data = models
    out_dir = tmp_path / "report"
    code, _, err = _run(runner, "compare", a, b, "--data", data, "-o", out_dir, *FAST)
    assert code == 0, err
    for name in ("report.md", "index.html", "errors.png", "examples.png", "nodes.png"):
        assert (out_dir / name).stat().st_size > 0, name


def test_verdict_exit_codes(runner: CliRunner, models: tuple[Path, Path, Path]) -> None:
    a, b, data = models
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--max-drop", "20", *FAST)
    assert code == 0 and out.strip().splitlines()[-1].startswith("PASS")
    code, out, _ = _run(runner, "compare", a, b, "--data", data, "--max-drop", "0", *FAST)
    assert code == 1 and out.strip().splitlines()[-1].startswith("FAIL")


def test_bad_inputs_one_line(
    runner: CliRunner, models: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, b, data = models
    (tmp_path / "c").mkdir()
    other = make_triplet(tmp_path / "c", "qconv2d")["autoencoder"]
    junk = tmp_path / "junk.onnx"
    junk.write_text("nope")
    cases = [
        (["compare", a, other, "--data", data], "different inputs"),
        (["compare", a, b, "--data", tmp_path / "missing.npy"], "missing.npy"),
        (["compare", a, junk, "--data", data], "not a loadable ONNX model"),
        (["compare", tmp_path / "none.onnx", b, "--data", data], "no such model file"),
        (["compare", a, b, "--data", data, "--metric", "bogus"], "--metric"),
        (["compare", a, b, "--data", data, "--batch", "x"], "--batch"),
    ]
    for args, words in cases:
        code, out, err = _run(runner, args[0], *FAST, *args[1:])
        assert code != 0, args
        lines = [ln for ln in err.splitlines() if not ln.startswith("compare: ")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], err
        assert "Traceback" not in err + out


def test_logmel_clips_get_clip_level_auc_beside_the_item_ones(
    runner: CliRunner, tmp_path: Path
) -> None:
    """On a logmel: folder of normal and anomaly_* clips, compare reports clip AUROC/pAUC of
    both models, from every item of each clip (also when the item comparison subsamples):
    the clip scores the device's ClipScorer gives each WAV."""
    from edgeae.data.wav import write_wav
    from edgeae_runtime import AnomalySpec, Model, Preprocessing
    from edgeae_runtime.anomaly import ClipScorer
    from edgeae_runtime.logmel import feature_items
    from edgeae_runtime.manifest import LogMelSpec
    from edgeae_runtime.metrics import auroc, pauc
    from tests.runtime.onnx_models import make_autoencoder

    rate, clips = 8000, tmp_path / "clips"
    clips.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(rate // 2) / rate
    for i in range(7):
        x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
        if i >= 5:  # broadband knocks
            x += 0.5 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 8 * t) > 0.9)
        name = f"{'normal' if i < 5 else 'anomaly'}_id_00_{i:08d}.wav"
        write_wav(clips / name, x[None].astype(np.float32), rate)
    spec = LogMelSpec(sample_rate=rate, n_fft=256, hop=128, n_mels=16, frames=3, reduce="max")
    a = make_autoencoder(
        tmp_path / "model.onnx", kind="dense", features=48, latent=4, logmel=spec,
        preprocessing=Preprocessing(offset=(-40.0,), scale=(20.0,)),
        anomaly=AnomalySpec(threshold=0.5, clip_threshold=0.8, clip_normal=6),
    )  # fmt: skip
    waves = sorted(clips.glob("*.wav"))
    items = np.concatenate([feature_items(_read(w), spec) for w in waves])
    b = quantize_qdq(a, tmp_path / "model.int8.onnx", items)
    code, out, err = _run(
        runner, "compare", a, b, "--data", f"logmel:{clips}", "--limit", "40", "--json",
        "--metric", "clip_auroc", *FAST,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["items"] == 40 < items.shape[0]  # the item numbers: a subsample
    labels = np.array([w.name.startswith("anomaly") for w in waves], np.int64)
    for side, path in (("a", a), ("b", b)):
        clip = doc[side]["anomaly"]["clip"]
        scorer = ClipScorer(Model(path))
        expected = np.array([scorer.score_clip(_read(w))[1] for w in waves])
        assert clip["clips"] == 7 and clip["anomalous"] == 2 and clip["items"] == items.shape[0]
        assert clip["reduce"] == "max" and clip["threshold"] == pytest.approx(0.8)
        assert clip["auroc"] == pytest.approx(auroc(expected, labels))
        assert clip["pauc"] == pytest.approx(pauc(expected, labels))
        flags = expected > 0.8
        assert clip["fpr"] == pytest.approx(flags[labels == 0].mean())
        assert clip["tpr"] == pytest.approx(flags[labels == 1].mean())
    assert doc["verdict"]["metric"] == "clip_auroc"
    assert doc["verdict"]["value_a"] == doc["a"]["anomaly"]["clip"]["auroc"]
    code, out, err = _run(runner, "compare", a, b, "--data", f"logmel:{clips}", *FAST)
    assert code == 0, err
    assert "clip AUROC (7 clips, 2 anomalous, max of items)" in out and "clip FPR" in out
    only_normal = tmp_path / "normal"
    only_normal.mkdir()
    for w in clips.glob("normal_*.wav"):
        (only_normal / w.name).symlink_to(w)
    code, out, err = _run(
        runner, "compare", a, b, "--data", f"logmel:{only_normal}", "--metric", "clip_auroc",
        *FAST,
    )  # fmt: skip
    assert code != 0 and "clip_auroc" in err


def _read(path: Path) -> np.ndarray:
    from edgeae.data.wav import read_wav

    return read_wav(path)[0][0]
