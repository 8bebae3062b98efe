"""Exit codes a script can act on: the one table, and each code end to end.

0 success (compare PASS), 1 verdict failed, 2 usage error, 3 bad input data or
model, 4 I/O failure. Each package's error classes map through
``edgeae_runtime.errors.EXIT_CODES``; the CLI prints one line and exits with it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeae.cli import main as host
from edgeae.errors import CheckpointError, ConfigError, DataError, TrainError
from edgeae_export.errors import (
    BudgetError,
    CalibrationError,
    ExistsError,
    ExportError,
    ExportParameterError,
    ParityError,
    QuantizationError,
    QuantizationParameterError,
    SpeedGateError,
)
from edgeae_runtime.cli import main as rt
from edgeae_runtime.errors import (
    EXIT_CODES,
    EdgeAEError,
    InputError,
    ManifestError,
    ModelError,
    OutputError,
    ParameterError,
    StreamError,
    exit_code_of,
)
from tests.runtime.onnx_models import make_autoencoder, make_not_onnx

RT = [sys.executable, "-c", "from edgeae_runtime.cli import main; main()"]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (BudgetError("x"), 1),
        (SpeedGateError("x"), 1),
        (ParityError("x"), 1),
        (ParameterError("x", param="p"), 2),
        (ConfigError("x"), 2),
        (ExistsError("x"), 2),
        (ExportParameterError("x"), 2),
        (QuantizationParameterError("x"), 2),
        (InputError("x"), 3),
        (DataError("x"), 3),
        (CheckpointError("x"), 3),
        (ManifestError("x"), 3),
        (ModelError("x"), 3),
        (StreamError("x"), 3),
        (CalibrationError("x"), 3),
        (QuantizationError("x"), 3),
        (ExportError("x"), 3),
        (TrainError("x"), 3),
        (EdgeAEError("x"), 3),
        (OutputError("x"), 4),
        (OSError(errno.ENOSPC, "No space left on device"), 4),
        (BrokenPipeError(), 4),
        (ValueError("a bug"), 3),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_every_class_has_its_documented_code(exc: BaseException, code: int) -> None:
    assert exit_code_of(exc) == code
    if isinstance(exc, EdgeAEError):
        assert exc.exit_code == code


def test_the_table_holds_only_the_documented_codes() -> None:
    assert set(EXIT_CODES.values()) == {1, 2, 3, 4}


def test_errors_name_their_parameter_and_the_cli_its_flag() -> None:
    exc = ParameterError("must be finite, got nan; see `other_thing`", param="max_drop")
    assert str(exc) == "max_drop: must be finite, got nan; see `other_thing`"
    flags = {"max_drop": "--max-drop", "other_thing": "--other-thing"}
    assert exc.format_message(flags.get) == "--max-drop: must be finite, got nan; see --other-thing"
    import pickle

    again = pickle.loads(pickle.dumps(exc))
    assert again.param == "max_drop" and str(again) == str(exc)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_autoencoder(tmp_path_factory.mktemp("codes") / "model.onnx", kind="conv1d")


def _one_line(result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_code_0_success(model: Path) -> None:
    assert CliRunner().invoke(rt, ["info", "-m", str(model)]).exit_code == 0


def test_code_1_verdict_failed(tmp_path: Path) -> None:
    from tests.export.compare_support import quantize_qdq
    from tests.export.quantize.models import make_data
    from tests.runtime.onnx_models import make_triplet

    a = make_triplet(tmp_path, "qdense")["autoencoder"]
    x = make_data("dense", 64)
    b = quantize_qdq(a, tmp_path / "model.int8.onnx", x)
    np.save(tmp_path / "items.npy", x)
    base = ["compare", str(a), str(b), "--data", str(tmp_path / "items.npy"), "--no-memory",
            "--no-nodes", "--batch", "1"]  # fmt: skip
    passed = CliRunner().invoke(host, [*base, "--max-drop", "100"])
    assert passed.exit_code == 0 and passed.stdout.strip().splitlines()[-1].startswith("PASS")
    failed = CliRunner().invoke(host, [*base, "--max-drop", "0"])
    assert failed.exit_code == 1 and failed.stdout.strip().splitlines()[-1].startswith("FAIL")
    assert "error:" not in failed.stderr  # a verdict is not an error


def test_code_2_usage_error(model: Path, tmp_path: Path) -> None:
    line = _one_line(CliRunner().invoke(rt, ["info", "-m", str(model), "--bogus"]), 2)
    assert "--bogus" in line
    out = tmp_path / "o.wav"
    out.write_bytes(b"mine")
    args = ["denoise", "-m", str(model), str(out), "-o", str(out)]
    assert "use --force" in _one_line(CliRunner().invoke(rt, args), 2)  # an existing output
    assert out.read_bytes() == b"mine"


def test_code_3_bad_input(tmp_path: Path) -> None:
    bad = make_not_onnx(tmp_path / "bad.onnx")
    assert "not a loadable ONNX model" in _one_line(
        CliRunner().invoke(rt, ["info", "-m", str(bad)]), 3
    )


def test_code_3_for_an_unexpected_error_with_one_line(model: Path, monkeypatch) -> None:
    import edgeae_runtime.commands.info as info

    monkeypatch.setattr(info, "load_model", lambda *a: 1 / 0)
    line = _one_line(CliRunner().invoke(rt, ["info", "-m", str(model)]), 3)
    assert "internal error: ZeroDivisionError" in line


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_code_4_disk_full(model: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*RT, "info", "-m", str(model), "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert "No space left" in proc.stderr and "Traceback" not in proc.stderr


def test_code_4_broken_pipe(model: Path) -> None:
    pcm = np.zeros(16000 * 20, "<f4").tobytes()  # 20 s: far more than a pipe buffer holds
    proc = subprocess.Popen(
        [*RT, "denoise", "-m", str(model), "-", "-o", "-", "--format", "f32le"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(pcm)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    proc.stdout.read(1024)
    proc.stdout.close()  # the reader goes away, like `| head -c 1024`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    writer.join(timeout=60)
    assert proc.wait(timeout=60) == 4, err
    assert err.count("\n") == 1 and "broken pipe" in err and "Traceback" not in err
