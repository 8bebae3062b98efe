"""``edgeae demo --quick``: every stage runs, one line per stage, the report is written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from edgeae.cli import main
from edgeae.models import asdict, default_config
from edgeae.train import TrainConfig, recipe_arch, recipe_for

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(main, ["demo", "--quick", "-o", str(out)])
    assert result.exit_code == 0, result.stderr + str(result.exception)
    return out, result.stdout, result.stderr


@pytest.mark.slow
def test_every_stage_reports_its_time(demo_run: tuple[Path, str, str]) -> None:
    _, _, err = demo_run
    done = re.findall(r"^\[\s*(\d+)/(\d+)\]\s+[\d.]+ s  (.+?): .*\[(\d+) MB\]$", err, flags=re.M)
    names = [name for _, _, name, _ in done]
    assert all(int(mb) > 0 for *_, mb in done)  # each stage line ends with the peak RSS
    assert names[:4] == ["train sensor", "export sensor", "quantize sensor", "compare sensor"]
    for stage in ("stream-denoise tones", "denoise real speech (pretrained)",
                  "compress sensor stream", "score sensor anomalies"):  # fmt: skip
        assert stage in names
    assert names[-1] == "write report" and len(names) == int(done[0][1]) == 17


@pytest.mark.slow
def test_summary_and_report(demo_run: tuple[Path, str, str]) -> None:
    out, stdout, _ = demo_run
    for word in ("sensor  auroc float", "tones   psnr float", "digits  psnr float", "stream  SNR",
                 "speech  pretrained", "codec ", "anomaly ", "report: "):  # fmt: skip
        assert word in stdout, word
    report = out / "report"
    md = (report / "report.md").read_text()
    html = (report / "index.html").read_text()
    pngs = sorted(report.glob("*.png"))
    assert {p.name for p in pngs} >= {"sensor-roc.png", "tones-examples.png", "stream.png",
                                      "anomaly.png", "digits-errors.png"}  # fmt: skip
    assert not (report / "digits-roc.png").exists()  # digit classes are not anomaly labels
    for label in ("noisy", "denoised", "clean"):  # players for the speech denoiser's clip
        assert (report / f"speech0-{label}.wav").is_file()
        assert f'<audio controls preload="none" src="speech0-{label}.wav">' in html
    for png in pngs:
        assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 1000
        assert f"({png.name})" in md and f'src="{png.name}"' in html
    for d in ("sensor", "tones", "digits"):
        assert (out / "runs" / d / "checkpoint.pt").is_file()
        for f in ("model.onnx", "encoder.onnx", "decoder.onnx", "model.int8.onnx"):
            assert (out / "models" / d / f).is_file()


@pytest.mark.slow
def test_refuses_a_used_directory(demo_run: tuple[Path, str, str], runner: CliRunner) -> None:
    out, _, _ = demo_run
    result = runner.invoke(main, ["demo", "--quick", "-o", str(out)])
    assert result.exit_code != 0
    assert (
        result.stderr.strip().splitlines()[-1].startswith("error: ") and "--force" in result.stderr
    )


def test_unknown_model(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main, ["demo", "--quick", "-o", str(tmp_path / "x"), "--only", "cats"]
    )
    assert result.exit_code != 0 and "choose from sensor, tones, digits" in result.stderr


@pytest.mark.slow
def test_demo_trains_the_recipes_and_denoises_a_held_out_recording(
    demo_run: tuple[Path, str, str],
) -> None:
    out, stdout, err = demo_run
    for name in ("sensor", "tones", "digits"):
        config = json.loads((out / "runs" / name / "config.json").read_text())
        model_over, train_over = recipe_for(f"builtin:{name}")
        assert config["arch"] == recipe_arch(f"builtin:{name}")
        expected = default_config(config["arch"], tuple(config["item_shape"]), **model_over)
        assert config["model_config"] == asdict(expected)
        settings = {k: v for k, v in config["train_config"].items() if k != "epochs"}
        recipe = TrainConfig(**train_over).to_dict()
        assert settings == {k: v for k, v in recipe.items() if k != "epochs"}
    assert "seed=101" in stdout.split("stream  SNR", 1)[1].splitlines()[0]
    assert "held-out builtin:tones?seconds=2&seed=101" in err
