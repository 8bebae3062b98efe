"""Data-parallel training with torch.distributed, detected from the variables torchrun sets.

``torchrun --nproc_per_node=2 -m edgeae train ...`` starts two processes with
``RANK``/``WORLD_SIZE``/``MASTER_ADDR``...; each joins a gloo process group, wraps
the model in DistributedDataParallel and reads its own shard of every epoch.
Rank 0 alone writes the run directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "all_mean", "barrier", "init_distributed", "shutdown"]


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job (``world_size == 1`` when not distributed)."""

    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistContext:
    """Join the gloo process group when launched by torchrun (``WORLD_SIZE`` > 1), else no-op."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_initialized():
        dist.init_process_group(backend="gloo")
    return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size())


def all_mean(value: float, ctx: DistContext) -> float:
    """The mean of ``value`` over all processes (``value`` itself when not distributed)."""
    if not ctx.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / ctx.world_size


def barrier(ctx: DistContext) -> None:
    """Wait for every process (no-op when not distributed)."""
    if ctx.enabled:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    """Leave the process group."""
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()
