"""``edgeae-rt compress`` / ``decompress``: round trip through files, --json, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgeae_runtime.cli import main
from tests.runtime.onnx_models import make_triplet


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    _, enc, dec = make_triplet(tmp_path, kind="identity", window=32, hop=16)
    x = (0.3 * np.sin(np.arange(1000) / 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    return enc, dec, tmp_path / "x.npy"


def test_round_trip_with_json_summary(runner, tmp_path) -> None:
    enc, dec, x = _setup(tmp_path)
    out = tmp_path / "x.eae"
    r = runner.invoke(main, ["compress", "-m", str(enc), str(x), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["bytes"] == out.stat().st_size and summary["samples"] == 1000
    y = tmp_path / "y.npy"
    r = runner.invoke(
        main,
        ["decompress", "-m", str(dec), str(out), "-o", str(y), "--reference", str(x), "--json"],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["snr_db"] > 35
    assert np.load(y).shape == (1000,)


def test_corrupted_stream_one_line_and_no_output_file(runner, tmp_path) -> None:
    enc, dec, x = _setup(tmp_path)
    out = tmp_path / "x.eae"
    runner.invoke(main, ["compress", "-m", str(enc), str(x), "-o", str(out), "--no-entropy"])
    data = bytearray(out.read_bytes())
    data[200] ^= 0x08
    bad = tmp_path / "bad.eae"
    bad.write_bytes(bytes(data))
    y = tmp_path / "y.wav"
    r = runner.invoke(main, ["decompress", "-m", str(dec), str(bad), "-o", str(y)])
    assert r.exit_code == 3
    assert r.output.count("\n") == 1 and "CRC32 mismatch" in r.output
    assert not y.exists() and not list(tmp_path.glob(".y.wav.*"))
    r = runner.invoke(main, ["decompress", "-m", str(dec), str(bad), "-o", str(y), "--conceal"])
    assert r.exit_code == 0 and y.exists()


def test_bad_inputs(runner, tmp_path) -> None:
    enc, dec, x = _setup(tmp_path)
    cases = [
        (
            ["compress", "-m", str(enc), str(tmp_path / "none.npy"), "-o", "o.eae"],
            "none.npy: cannot",
        ),
        (
            ["decompress", "-m", str(dec), str(x), "-o", str(tmp_path / "o.wav")],
            "not an edgeae stream",
        ),
        (
            ["decompress", "-m", str(enc), str(x), "-o", str(tmp_path / "o.wav")],
            "needs the decoder",
        ),
    ]
    empty = tmp_path / "empty.eae"
    empty.write_bytes(b"")
    cases.append((["decompress", "-m", str(dec), str(empty), "-o", "o.wav"], "empty input"))
    for args, message in cases:
        r = runner.invoke(main, args)
        assert r.exit_code == 3 and message in r.output, (args, r.output)  # bad input


def test_dense_items_round_trip_from_npy_and_csv(runner, tmp_path) -> None:
    _, enc, dec = make_triplet(tmp_path, kind="dense", features=12, latent=4)
    x = np.random.default_rng(0).normal(size=(9, 12)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    for source in ("x.npy", "x.csv"):
        out = tmp_path / f"{source}.eae"
        args = ["compress", "-m", str(enc), str(tmp_path / source), "-o", str(out), "--json"]
        r = runner.invoke(main, [*args, "--per-frame"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["items"] == 9
        y = tmp_path / f"{source}.out.npy"
        r = runner.invoke(main, ["decompress", "-m", str(dec), str(out), "-o", str(y)])
        assert r.exit_code == 0, r.output
        assert np.load(y).shape == (9, 12)
    r = runner.invoke(main, ["decompress", "-m", str(dec), str(out), "-o", str(tmp_path / "d")])
    assert r.exit_code != 0 and ".npy batch" in r.output
    (tmp_path / "bad.csv").write_text("1,2,3\n4,5,6\n")
    r = runner.invoke(main, ["compress", "-m", str(enc), str(tmp_path / "bad.csv"), "-o", "z.eae"])
    assert r.exit_code != 0 and "(N, 12)" in r.output and "Traceback" not in r.output


def test_frame_size_groups_the_windows_of_an_entropy_coded_signal(runner, tmp_path) -> None:
    from edgeae_runtime.codec import StreamParser

    from .models import entropy_codec

    x = (0.3 * np.sin(np.arange(1000) / 5)).astype(np.float32)
    codec = entropy_codec(x[: 31 * 32].reshape(-1, 1, 32), 0.02)
    _, enc, dec = make_triplet(tmp_path, kind="identity", window=32, hop=16, codec=codec)
    np.save(tmp_path / "x.npy", x)
    sizes = {}
    for size in ("1", "3", "8"):
        out = tmp_path / f"x{size}.eae"
        args = ["compress", "-m", str(enc), str(tmp_path / "x.npy"), "-o", str(out)]
        r = runner.invoke(main, [*args, "--frame-size", size, "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["frames"] == -(-32 // int(size))  # 32 windows of 32
        parser = StreamParser()
        header = (parser.feed(out.read_bytes()) + parser.finish())[0]
        assert header.frame_items == int(size) and out.read_bytes()[4] == (2 if size == "1" else 3)
        sizes[size] = out.stat().st_size
        y = tmp_path / f"y{size}.npy"
        r = runner.invoke(main, ["decompress", "-m", str(dec), str(out), "-o", str(y)])
        assert r.exit_code == 0, r.output
    assert sizes["8"] < sizes["3"] < sizes["1"]
    assert np.array_equal(np.load(tmp_path / "y1.npy"), np.load(tmp_path / "y8.npy"))
    r = runner.invoke(
        main, ["compress", "-m", str(enc), str(tmp_path / "x.npy"), "-o", "z", "--frame-size", "0"]
    )
    assert r.exit_code == 2 and "--frame-size" in r.output
