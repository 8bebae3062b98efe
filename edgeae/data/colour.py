"""Colour augmentation of RGB image crops: a random hue per crop and epoch.

A codec learns the colours of the photos it is trained on. Four warm photos (skin, coffee,
a cat, a rocket on a sandy pad) taught the 2026-12-04 colour codec no blue: a held-out
blue sky came back lavender, while the same photo with its channels reversed (the sky
orange) came back at 25.0 dB instead of 19.9 (docs/compression.md). So crops of colour
images are given a random hue each epoch (the ``hue=`` option of ``IMAGES?crop=N``,
docs/data.md).

The law (:class:`HueAugment`): half the crops of an epoch (each with probability 1/2) are
kept as they are; the R, G, B values of the others are rotated about the grey axis
(1, 1, 1) by an angle drawn uniformly in [0, 2 pi) and mirrored (R and B swapped) with
probability 1/2 (:func:`hue_matrices`), then clipped to the source's value range. Keeping
half was measured better on three held-out photos than rotating every crop
(docs/compression.md, "Colour photos"). A rotation about the grey axis
keeps every pixel's brightness (the mean of R, G, B) and its distance from grey (the
saturation): only the hue moves, so the crops keep the statistics of natural photos, their
edges, textures and brightness. The six channel permutations are the special cases at
multiples of 120 degrees; grey pixels are left as they are. A saturated pixel rotated
between two primaries can leave the RGB cube, and is clipped. An alpha channel (a fourth
channel) is kept. Seeded: the draw for an epoch is a function of the source's ``seed``
and the epoch only, so a resumed run sees the same crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["KEPT", "HueAugment", "hue_matrices", "rotate_hues"]

#: The chance that a crop keeps its own colours in an epoch.
KEPT = 0.5

#: The grey axis, as a unit vector: what a hue rotation turns about.
_GREY = np.full(3, 1 / np.sqrt(3))
#: Swapping R and B: a mirror that keeps the grey axis (the other hue direction).
_MIRROR = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def hue_matrices(angles: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """``(N, 3, 3)`` matrices: rotation by ``angles`` (radians) about the grey axis, after
    swapping R and B where ``mirror`` is true (Rodrigues' formula)."""
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    mirror = np.asarray(mirror, dtype=bool).reshape(-1)
    cross = np.array(
        [[0.0, -_GREY[2], _GREY[1]], [_GREY[2], 0.0, -_GREY[0]], [-_GREY[1], _GREY[0], 0.0]]
    )
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    rot = cos * np.eye(3) + sin * cross + (1 - cos) * np.outer(_GREY, _GREY)
    return np.where(mirror[:, None, None], rot @ _MIRROR, rot)


def rotate_hues(
    x: np.ndarray, matrices: np.ndarray, value_range: tuple[float, float]
) -> np.ndarray:
    """Items ``(N, C, H, W)`` (C = 3, or 4 with alpha) with channels 0-2 mapped by
    ``matrices[n]`` and clipped to ``value_range``; float32, a new array."""
    out = np.array(x, dtype=np.float32, copy=True)
    rgb = np.einsum("nij,njhw->nihw", matrices.astype(np.float32), out[:, :3])
    out[:, :3] = np.clip(rgb, value_range[0], value_range[1])
    return out


@dataclass(frozen=True)
class HueAugment:
    """The ``hue=1`` augmentation of a crop source: ``augment(x, epoch)`` -> ``x`` with a
    random hue for about half the items (module docstring), a function of ``(seed, epoch)``
    and ``x``."""

    seed: int
    value_range: tuple[float, float]

    def __call__(self, x: np.ndarray, epoch: int) -> np.ndarray:
        rng = np.random.default_rng((self.seed, epoch))
        n = int(x.shape[0])
        angles, mirror = rng.uniform(0.0, 2 * np.pi, n), rng.random(n) < 0.5
        kept = rng.random(n) < KEPT
        angles[kept], mirror[kept] = 0.0, False
        return rotate_hues(x, hue_matrices(angles, mirror), self.value_range)
