"""Training: the trainer loop, its config, losses, corruption, checkpoints and DDP support.

``train(data, arch, overrides, TrainConfig(...), run_dir)`` writes a run directory;
``load_checkpoint(run_dir)`` rebuilds the trained model for export.
"""

from .checkpoint import CHECKPOINT_FORMAT as CHECKPOINT_FORMAT
from .checkpoint import CHECKPOINT_VERSION as CHECKPOINT_VERSION
from .checkpoint import Checkpoint as Checkpoint
from .checkpoint import load_checkpoint as load_checkpoint
from .config import LOSSES as LOSSES
from .config import NOISES as NOISES
from .config import SCHEDULES as SCHEDULES
from .config import TAILS as TAILS
from .config import TrainConfig as TrainConfig
from .corruption import corrupt as corrupt
from .losses import get_loss as get_loss
from .prepare import as_dataset as as_dataset
from .recipes import RECIPES as RECIPES
from .recipes import Recipe as Recipe
from .recipes import recipe_arch as recipe_arch
from .recipes import recipe_for as recipe_for
from .recipes import recipe_source as recipe_source
from .trainer import EpochStats as EpochStats
from .trainer import TrainResult as TrainResult
from .trainer import train as train

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "LOSSES",
    "NOISES",
    "RECIPES",
    "SCHEDULES",
    "TAILS",
    "Checkpoint",
    "EpochStats",
    "Recipe",
    "TrainConfig",
    "TrainResult",
    "as_dataset",
    "corrupt",
    "get_loss",
    "load_checkpoint",
    "recipe_arch",
    "recipe_for",
    "recipe_source",
    "train",
]
