"""The frame coder: integer codes <-> one entropy-coded payload per frame.

:func:`encode_frames` and :func:`decode_frames` code many frames at once (one per vector
lane) or one alone (the scalar path, the same bytes), under the factorized, context
(:mod:`.context`) or adaptive (:mod:`.adaptive`) model of their :class:`EntropyTables`,
with the rANS arithmetic of :mod:`.rans`; a corrupt payload is a StreamError naming it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from ...errors import InputError, StreamError
from .adaptive import (
    _ADAPTIVE_LANES,
    _adaptive_freqs,
    _adaptive_layout,
    _adaptive_prior,
    adaptive_cdf,
)
from .context import _context_class_lanes, _neighbour_rows, context_classes
from .rans import (
    _MASK16,
    _WORD,
    RANS_L,
    _rans_lanes,
    _rans_one,
    _rans_step,
    _rans_step_lanes,
    _read_varint,
    _varint,
)
from .tables import MAG_CAP, EntropyTables, _symbols


def _channel_map(channel: Sequence[int] | np.ndarray, size: int, tables: EntropyTables):
    ch = np.asarray(channel, dtype=np.int64).reshape(-1)
    if ch.size != size:
        raise InputError(
            f"channel map has {ch.size} entries for frames of {size} codes", param="channel"
        )
    if ch.size and (ch.min() < 0 or ch.max() >= tables.channels):
        raise InputError(
            f"channel map must index the {tables.channels} entropy tables", param="channel"
        )
    return ch


def encode_frames(
    codes: np.ndarray,
    channel: Sequence[int] | np.ndarray,
    tables: EntropyTables,
    *,
    neighbours: np.ndarray | None = None,
    latent_shape: Sequence[int] | None = None,
) -> list[bytes]:
    """Integer codes ``(frames, codes_per_frame)`` -> one entropy-coded payload per frame.

    ``channel[i]`` names the channel that codes position ``i`` of every frame; a context
    model also needs ``neighbours`` (:func:`neighbour_map` of the frame's latents), an
    adaptive model ``latent_shape`` (a frame holds whole latents of that shape).
    """
    arr = np.asarray(codes)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(
            f"codes must be a 2-D integer array (frames, codes), got {arr.dtype} {arr.shape}",
            param="codes",
        )
    arr = arr.astype(np.int64)
    ch = _channel_map(channel, arr.shape[1], tables)
    nb = _neighbour_rows(neighbours, arr.shape[1], tables)
    sym = _symbols(arr, ch, tables)
    tab = ch * tables.contexts + context_classes(arr, ch, nb, tables)
    if tables.adapt:
        item, pos, classes = _adaptive_layout(tables, latent_shape, arr.shape[1])
        start, freq = _adaptive_freqs(sym, tab * classes + pos, tables, item, classes)
        if arr.shape[0] == 1:
            words = [_rans_one(start[0].tolist(), freq[0].tolist(), tables.precision)]
        else:
            words = _rans_lanes(start, freq, tables.precision)
    elif arr.shape[0] == 1:
        words = [_encode_one(sym[0], tab[0], tables)]
    else:
        words = _encode_lanes(sym, tab, tables)
    escape = tables.symbols - 1
    out = []
    for row, row_words in enumerate(words):
        tail = b"".join(_varint(int(v)) for v in arr[row][sym[row] == escape])
        out.append(row_words.astype("<u2").tobytes() + tail)
    return out


def _encode_one(sym: np.ndarray, tab: np.ndarray, tables: EntropyTables) -> np.ndarray:
    """One frame, scalar Python integers: the reference the vector path must match."""
    rows = tables.rows
    p = tables.precision
    x = RANS_L
    emitted: list[int] = []
    syms, tabs = sym.tolist(), tab.tolist()
    for i in range(len(syms) - 1, -1, -1):
        row = rows[tabs[i]]
        s = syms[i]
        start = row[s]
        freq = row[s + 1] - start
        if x >= freq << (32 - p):
            emitted.append(x & _MASK16)
            x >>= _WORD
        x = ((x // freq) << p) + (x % freq) + start
    emitted.append(x & _MASK16)
    emitted.append(x >> _WORD)
    return np.asarray(emitted[::-1], dtype=np.uint16)


def _encode_lanes(sym: np.ndarray, tab: np.ndarray, tables: EntropyTables) -> list[np.ndarray]:
    """Many frames at once, one per lane; a lane's words come out in its decoder's order."""
    start = tables.cdf[tab, sym]
    return _rans_lanes(start, tables.cdf[tab, sym + 1] - start, tables.precision)


def decode_frames(
    payloads: Sequence[bytes],
    channel: Sequence[int] | np.ndarray,
    tables: EntropyTables,
    *,
    where: Sequence[str] | None = None,
    neighbours: np.ndarray | None = None,
    latent_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Entropy-coded payloads -> integer codes ``(frames, len(channel))``; StreamError if corrupt.

    ``where`` names each payload in errors (e.g. ``"frame 12 at byte 345"``); a context
    model also needs ``neighbours``, an adaptive model ``latent_shape``, as for
    :func:`encode_frames`.
    """
    ch = np.asarray(channel, dtype=np.int64).reshape(-1)
    ch = _channel_map(ch, ch.size, tables)
    nb = _neighbour_rows(neighbours, ch.size, tables)
    names = list(where) if where is not None else [f"frame {i}" for i in range(len(payloads))]
    size = ch.size
    frames = len(payloads)
    layout = _adaptive_layout(tables, latent_shape, size) if tables.adapt else None
    if layout is not None and frames > _ADAPTIVE_LANES:  # bounded counts: lanes in blocks
        return np.concatenate(
            [
                decode_frames(
                    payloads[i : i + _ADAPTIVE_LANES],
                    ch,
                    tables,
                    where=names[i : i + _ADAPTIVE_LANES],
                    neighbours=neighbours,
                    latent_shape=latent_shape,
                )
                for i in range(0, frames, _ADAPTIVE_LANES)
            ]
        )
    if frames == 0:
        return np.zeros((0, size), dtype=np.int64)
    # Pad every frame's words into one table; a lane reading past its own words is corrupt.
    counts = np.asarray([len(b) // 2 for b in payloads], dtype=np.int64)
    width = int(counts.max()) + 1
    table = np.zeros((frames, width), dtype=np.uint64)
    for lane, buf in enumerate(payloads):
        n = int(counts[lane])
        table[lane, :n] = np.frombuffer(buf[: 2 * n], dtype="<u2")
    short = counts < 2
    if np.any(short):
        raise StreamError(f"{names[int(np.argmax(short))]}: entropy-coded payload is too short")
    if layout is not None and frames == 1:
        sym, pos, x = _decode_adaptive_one(table[0, : counts[0]].tolist(), ch, nb, tables, *layout)
        sym, pos, x = sym[None, :], np.array([pos]), np.array([x], dtype=np.uint64)
    elif layout is not None:
        sym, pos, x = _decode_adaptive(table, ch, nb, tables, *layout)
    elif frames == 1:
        sym, pos, x = _decode_one(table[0, : counts[0]].tolist(), ch, nb, tables)
        sym, pos, x = sym[None, :], np.array([pos]), np.array([x], dtype=np.uint64)
    else:
        sym, pos, x = _decode_lanes(table, ch, nb, tables)
    bad = (x != np.uint64(RANS_L)) | (pos > counts)
    if np.any(bad):
        raise StreamError(f"{names[int(np.argmax(bad))]}: entropy-coded payload is corrupted")
    codes = sym + tables.offset[ch]
    escape = tables.symbols - 1
    for lane in range(frames):
        hits = np.flatnonzero(sym[lane] == escape)
        at = 2 * int(pos[lane])
        buf = payloads[lane]
        for i in hits:
            codes[lane, i], at = _read_varint(buf, at, names[lane])
        if at != len(buf):
            raise StreamError(f"{names[lane]}: {len(buf) - at} unexpected bytes after the codes")
    return codes


def _decode_one(words: list[int], ch: np.ndarray, nb: np.ndarray, tables: EntropyTables):
    """One frame, scalar Python integers: symbols, words read, final state."""
    rows = tables.rows
    p = tables.precision
    x = (words[0] << _WORD) | words[1]
    pos = 2
    k = tables.contexts
    escape = tables.symbols - 1
    offset = tables.offset[ch].tolist()
    chans = ch.tolist()
    nbs = nb.T.tolist()
    thresholds = list(tables.thresholds)
    mags: list[int] = []
    sym = np.empty(len(chans), dtype=np.int64)
    for i, c in enumerate(chans):
        t = c
        if k > 1:
            total = sum(mags[j] for j in nbs[i] if j >= 0)
            t = c * k + bisect_right(thresholds, total)
        s, x, pos = _rans_step(x, pos, rows[t], words, p)
        sym[i] = s
        if k > 1:
            mags.append(MAG_CAP if s == escape else min(abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_lanes(table: np.ndarray, ch: np.ndarray, nb: np.ndarray, tables: EntropyTables):
    """Many frames at once, one per lane (``table`` holds each lane's words, zero-padded)."""
    frames = table.shape[0]
    x = (table[:, 0] << np.uint64(_WORD)) | table[:, 1]
    pos = np.full(frames, 2, dtype=np.int64)
    p = tables.precision
    k = tables.contexts
    flat, cdf = tables.flat, tables.cdf
    thresholds = np.asarray(tables.thresholds, dtype=np.int64)
    escape = tables.symbols - 1
    offset = tables.offset[ch]
    sym = np.empty((frames, ch.size), dtype=np.int64)
    mag = np.zeros((frames, ch.size), dtype=np.int64) if k > 1 else None
    nbs = [[int(j) for j in col if j >= 0] for col in nb.T] if k > 1 else None
    for i in range(ch.size):
        if mag is not None and nbs is not None:
            t = ch[i] * k + _context_class_lanes(mag, nbs[i], thresholds)
        else:
            t = np.full(frames, ch[i], dtype=np.int64)
        s, x, pos = _rans_step_lanes(x, pos, t, flat, cdf, table, p)
        sym[:, i] = s
        if mag is not None:
            mag[:, i] = np.where(s == escape, MAG_CAP, np.minimum(np.abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_adaptive(
    table: np.ndarray,
    ch: np.ndarray,
    nb: np.ndarray,
    tables: EntropyTables,
    item: int,
    positions: np.ndarray,
    classes: int,
):
    """An adaptive model's frames, one per lane: the tables are rebuilt from the counts
    before every latent, and the counts take the latent's codes once it is decoded."""
    frames = table.shape[0]
    lanes = np.arange(frames)
    x = (table[:, 0] << np.uint64(_WORD)) | table[:, 1]
    pos = np.full(frames, 2, dtype=np.int64)
    p = tables.precision
    total = 1 << p
    k = tables.contexts
    row_len = tables.symbols + 1
    row_shift = total + 1
    thresholds = np.asarray(tables.thresholds, dtype=np.int64)
    escape = tables.symbols - 1
    offset = tables.offset[ch]
    prior = _adaptive_prior(tables, classes)
    rows = prior.shape[0]
    counts = np.broadcast_to(prior, (frames, *prior.shape)).copy()
    lane_row = (lanes * rows)[:, None]
    shifts = (np.arange(frames * rows, dtype=np.int64) * row_shift)[:, None]
    sym = np.empty((frames, ch.size), dtype=np.int64)
    used = np.empty((frames, ch.size), dtype=np.int64)
    mag = np.zeros((frames, ch.size), dtype=np.int64) if k > 1 else None
    nbs = [[int(j) for j in col if j >= 0] for col in nb.T] if k > 1 else None
    cdf = flat = None
    for i in range(ch.size):
        if i % item == 0:
            if i:
                part = slice(i - item, i)
                np.add.at(counts, (lanes[:, None], used[:, part], sym[:, part]), total)
            cdf = adaptive_cdf(counts, tables).reshape(frames * rows, row_len)
            flat = (cdf + shifts).ravel()
        base = ch[i] * k
        if mag is not None and nbs is not None:
            base = base + _context_class_lanes(mag, nbs[i], thresholds)
        r = base * classes + positions[i]
        t = r + lane_row[:, 0]
        s, x, pos = _rans_step_lanes(x, pos, t, flat, cdf, table, p)
        sym[:, i] = s
        used[:, i] = r
        if mag is not None:
            mag[:, i] = np.where(s == escape, MAG_CAP, np.minimum(np.abs(s + offset[i]), MAG_CAP))
    return sym, pos, x


def _decode_adaptive_one(
    words: list[int],
    ch: np.ndarray,
    nb: np.ndarray,
    tables: EntropyTables,
    item: int,
    positions: np.ndarray,
    classes: int,
):
    """One frame of an adaptive model, scalar Python integers (the tables a latent
    changed are rebuilt after it): symbols, words read, final state."""
    p = tables.precision
    total = 1 << p
    x = (words[0] << _WORD) | words[1]
    at = 2
    k = tables.contexts
    escape = tables.symbols - 1
    offset = tables.offset[ch].tolist()
    chans = ch.tolist()
    places = positions.tolist()
    nbs = nb.T.tolist()
    thresholds = list(tables.thresholds)
    counts = _adaptive_prior(tables, classes)
    rows = adaptive_cdf(counts, tables).tolist()
    mags: list[int] = []
    sym = np.empty(len(chans), dtype=np.int64)
    used = np.empty(len(chans), dtype=np.int64)
    for i, c in enumerate(chans):
        if i and i % item == 0:
            r_part = used[i - item : i]
            np.add.at(counts, (r_part, sym[i - item : i]), total)
            touched = np.unique(r_part)
            new_rows = adaptive_cdf(counts[touched], tables).tolist()
            for r, new in zip(touched.tolist(), new_rows, strict=True):
                rows[r] = new
        t = c
        if k > 1:
            acc = sum(mags[j] for j in nbs[i] if j >= 0)
            t = c * k + bisect_right(thresholds, acc)
        t = t * classes + places[i]
        s, x, at = _rans_step(x, at, rows[t], words, p)
        sym[i] = s
        used[i] = t
        if k > 1:
            mags.append(MAG_CAP if s == escape else min(abs(s + offset[i]), MAG_CAP))
    return sym, at, x
