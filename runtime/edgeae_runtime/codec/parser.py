"""Incremental parsing of an edgeae stream from byte chunks of any size.

:class:`StreamParser` accepts bytes split anywhere and returns complete
structures (header, frames, lost-frame notices, end marker) as soon as they are
whole. In strict mode every corruption raises a StreamError naming the frame; in
tolerant mode (for concealment on lossy links) damaged bytes are skipped up to the
next frame marker and missing frames are reported as :class:`Lost`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError, StreamError
from .format import (
    END_SIZE,
    END_SYNC,
    FRAME_DEFLATED,
    FRAME_ENTROPY,
    FRAME_HEADER_SIZE,
    FRAME_SYNC,
    EndOfStream,
    Frame,
    StreamHeader,
    frame_crc_ok,
    parse_end,
    parse_frame_header,
    parse_header,
)

__all__ = ["LOST_PER_FRAME", "MAX_GAP", "Event", "Lost", "StreamParser"]

MAX_GAP = 65536  # more consecutive lost frames than this is not a lossy link but a broken one
#: Concealment over a whole stream is bounded too: at most ``MAX_GAP`` lost frames plus
#: this many per frame received, so a few hundred hostile bytes cannot claim gigabytes
#: of concealed output.
LOST_PER_FRAME = 16


@dataclass(frozen=True)
class Lost:
    """Frames ``first .. first + count - 1`` are missing or were damaged (tolerant mode)."""

    first: int
    count: int


Event = StreamHeader | Frame | Lost | EndOfStream


def _as_bytes(data: object) -> bytes | bytearray | memoryview:
    """Stream bytes as given: bytes-like, or a 1-D uint8 numpy array; else ParameterError."""
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, memoryview):
        return data.cast("B") if data.format != "B" or data.ndim != 1 else data
    dtype, ndim = getattr(data, "dtype", None), getattr(data, "ndim", None)
    if dtype is not None and str(dtype) in ("uint8", "int8") and ndim == 1:
        return data.tobytes()  # type: ignore[attr-defined]
    what = f"a {dtype} array of {ndim} dimensions" if dtype is not None else type(data).__name__
    raise ParameterError(
        f"stream bytes must be bytes or a 1-D uint8 array, got {what}", param="data"
    )


class _NeedMore(Exception):
    """Internal: the structure at the cursor is not complete yet."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class StreamParser:
    """Turns byte chunks into stream events; the state of one stream being read.

    ``tolerant=False`` (the default) raises StreamError on the first problem:
    bad magic, unsupported version, header CRC, frame CRC, an index gap, an
    absurd length, bytes after the end. ``tolerant=True`` skips damaged bytes,
    drops stale frames and reports gaps as :class:`Lost`; only an unreadable
    header or an absurd gap is still fatal.
    """

    def __init__(self, *, tolerant: bool = False, max_gap: int = MAX_GAP) -> None:
        self.tolerant = tolerant
        self.max_gap = max_gap
        self.frames = 0  # frames accepted
        self.lost = 0  # frames reported lost so far (tolerant mode)
        self.header: StreamHeader | None = None
        self.end: EndOfStream | None = None
        self.next_index = 0  # the frame index expected next
        self.samples = 0  # samples (images) carried by the frames seen
        self.damaged = 0  # damaged regions skipped (tolerant mode)
        self.dropped = 0  # intact frames dropped as stale/duplicate (tolerant mode)
        self.truncated = False  # tolerant finish() found no end marker
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._seen_bytes = 0
        self._short = False  # the last frame covered fewer samples than a full hop

    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Add bytes; return every structure completed by them, in stream order."""
        data = _as_bytes(data)
        self._buf += data
        self._seen_bytes += len(data)
        return self._run(final=False)

    def finish(self) -> list[Event]:
        """Declare the input ended; raise (strict) or note (tolerant) a truncated stream."""
        if self.header is None and self._seen_bytes == 0:
            raise StreamError("empty stream: there are no bytes to decode")
        return self._run(final=True)

    # -- the loop --------------------------------------------------------------------
    def _run(self, *, final: bool) -> list[Event]:
        events: list[Event] = []
        pos = 0
        try:
            if self.header is None:
                parsed = parse_header(self._buf)
                if parsed is None:
                    raise _NeedMore(f"stream truncated inside the header ({len(self._buf)} bytes)")
                self.header, pos = parsed
                events.append(self.header)
            while pos < len(self._buf):
                pos = self._step(self.header, pos, events)
        except _NeedMore as more:
            if final:
                if self.tolerant and self.header is not None:
                    pos = self._finish_tolerant(self.header, pos, events)
                else:
                    raise StreamError(more.what) from None
        if final and self.end is None and not self.tolerant and pos >= len(self._buf):
            after = f"frame {self.next_index - 1}" if self.next_index else "the header"
            raise StreamError(f"stream truncated after {after}: no end-of-stream marker")
        if final and self.end is None:
            self.truncated = True
        del self._buf[:pos]
        self._base += pos
        return events

    def _finish_tolerant(self, header: StreamHeader, pos: int, events: list[Event]) -> int:
        """At end of input, skip incomplete candidates and keep parsing what follows."""
        while pos < len(self._buf):
            pos = self._skip(pos)
            try:
                while pos < len(self._buf):
                    pos = self._step(header, pos, events)
            except _NeedMore:
                continue
        return pos

    def _step(self, header: StreamHeader, pos: int, events: list[Event]) -> int:
        """Parse one structure at ``pos``; return the new cursor."""
        buf = self._buf
        offset = self._base + pos
        if self.end is not None:
            if self.tolerant:
                return len(buf)
            raise StreamError(
                f"{len(buf) - pos} unexpected bytes after the end-of-stream marker at byte "
                f"{self.end.offset} (two streams concatenated?)"
            )
        if len(buf) - pos < 2:
            raise _NeedMore(self._truncated_msg(pos, 2))
        sync = bytes(buf[pos : pos + 2])
        name = f"frame {self.next_index} at byte {offset}"
        if sync == FRAME_SYNC:
            if len(buf) - pos < FRAME_HEADER_SIZE:
                raise _NeedMore(self._truncated_msg(pos, FRAME_HEADER_SIZE))
            flags, index, samples, size = parse_frame_header(buf, pos)
            if size > header.max_payload:
                return self._damage(
                    pos, f"{name}: absurd payload length {size} (at most {header.max_payload})"
                )
            need = FRAME_HEADER_SIZE + size + 4
            if len(buf) - pos < need:
                raise _NeedMore(self._truncated_msg(pos, need))
            if not frame_crc_ok(buf, pos, size):
                return self._damage(pos, f"{name}: CRC32 mismatch (corrupted frame)")
            allowed = FRAME_ENTROPY if header.entropy_digest else FRAME_DEFLATED
            if flags & ~allowed or not 1 <= samples <= header.max_samples:
                return self._damage(
                    pos, f"{name}: invalid flags 0x{flags:02x} or sample count {samples}"
                )
            if not self._accept_index(index, offset, events):
                return pos + need
            start = pos + FRAME_HEADER_SIZE
            payload = bytes(buf[start : start + size])
            events.append(Frame(index, samples, flags, payload, offset))
            self.frames += 1
            self._short = samples < header.max_samples
            self.samples += samples
            self.next_index = index + 1
            return pos + need
        if sync == END_SYNC:
            if len(buf) - pos < END_SIZE:
                raise _NeedMore(self._truncated_msg(pos, END_SIZE))
            end = parse_end(buf, pos)
            if end is None:
                return self._damage(
                    pos, f"end-of-stream marker at byte {offset}: CRC32 mismatch (corrupted)"
                )
            end = EndOfStream(end.frames, end.total, offset)
            if end.frames < self.next_index:
                return self._damage(
                    pos,
                    f"end-of-stream marker at byte {offset} says {end.frames} frames "
                    f"but {self.next_index} arrived",
                )
            if end.frames > self.next_index:
                self._gap(end.frames, f"end-of-stream marker at byte {offset}", events)
            elif not self.tolerant and end.total != self.samples:
                raise StreamError(
                    f"end-of-stream marker says {end.total} samples but the frames carry "
                    f"{self.samples} (corrupted stream)"
                )
            self.next_index = end.frames
            self.end = end
            events.append(end)
            return pos + END_SIZE
        return self._damage(pos, f"{name}: bad frame marker (corrupted or misaligned stream)")

    def _accept_index(self, index: int, offset: int, events: list[Event]) -> bool:
        """Check a CRC-valid frame's sequence number; False means drop the frame."""
        if index < self.next_index:
            if self.tolerant:
                self.dropped += 1
                return False
            raise StreamError(
                f"frame {index} at byte {offset}: out of order, expected frame "
                f"{self.next_index} (frames duplicated or reordered)"
            )
        if self._short and not self.tolerant:
            raise StreamError(
                f"frame {index} at byte {offset} follows a short frame that should have "
                "been the last (corrupted stream)"
            )
        if index > self.next_index:
            self._gap(index, f"frame {index} at byte {offset}", events)
        return True

    def _gap(self, index: int, where: str, events: list[Event]) -> None:
        """Frames next_index .. index-1 are missing: fatal, or a Lost event."""
        count = index - self.next_index
        if not self.tolerant:
            raise StreamError(
                f"lost frame {self.next_index}: frame index gap, {where} comes after "
                f"frame {self.next_index - 1}" + (f" ({count} frames missing)" if count > 1 else "")
            )
        if count > self.max_gap:
            raise StreamError(
                f"lost frames {self.next_index}..{index - 1}: {where} jumps {count} frames "
                f"ahead, more than {self.max_gap} can be concealed"
            )
        budget = self.max_gap + LOST_PER_FRAME * self.frames
        if self.lost + count > budget:
            raise StreamError(
                f"lost frames {self.next_index}..{index - 1}: {self.lost + count} frames lost "
                f"in all for {self.frames} received, more than the {budget} that can be "
                "concealed (a broken link or a forged stream)"
            )
        self.lost += count
        events.append(Lost(self.next_index, count))
        self.next_index = index

    def _damage(self, pos: int, message: str) -> int:
        """Strict: raise ``message``. Tolerant: count it and resync at the next marker."""
        if not self.tolerant:
            raise StreamError(message)
        self.damaged += 1
        return self._skip(pos)

    def _skip(self, pos: int) -> int:
        """The position of the next frame or end marker after ``pos`` (or the buffer's end)."""
        candidates = [self._buf.find(s, pos + 1) for s in (FRAME_SYNC, END_SYNC)]
        found = [c for c in candidates if c >= 0]
        if found:
            return min(found)
        keep_last = len(self._buf) > pos + 1 and self._buf[-1] == FRAME_SYNC[0]
        return len(self._buf) - 1 if keep_last else len(self._buf)

    def _truncated_msg(self, pos: int, need: int) -> str:
        have = len(self._buf) - pos
        if self.header is not None and self.end is None:
            kind = "frame" if bytes(self._buf[pos : pos + 2]) != END_SYNC else "end marker"
            what = f"frame {self.next_index}" if kind == "frame" else "the end-of-stream marker"
            return (
                f"stream truncated: {what} at byte {self._base + pos} is incomplete "
                f"({have} of {need} bytes)"
            )
        return f"stream truncated ({have} bytes left over)"
