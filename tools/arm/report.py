"""The BENCHMARKS.md section of ``make test-arm``, from what it left in build/arm64-results/.

``python tools/arm/report.py [--first-run RESULTS_DIR]`` writes benchmarks/results/arm.json
and arm.section.json and reassembles BENCHMARKS.md (benchmarks/run_all.py's assembler).
``--first-run`` names the results of a run that built the rootfs (e.g. on a fresh clone), for
the first-run time; the default results are the latest (cached) run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load(d: Path) -> dict:
    out = {}
    for name in ("golden", "measure", "size", "timing"):
        f = d / f"{name}.json"
        out[name] = json.loads(f.read_text()) if f.exists() else None
    suite = ET.parse(d / "junit.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert suite is not None
    out["tests"] = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    out["skip_reasons"] = _skip_reasons(suite)
    return out


def _skip_reasons(suite: ET.Element) -> dict[str, int]:
    """Why tests were skipped, from their junit messages: {reason: count}, first seen first."""
    reasons: dict[str, int] = {}
    for case in suite.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is None:
            continue
        msg = skipped.get("message", "").strip() or "no reason given"
        m = re.match(r"could not import '([^']+)'", msg)
        msg = f"{m.group(1).split('.')[0]} not in the rootfs" if m else msg
        reasons[msg] = reasons.get(msg, 0) + 1
    return reasons


def _t(timing: dict | None) -> str:
    if not timing:
        return "not recorded"
    work = timing["total_s"] - timing["lock_wait_s"]
    built = (
        f", of which {timing['rootfs_build_s']} s building the rootfs"
        if timing["rootfs_build_s"]
        else ""
    )
    return (
        f"{timing['total_s']} s wall clock, {work} s without the {timing['lock_wait_s']} s "
        f"spent waiting for the shared heavy-job lock{built}"
    )


def _left_out() -> str:
    """The tests test-arm.sh leaves out (host_only_tests.py's rule on this tree)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from host_only_tests import host_only

    modules, single = [], []
    for root in ("tests/runtime", "tests/golden"):
        for path in sorted((ROOT / root).rglob("test_*.py")):
            whole, tests = host_only(path)
            rel = path.relative_to(ROOT).as_posix()
            modules += [rel] if whole else []
            single += [f"{rel}::{t}" for t in tests]
    return ", ".join(modules + single) or "none"


def _skips(run: dict) -> str:
    reasons = run.get("skip_reasons")
    if reasons is None:  # results stored before the reasons were
        return "optional librosa, PIL, scipy not in the rootfs; ../shared/data absent"
    return "; ".join(f"{why}: {n}" for why, n in reasons.items()) or "none"


def report(latest: dict, first: dict | None, first_rootfs_s: int | None = None) -> str:
    if first is None and (latest.get("timing") or {}).get("rootfs_build_s"):
        first = latest  # the latest run built the rootfs: a first run, not a cached one
    t = latest["tests"]
    passed = t["tests"] - t["failures"] - t["errors"] - t["skipped"]
    m, g = latest["measure"], latest["golden"]
    lines = [
        "`make test-arm`: the runtime's tests and the golden check inside a Debian 12 (bookworm)",
        "arm64 root file system under qemu-user-static, on this 2-core x86 machine (shared and",
        "busy this session: times include other engineers' load).",
        "",
        "- first run (builds the rootfs, as on a clean clone): "
        + (
            _t(first["timing"])
            if first
            else f"the rootfs build took {first_rootfs_s} s (printed by test-arm.sh when it built "
            "it), then the cached run's work below"
            if first_rootfs_s
            else "not recorded"
        ),
        *([] if first is latest else [f"- cached run: {_t(latest['timing'])}"]),
        f"- tests on arm64 (tests/runtime + tests/golden): {passed} passed, "
        f"{t['failures'] + t['errors']} failed, {t['skipped']} skipped ({_skips(latest)}); left "
        f"out as host-only (they import edgeae, tools/arm/host_only_tests.py): {_left_out()}",
        "",
        "| golden case | kind | max abs diff ARM vs x86 | result |",
        "| --- | --- | --- | --- |",
    ]
    for r in g["results"]:
        lines.append(
            f"| {r['name']} | {r['kind']} | {r['max_abs_diff']:.3g} | "
            f"{'ok' if r['ok'] else 'FAIL'}: {r['detail']} |"
        )
    codec = [r for r in g["results"] if r["kind"] == "codec"]
    same = all(r["extra"].get("stream_identical") for r in codec)
    mib = latest["size"]["installed_kib"] / 1024 if latest["size"] else float("nan")
    lines += [
        "",
        f"Stream bytes identical on ARM: {'yes' if same else 'NO'}. Tolerances: float 1e-5 "
        "(+1e-5 relative), int8 one quantization step of the output and at most 1% of the "
        "elements differing; signals out of an int8 model (the denoiser): SNR vs x86 >= 50 dB.",
        "",
        "Under emulation (a correctness run, not a speed figure): import of onnxruntime + the "
        f"runtime {m['import_s']:.2f} s, model load {m['load_s']:.3f} s, first inference "
        f"{m['first_inference_s']:.3f} s; `edgeae-rt denoise` of "
        f"{m['denoise_seconds_of_audio']:g} s of 16 kHz audio {m['denoise_wall_s']:.1f} s wall, "
        f"peak RSS {m['rss_mib']:.0f} MiB (qemu's own memory included: an upper bound). "
        f"Installed size of the runtime with numpy, onnxruntime and click: {mib:.0f} MiB (du).",
    ]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=ROOT / "build" / "arm64-results")
    p.add_argument("--first-run", type=Path, default=None)
    p.add_argument(
        "--first-rootfs-s", type=int, default=None, help="rootfs build time of a first run"
    )
    args = p.parse_args()
    latest = _load(args.results)
    first = _load(args.first_run) if args.first_run else None
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import run_all

    text = report(latest, first, args.first_rootfs_s)
    results = ROOT / "benchmarks" / "results"
    (results / "arm.json").write_text(json.dumps({"latest": latest, "first": first}, indent=2))
    seconds = latest["timing"]["total_s"] if latest["timing"] else 0
    section = {
        "name": "arm",
        "command": "make test-arm",
        "seconds": seconds,
        "report": text,
        "machine": run_all.machine(),
    }
    (results / "arm.section.json").write_text(json.dumps(section, indent=2))
    run_all.write_markdown(False)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
