"""Every CLI command over a table of garbage: one line on stderr, the documented exit code,
no traceback (nor "internal error"), and nothing left at the output path or beside it.

The exit codes are the documented ones: 3 bad input data or model, 4 I/O failure
(missing folder, a folder in the way). Commands run in-process through click's
CliRunner (``edgeae`` and ``edgeae-rt``); causes that need a real file descriptor
(a full stdout) run as subprocesses in ``test_causes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeae.cli import main as host_main
from edgeae_runtime.cli import main as rt_main

BAD_INPUT, IO = 3, 4

BAD_MODELS = (
    "random",
    "truncated",
    "empty",
    "text",
    "foreign_onnx",
    "lie_item_shape_vs_graph",
    "lie_latent_shape_empty",
    "lie_window_2_31",
    "lie_scale_nan",
    "lie_offset_inf",
    "lie_deep_nesting",
    "lie_int_5000_digits",
    "lie_input_name",
)

# (program, argv); {M} is the bad model, {out} the output path, others the good files.
MODEL_COMMANDS = (
    ("rt", "info -m {M}"),
    ("rt", "denoise -m {M} {wav} -o {out}/o.wav"),
    ("rt", "score -m {M} {wav} --json"),
    ("rt", "encode -m {M} {wav} -o {out}/o.npy"),
    ("rt", "compress -m {M} {wav} -o {out}/o.eae"),
    ("rt", "decompress -m {M} {stream} -o {out}/o.wav"),
    ("rt", "bench -m {M}"),
    ("host", "inspect -m {M}"),
    ("host", "quantize -m {M} -o {out}/q.onnx --calibration {wav}"),
    ("host", "compare {M} {model} --data {wav}"),
)

BAD_SIGNALS = (
    "empty.wav",
    "random.wav",
    "wav_fmt_4g.wav",
    "wav_list_4g.wav",
    "wav_no_fmt.wav",
    "wav_zero_channels.wav",
    "random.npy",
    "empty.npy",
    "npy_token_error.npy",
    "npy_huge_shape.npy",
    "npy_truncated.npy",
    "npy_strings.npy",
    "npy_nan.npy",
    "raw_odd.raw",
)
SIGNAL_COMMANDS = (
    ("rt", "denoise -m {model} {D} -o {out}/o.wav"),
    ("rt", "score -m {model} {D} --json"),
    ("rt", "encode -m {model} {D} -o {out}/o.npy"),
    ("rt", "compress -m {encoder} {D} -o {out}/o.eae"),
)
BAD_SOURCES = (
    "npz_garbage.npz",
    "csv_text.csv",
    "csv_empty.csv",
    "png_garbage.png",
    "png_bomb.png",
    "npy_token_error.npy",
    "npy_huge_shape.npy",
    "empty.npy",
    "wav_fmt_4g.wav",
    "random.wav",
)
BAD_STREAMS = ("truncated", "header_only", "bit_flip", "doubled")
GARBAGE_STREAMS = ("stream_garbage.eae", "stream_magic_only.eae", "empty.wav")

CASES: list[tuple[str, str, str, int]] = []  # (id, program, argv, exit code)
# A foreign ONNX file is described by inspect (no manifest is no error there).
OK_CASES = {("inspect", "foreign_onnx")}
for _prog, _argv in MODEL_COMMANDS:
    for _m in BAD_MODELS:
        _cmd = _argv.split()[0]
        CASES.append((f"{_cmd}-{_m}", _prog, _argv.replace("{M}", "{bad:" + _m + "}"),
                      0 if (_cmd, _m) in OK_CASES else BAD_INPUT))
for _prog, _argv in SIGNAL_COMMANDS:
    for _d in BAD_SIGNALS:
        CASES.append((f"{_argv.split()[0]}-{_d}", _prog, _argv.replace("{D}", "{data:" + _d + "}"),
                      BAD_INPUT))
for _d in BAD_SOURCES:
    CASES.append((f"data-info-{_d}", "host", "data info {data:" + _d + "}", BAD_INPUT))
for _s in BAD_STREAMS:
    CASES.append((f"decompress-stream-{_s}", "rt",
                  "decompress -m {decoder} {stream:" + _s + "} -o {out}/o.wav", BAD_INPUT))
for _s in GARBAGE_STREAMS:
    CASES.append((f"decompress-stream-{_s}", "rt",
                  "decompress -m {decoder} {data:" + _s + "} -o {out}/o.wav", BAD_INPUT))
    CASES.append((f"decompress-conceal-{_s}", "rt",
                  "decompress -m {decoder} --conceal {data:" + _s + "} -o {out}/o.wav",
                  BAD_INPUT))
CASES += [
    ("decompress-conceal-many-gaps", "rt",
     "decompress -m {decoder} --conceal {stream:many_gaps} -o {out}/o.wav", BAD_INPUT),
    ("decompress-missing-reference", "rt",
     "decompress -m {decoder} {stream} -o {out}/o.wav --reference {out}/missing.wav", BAD_INPUT),
    ("denoise-png-input", "rt", "denoise -m {model} {data:png_garbage.png} -o {out}/o.wav",
     BAD_INPUT),
    # I/O failures: exit 4 (issue 10 causes 12 and 13)
    ("denoise-missing-folder", "rt", "denoise -m {model} {wav} -o {out}/missing/o.wav", IO),
    ("encode-missing-folder", "rt", "encode -m {model} {wav} -o {out}/missing/o.npy", IO),
    ("compress-missing-folder", "rt", "compress -m {encoder} {wav} -o {out}/missing/o.eae", IO),
    ("decompress-missing-folder", "rt",
     "decompress -m {decoder} {stream} -o {out}/missing/o.wav", IO),
    ("denoise-output-is-folder", "rt", "denoise -m {model} {wav} -o {out}/dir.wav --force", IO),
    ("encode-output-is-folder", "rt", "encode -m {model} {wav} -o {out}/dir.npy --force", IO),
    ("decompress-output-is-folder", "rt",
     "decompress -m {decoder} {stream} -o {out}/dir.wav --force", IO),
]


def _argv(template: str, out: Path, good: dict, models: dict, data: dict, streams: dict) -> list:
    args = []
    for word in template.split():
        if word.startswith("{bad:"):
            word = str(models[word[5:-1]])
        elif word.startswith("{data:"):
            word = str(data[word[6:-1]])
        elif word.startswith("{stream:"):
            word = str(streams[word[8:-1]])
        else:
            word = word.format(out=out, **{k: str(v) for k, v in good.items()})
        args.append(word)
    return args


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(("case", "prog", "template", "code"), CASES, ids=[c[0] for c in CASES])
def test_every_command_over_garbage(
    case: str,
    prog: str,
    template: str,
    code: int,
    tmp_path: Path,
    good: dict,
    models: dict,
    data: dict,
    streams: dict,
) -> None:
    (tmp_path / "dir.wav").mkdir()
    (tmp_path / "dir.npy").mkdir()
    watched = [tmp_path, *{Path(p).parent for p in (*good.values(), *models.values())},
               *{Path(p).parent for p in (*data.values(), *streams.values())}]
    before = {w: _listing(w) for w in watched}
    argv = _argv(template, tmp_path, good, models, data, streams)
    result = CliRunner().invoke(rt_main if prog == "rt" else host_main, argv)
    err = result.stderr
    lines = [line for line in err.splitlines() if line.strip()]
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{case}: {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in err + result.stdout, err
    assert "internal error" not in err, err
    assert len(lines) == (1 if code else 0), f"{case}: expected one line on stderr, got:\n{err}"
    assert result.exit_code == code, f"{case}: exit {result.exit_code}, stderr: {err}"
    for w in watched:  # nothing written next to any input or at the output
        assert _listing(w) == before[w], f"{case}: files appeared in {w}"
