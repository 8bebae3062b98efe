"""TrainState alone: best/patience bookkeeping and the checkpoint round trip resume relies on."""

from __future__ import annotations

import math

import torch
from torch import nn

from edgeae.train.trainer import TrainState


def test_end_epoch_keeps_the_best_weights_and_counts_patience() -> None:
    model = nn.Linear(2, 1)
    s = TrainState()
    assert s.end_epoch(1.0, model, patience=2) and s.best_epoch == 1 and s.best_val == 1.0
    first = {k: v.clone() for k, v in s.best_weights.items()}
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not s.end_epoch(1.5, model, patience=2) and not s.stopped and s.bad_epochs == 1
    assert all(torch.equal(first[k], s.best_weights[k]) for k in first)  # a copy, not a view
    assert not s.end_epoch(1.2, model, patience=2) and s.stopped and s.epoch == 3
    unlimited = TrainState()
    for val in (1.0, 2.0, 3.0, 4.0):
        unlimited.end_epoch(val, model, patience=0)
    assert not unlimited.stopped and unlimited.bad_epochs == 3


def test_checkpoint_round_trip() -> None:
    s = TrainState(epoch=3, best_val=0.25, best_epoch=2, bad_epochs=1, stopped=False,
                   history=[{"epoch": 1}], best_weights={"w": torch.ones(2)})  # fmt: skip
    blob = s.to_checkpoint()
    assert set(blob) == {*TrainState.SCALARS, "history", "best_state_dict"}
    back = TrainState.from_checkpoint(blob)
    assert back.epoch == 3 and back.best_val == 0.25 and back.history == [{"epoch": 1}]
    assert torch.equal(back.best_weights["w"], torch.ones(2))
    assert math.isinf(TrainState().best_val)
