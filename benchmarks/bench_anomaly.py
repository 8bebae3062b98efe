"""Anomaly benchmark: operating points, NAB vs PCA / IsolationForest, DCASE log-mel recipes.

One run, four parts, every threshold through the runtime's own laws
(:func:`edgeae_runtime.calibrate_anomaly`, :mod:`edgeae_runtime.operating_point`,
:mod:`edgeae_runtime.events`), float and int8 (static QDQ, recalibrated with the
same law on the int8 model's own errors):

1. ``builtin:sensor`` (the sensor recipe): one- vs two-sided score per anomaly
   kind, and every threshold method (percentile 99, mean + 3 std, false-alarm
   rate 1 % and 0.1 % per window, F1, Youden) at its chosen point on held-out test
   windows: accuracy, F1, TPR, FPR, vs the best accuracy any single threshold
   reaches there. The evaluation windows are cut into blocks of 32: even blocks are
   the labelled validation set (F1/Youden), odd blocks the test set. The
   false-alarm laws (plug-in quantile; tail / conformal with windows counted
   independent; the same counting hop/window independent windows): realised rate on
   a 2 h unseen normal stream of the same machine (with its Clopper-Pearson
   interval), on label-0 test windows, clean unseen windows and resampled.
2. NAB (``../shared/data/timeseries/nab``, 47 real series, labelled windows): per
   series a small dense autoencoder trained by ``edgeae.train`` on the normal
   stretch before the first labelled window (at most half the series), PCA and
   scikit-learn's IsolationForest fitted on the same windows; each scored with a
   fixed threshold and with the runtime's running score baseline (drift):
   window-level AUROC on the rest, events (runtime event law, p99 threshold) scored
   per labelled window (NAB-style window precision / recall, false events per
   day), the threshold methods pooled over all series (each series its own
   threshold; blocks as in 1), F1 at each method's point vs the best F1, and the
   realised false-alarm rate of the old and new law.
3. DCASE 2020 Task 2 id_00 (``../shared/data/machine``), every log-mel recipe side
   by side (``LOGMEL_RECIPES``: the ad01 recipe, ``logmel:`` source, 128 log-mels x 5
   frames, dense 640-128x4-8-128x4-640 + batch norm; the conv alternatives that
   ``--arch conv2d`` / ``--arch conv1d`` pick, 128 mels x 16-frame patches) on 60
   normal clips: clip-level AUC/pAUC (max FPR 0.1) on 15 held-out normal clips + the
   one anomaly clip (one positive: see the note), item-level AUC/pAUC, float and int8,
   all scored through the device's ClipScorer; MIMII fan (normal vs abnormal clip, cut
   into 1 s pseudo-clips); clip verdicts at the item threshold vs the clip-level
   threshold; latency at batch 1 and real-time factor, one thread (the only timing:
   the script holds ``--lock``, default /tmp/edgeae-heavy.lock, around it alone, so do
   not wrap the script in ``flock`` on that file).

One module per part beside this script: ``anomaly_sensor.py`` (1), ``anomaly_nab.py`` (2),
``anomaly_machine.py`` (3), their shared data paths, laws and helpers in
``anomaly_common.py``, and the Markdown report of all of them in ``anomaly_report.py``; this
script runs the parts asked for, writes ``results/anomaly.json`` and prints the report.

    python benchmarks/bench_anomaly.py            # everything (about 10-20 min here)
    python benchmarks/bench_anomaly.py --quick    # few epochs, a few NAB series
    python benchmarks/bench_anomaly.py --parts sensor,nab            # quality (no timing)
    python benchmarks/bench_anomaly.py --parts machine --merge       # + the timed part
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from anomaly_common import DCASE, NAB, RESULTS, log
from anomaly_machine import bench_machine
from anomaly_nab import bench_nab
from anomaly_report import markdown
from anomaly_sensor import bench_sensor
from timing_lock import LOCK

from edgeae_runtime.atomic import write_text_atomic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, for a fast check")
    parser.add_argument("--parts", default="sensor,nab,machine", help="comma-separated subset")
    parser.add_argument(
        "--report", type=Path, default=None, help="only print the report of a stored results JSON"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the stored results of the parts not run (e.g. the timed part run alone)",
    )
    parser.add_argument(
        "--lock",
        default=LOCK["path"],
        help="file to flock around the timed parts only ('' = none; do not also wrap the "
        "script in flock on the same file)",
    )
    args = parser.parse_args()
    LOCK["path"] = args.lock
    if args.report is not None:
        print(markdown(json.loads(args.report.read_text())))
        return
    torch.set_num_threads(1)
    parts = args.parts.split(",")
    res: dict[str, Any] = {}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("anomaly.quick.json" if args.quick else "anomaly.json")
    if args.merge and out.exists():
        res = {k: v for k, v in json.loads(out.read_text()).items() if k not in parts}
    benches = {"sensor": (bench_sensor, True), "nab": (bench_nab, NAB.exists()),
               "machine": (bench_machine, DCASE.exists())}  # fmt: skip
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in parts:
            fn, available = benches[name]
            if not available:
                log(f"{name}: data not found, skipped")
                continue
            log(f"{name} ...")
            try:
                res[name] = fn(Path(tmp), args.quick)
            except Exception:  # report the other parts anyway; exit 1 at the end
                import traceback

                traceback.print_exc()
                failed.append(name)
            write_text_atomic(out, json.dumps(res, indent=2, default=float) + "\n")
    print(markdown(res))
    if failed:
        log(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
