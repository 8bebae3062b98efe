"""Demo step: train the built-in's recipe, as ``edgeae train`` trains it."""

from __future__ import annotations

import dataclasses
from typing import Any

from .results import TrainStep
from .spec import DemoModel, DemoRun

__all__ = ["run"]


def run(spec: DemoModel, demo: DemoRun) -> TrainStep:
    """Train ``spec``'s recipe for ``spec.epochs`` (quick: 1 epoch on a small slice)."""
    import torch

    from edgeae.data import load_source
    from edgeae.train import TrainConfig, recipe_arch, recipe_for
    from edgeae.train import train as run_training

    source = spec.quick_source if demo.quick else spec.source
    ds = load_source(source, limit=spec.quick_limit if demo.quick else None)
    arch = recipe_arch(spec.source)
    overrides, train_recipe = recipe_for(spec.source, arch)
    recipe_config = TrainConfig(**train_recipe)
    epochs = 1 if demo.quick else (spec.epochs or recipe_config.epochs)
    config = dataclasses.replace(recipe_config, epochs=epochs)
    run_dir = demo.out / "runs" / spec.name

    def epoch_line(st: Any) -> None:
        if not demo.quick:
            demo.say(
                f"        epoch {st.epoch:2d}/{epochs}  train {st.train_loss:.4g}  "
                f"val {st.val_loss:.4g}  ({st.seconds:.1f} s)"
            )

    # One torch thread: these models are small, and two threads fighting over two busy
    # cores ran 20-50x slower (digits, 20 epochs: 2.5 s on one thread, 52 s on two).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_training(
            ds, arch, overrides, config, run_dir, progress=False,
            data_source=source, on_epoch_end=epoch_line,
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    m = result.metrics
    quality = m.get("quality", m)
    return TrainStep(
        spec=spec,
        run_dir=run_dir,
        dataset=ds,
        source=source,
        arch=m.get("arch", arch or "default"),
        epochs_run=result.epochs_run,
        best_val=result.best_val,
        val_psnr_db=quality.get("val_psnr_db"),
    )
