"""Count defects of the CLI table and the API causes, for issue 10's note (not a test).

    python -m tests.adversarial.measure [--grammar old|new]

Runs every case of ``test_cli_table.CASES`` in-process (``--grammar old`` rewrites
them to the positional grammar of the tree before issue 8/10, so the same garbage
can be measured before the fixes) and classifies each outcome: traceback (a
non-package exception, "Traceback" or "internal error" in the output), hang
(no answer in 30 s), silent (exit 0 on garbage), not one line on stderr, wrong
documented exit code (new grammar only), leftover files (at the output or beside
any input). Prints a JSON summary per command and in total.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang()


def old_grammar(prog: str, template: str) -> str:
    """The same case in the positional grammar (MODEL/OUT positional where they were)."""
    words = template.split()
    cmd = words[0]
    if cmd in ("denoise", "compress", "decompress"):
        i = words.index("-o")
        del words[i]
    if cmd in ("info", "inspect", "quantize") and words[1] == "-m":
        del words[1]
    return " ".join(words)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grammar", choices=("old", "new"), default="new")
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    from click.testing import CliRunner

    from edgeae.cli import main as host_main
    from edgeae_runtime import AnomalySpec, CodecSpec, Model
    from edgeae_runtime.audio import write_wav
    from edgeae_runtime.cli import main as rt_main
    from edgeae_runtime.codec import StreamEncoder
    from tests.adversarial import test_cli_table as table
    from tests.adversarial.garbage import bad_data, bad_models, bad_streams
    from tests.runtime.onnx_models import make_triplet

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    signal.signal(signal.SIGALRM, _alarm)
    tmp = Path(tempfile.mkdtemp(prefix="edgeae-measure-"))
    g = tmp / "good"
    g.mkdir()
    model, encoder, decoder = make_triplet(
        g, kind="conv1d", channels=1, window=32, hop=16, anomaly=AnomalySpec(threshold=2.0),
        codec=CodecSpec(bits=8, scale=(0.05,), zero_point=(0,)),
    )
    x = (np.random.default_rng(0).standard_normal(800) * 0.2).astype(np.float32)
    write_wav(g / "in.wav", x, 16000)
    enc = StreamEncoder(Model(encoder))
    (g / "in.eae").write_bytes(enc.push(x[None]) + enc.flush())
    good = {"model": model, "encoder": encoder, "decoder": decoder, "wav": g / "in.wav",
            "stream": g / "in.eae"}
    models = bad_models(tmp / "models", model)
    data = bad_data(tmp / "data")
    sd = tmp / "streams"
    sd.mkdir()
    streams = {}
    for name, blob in bad_streams((g / "in.eae").read_bytes()).items():
        streams[name] = sd / f"{name}.eae"
        streams[name].write_bytes(blob)
    per_cmd: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for case, prog, template, code in table.CASES:
        out = tmp / "out" / case
        out.mkdir(parents=True)
        (out / "dir.wav").mkdir()
        (out / "dir.npy").mkdir()
        if args.grammar == "old":
            template = old_grammar(prog, template)
        watched = [out, g, tmp / "models", tmp / "data", sd]
        before = {w: set(w.rglob("*")) for w in watched}
        argv = table._argv(template, out, {k: str(v) for k, v in good.items()}, models, data,
                           streams)
        cmd = template.split()[0]
        c = per_cmd[cmd]
        c["cases"] += 1
        signal.alarm(30)
        try:
            result = CliRunner().invoke(rt_main if prog == "rt" else host_main, argv)
        except _Hang:
            c["hang"] += 1
            examples["hang"].append(case)
            continue
        finally:
            signal.alarm(0)
        err = result.stderr
        lines = [ln for ln in err.splitlines() if ln.strip()]
        found = []
        foreign = result.exception is not None and not isinstance(result.exception, SystemExit)
        if foreign or "Traceback" in err + result.stdout or "internal error" in err:
            found.append("traceback")
        if code and result.exit_code == 0:
            found.append("silent")
        if len(lines) != (1 if code else 0):
            found.append("not_one_line")
        if args.grammar == "new" and result.exit_code != code:
            found.append("wrong_exit_code")
        if any(set(w.rglob("*")) != before[w] for w in watched):
            found.append("leftover_files")
        for kind in found:
            c[kind] += 1
            if len(examples[kind]) < 6:
                what = type(result.exception).__name__ if foreign else (lines[-1] if lines else "")
                examples[kind].append(f"{case}: {what[:120]}")
        c["defective_cases"] += bool(found)
    total: Counter = Counter()
    for c in per_cmd.values():
        total.update(c)
    print(json.dumps({"grammar": args.grammar, "per_command": per_cmd, "total": total,
                      "examples": examples}, indent=1, default=dict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
