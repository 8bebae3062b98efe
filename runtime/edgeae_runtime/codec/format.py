"""The edgeae stream format, versions 1 to 6: pure functions from structures to bytes and back.

A stream is a preamble (magic, version, header length), a CRC32-protected header,
then frames (each with its own index, length and CRC32) and an end-of-stream
marker carrying the frame and sample counts. Nothing here touches a model; the
byte layout is documented table by table in docs/stream-format.md. Version 2
is version 1 plus an entropy model: the header names the model's code tables by
digest, and frames are rANS-coded (:mod:`.entropy`); streams without one are
still written, byte for byte, as version 1. Version 3 is version 2 with several
signal windows in one rANS-coded frame (``frame_items`` windows per frame);
one window per frame is still written as version 2. Version 4 is version 3 (any
kind, ``frame_items`` latents per frame) whose header names the entropy model that
codes its frames, the manifest's context model (``codec.context``); streams coded
with the factorized tables are still written as versions 2 and 3, byte for byte.
Version 5 is version 4 naming the manifest's adaptive model (``codec.adaptive``: tables
that adapt within a frame); context-coded streams are still written as version 4.
Version 6 is one whole image of any size cut into the model's tiles (``canvas``: its
height and width; the tiles are the items, row by row; ``latent_map``: their latents are
one map, encoded and decoded whole); batches of model-size images are still written as
versions 1 to 5.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import StreamError

__all__ = [
    "END_SIZE",
    "END_SYNC",
    "ENTROPY_DIGEST_SIZE",
    "FORMAT_VERSION",
    "FRAME_DEFLATED",
    "FRAME_ENTROPY",
    "FRAME_HEADER_SIZE",
    "FRAME_SYNC",
    "MAGIC",
    "MAX_DECODED_VALUES",
    "MAX_HEADER_BYTES",
    "PREAMBLE_SIZE",
    "EndOfStream",
    "Frame",
    "StreamHeader",
    "frame_crc_ok",
    "pack_end",
    "pack_frame",
    "pack_header",
    "parse_end",
    "parse_frame_header",
    "parse_header",
]

MAGIC = b"EAEC"
FORMAT_VERSION = 6  # the newest this runtime writes; it reads 1 to 6
_VERSIONS = (1, 2, 3, 4, 5, 6)
#: The entropy models a version 4 to 6 header can name, by their byte (0 only in version 6,
#: for the factorized tables or none: a factorized stream is otherwise version 2 or 3; 1 is
#: version 4 or 6, 2 version 5 or 6).
_ENTROPY_MODELS = ("factorized", "context", "adaptive")
ENTROPY_DIGEST_SIZE = 8
MAX_FRAME_ITEMS = 4096
MAX_HEADER_BYTES = 65536
MAX_DIM = 1 << 24
MAX_CODE_BYTES = 1 << 24  # one frame's codes; anything larger is an absurd header
MAX_ITEM_VALUES = 1 << 24  # values in one decoded item (window or image)
#: One item stream (a batch, or the tiles of one image, padding included) decodes into one
#: array: at most this many values (512 MiB of float32), whatever the compression ratio
#: (an entropy-coded frame of zeros is a few bytes).
MAX_DECODED_VALUES = 1 << 27
PREAMBLE_SIZE = 9  # magic(4) version(1) header_len(4)
FRAME_SYNC = b"\xae\xf0"
END_SYNC = b"\xae\xfe"
FRAME_DEFLATED = 0x01  # frame flag: payload is raw-deflate (zlib wbits=-15) compressed
FRAME_ENTROPY = 0x02  # frame flag (version 2): payload is rANS-coded with the header's tables
HEADER_PER_FRAME = 0x01  # header flag: frames carry their own scale/offset
HEADER_ENTROPY = 0x02  # header flag (version 2): an entropy model digest follows the fingerprint

_PREAMBLE = struct.Struct("<4sBI")
_FIXED = struct.Struct("<BBBBIHII")  # kind flags bits synth sample_rate channels window hop
_FRAME = struct.Struct("<2sBIII")  # sync flags index samples payload_len
_END = struct.Struct("<2sIQ")  # sync frames total_samples
_CANVAS = struct.Struct("<IIB")  # version 6: the image's height, width; 1 = one latent map
_CRC = struct.Struct("<I")
FRAME_HEADER_SIZE = _FRAME.size  # 15
END_SIZE = _END.size + _CRC.size  # 18

_KINDS = ("signal", "image", "items")
_SYNTH = ("rect", "hann")


@dataclass(frozen=True)
class StreamHeader:
    """What a decoder must know before the first frame (one per stream).

    ``scale``/``zero_point`` are the latent code quantization (one value, or one
    per latent channel); both empty means every frame carries its own scaling.
    ``window``/``hop`` are the windows as coded (``hop == window``: no overlap).
    """

    fingerprint: str
    kind: Literal["signal", "image", "items"]
    item_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]
    bits: int = 8
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    sample_rate: int = 0
    channels: int = 0
    window: int = 0
    hop: int = 0
    synthesis: Literal["rect", "hann"] = "rect"
    entropy_digest: bytes = b""  # names the entropy model (version 2); empty: none
    # Items (images) per frame of an entropy-coded item stream (version 2), or signal
    # windows per frame of an entropy-coded signal stream (version 3 when above 1).
    frame_items: int = 1
    # Which of the manifest's entropy models codes the frames (version 4 names "context",
    # version 5 "adaptive").
    entropy_model: Literal["factorized", "context", "adaptive"] = "factorized"
    # Version 6: the (height, width) of the one whole image whose tiles (the items, each
    # ``item_shape``) the frames hold row by row; empty for every other stream.
    canvas: tuple[int, ...] = ()
    # Version 6: the tiles' latents are one latent map of the whole image, encoded and
    # decoded whole (a fully convolutional model), not tile by tile.
    latent_map: bool = False
    # The tables themselves (an EntropyTables), bound from the model, never serialized.
    entropy: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_header(self)

    @property
    def version(self) -> int:
        """The format version this header is written in: 6 for a tiled image, 5 with the
        adaptive entropy model, 4 with the context entropy model, 3 for signal streams
        with several windows per frame, 2 with an entropy model or for item batches
        (kind ``items``), else 1, so older readers still read what they can."""
        if self.canvas:
            return 6
        if self.entropy_model == "adaptive":
            return 5
        if self.entropy_model == "context":
            return 4
        if self.kind == "signal" and self.frame_items > 1:
            return 3
        return 2 if self.entropy_digest or self.kind == "items" else 1

    @property
    def per_frame(self) -> bool:
        """True when frames carry their own scale and offset (no codec in the manifest)."""
        return not self.scale

    @property
    def latent_size(self) -> int:
        """Number of latent codes in one frame."""
        return math.prod(self.latent_shape)

    @property
    def code_bytes(self) -> int:
        """Bytes of packed codes in one frame (before optional deflate)."""
        return (self.latent_size * self.bits + 7) // 8

    @property
    def max_payload(self) -> int:
        """The largest payload a frame of this stream can have (scaling prefix + codes).

        An entropy-coded frame holds one 16-bit word per code, the 32-bit final
        state, and at most a 10-byte varint per escaped code.
        """
        if self.entropy_digest:
            return 12 * self.latent_size * self.frame_items + 4
        return self.code_bytes + (8 if self.per_frame else 0)

    @property
    def tiles(self) -> int:
        """How many tiles a version 6 stream holds (its canvas cut into item-size tiles,
        the last row and column padded); 0 for every other stream."""
        if not self.canvas:
            return 0
        return math.prod(-(-n // t) for n, t in zip(self.canvas, self.item_shape[1:], strict=True))

    @property
    def max_samples(self) -> int:
        """The most samples (or images) one frame may cover."""
        return self.hop * self.frame_items if self.kind == "signal" else self.frame_items

    def frame_latents(self, samples: int) -> int:
        """How many latents a frame covering ``samples`` holds: one per item, or one per
        window for signals (every window carries ``hop`` samples, the last one 1..hop)."""
        return -(-samples // self.hop) if self.kind == "signal" else samples


@dataclass(frozen=True)
class Frame:
    """One parsed frame: its sequence number, samples covered, flags and payload."""

    index: int
    samples: int
    flags: int
    payload: bytes
    offset: int = 0  # byte offset of the frame in the stream, for error messages


@dataclass(frozen=True)
class EndOfStream:
    """The end marker: how many frames and samples (images) the stream holds."""

    frames: int
    total: int
    offset: int = 0


def _check_header(h: StreamHeader) -> None:
    """Reject header values no encoder writes; each message names the field."""

    def bad(field: str, why: str) -> StreamError:
        return StreamError(f"stream header: {field} {why}")

    if h.kind not in _KINDS:
        raise bad("kind", f"must be signal, image or items, got {h.kind!r}")
    if h.bits not in (4, 8, 16):
        raise bad("bits", f"must be 4, 8 or 16, got {h.bits}")
    if h.synthesis not in _SYNTH:
        raise bad("synthesis window", f"must be rect or hann, got {h.synthesis!r}")
    for name, shape in (("item shape", h.item_shape), ("latent shape", h.latent_shape)):
        if not 1 <= len(shape) <= 4 or any(not 1 <= d <= MAX_DIM for d in shape):
            raise bad(name, f"is absurd: {list(shape)}")
    if h.code_bytes > MAX_CODE_BYTES:
        raise bad("latent shape", f"{list(h.latent_shape)} is absurdly large")
    if math.prod(h.item_shape) > MAX_ITEM_VALUES:
        raise bad("item shape", f"{list(h.item_shape)} is absurdly large")
    if len(h.scale) != len(h.zero_point):
        raise bad("quantization", "needs as many zero points as scales")
    if len(h.scale) not in (0, 1, h.latent_shape[0]):
        raise bad("quantization", f"needs 0, 1 or {h.latent_shape[0]} scales, got {len(h.scale)}")
    if any(not (math.isfinite(s) and s > 0) for s in h.scale):
        raise bad("quantization scale", "must be finite and positive")
    if any(not -(2**31) <= z < 2**31 for z in h.zero_point):
        raise bad("quantization zero point", "must fit in 32 bits")
    if h.kind == "signal":
        if h.sample_rate <= 0 or h.channels <= 0:
            raise bad("sample rate/channels", "must be positive for a signal stream")
        if h.window <= 0 or not 0 < h.hop <= h.window:
            raise bad("window/hop", f"must satisfy 0 < hop <= window, got {h.window}/{h.hop}")
        if h.window > MAX_DIM or h.channels * h.window > MAX_ITEM_VALUES:
            raise bad("window", f"is absurd: {h.channels} channels x {h.window}")
        if h.channels > 1024 or h.sample_rate > 10_000_000:
            raise bad("sample rate/channels", f"are absurd: {h.sample_rate} Hz, {h.channels}")
    if len(h.fingerprint.encode("utf-8")) > 255:
        raise bad("fingerprint", "exceeds 255 bytes")
    if h.entropy_digest and (len(h.entropy_digest) != ENTROPY_DIGEST_SIZE or h.per_frame):
        raise bad("entropy model", f"needs a {ENTROPY_DIGEST_SIZE}-byte digest and a codec scale")
    if not 1 <= h.frame_items <= MAX_FRAME_ITEMS:
        raise bad("items per frame", f"must be 1..{MAX_FRAME_ITEMS}, got {h.frame_items}")
    if h.frame_items > 1 and not h.entropy_digest:
        raise bad("items per frame", "above 1 only for entropy-coded streams")
    if h.entropy_model not in _ENTROPY_MODELS:
        raise bad(
            "entropy model", f"must be factorized, context or adaptive, got {h.entropy_model!r}"
        )
    if h.entropy_model != "factorized" and not h.entropy_digest:
        raise bad("entropy model", f"{h.entropy_model!r} needs an entropy model digest")
    if h.entropy_digest and h.max_payload > MAX_CODE_BYTES:
        raise bad("latent shape", f"{list(h.latent_shape)} is absurdly large")
    if h.latent_map and not h.canvas:
        raise bad("latent map", "only for the tiles of one image (a canvas)")
    if h.canvas:
        if h.kind != "image" or len(h.item_shape) != 3 or len(h.canvas) != 2:
            raise bad("canvas", "(height, width) only for a stream of image tiles (C, H, W)")
        if any(not 1 <= d <= MAX_DIM for d in h.canvas):
            raise bad("canvas", f"is absurd: {list(h.canvas)}")
        if h.tiles * math.prod(h.item_shape) > MAX_DECODED_VALUES:
            raise bad("canvas", f"{list(h.canvas)} is absurdly large")


def pack_header(h: StreamHeader) -> bytes:
    """Preamble + header body + CRC32: the first bytes of every stream."""
    fp = h.fingerprint.encode("utf-8")
    body = [
        _FIXED.pack(
            _KINDS.index(h.kind),
            (HEADER_PER_FRAME if h.per_frame else 0) | (HEADER_ENTROPY if h.entropy_digest else 0),
            h.bits,
            _SYNTH.index(h.synthesis),
            h.sample_rate,
            h.channels,
            h.window,
            h.hop,
        ),
        struct.pack(f"<B{len(h.item_shape)}I", len(h.item_shape), *h.item_shape),
        struct.pack(f"<B{len(h.latent_shape)}I", len(h.latent_shape), *h.latent_shape),
        struct.pack(f"<H{len(h.scale)}f{len(h.scale)}i", len(h.scale), *h.scale, *h.zero_point),
        struct.pack("<B", len(fp)) + fp,
        h.entropy_digest,
        struct.pack("<H", h.frame_items) if h.version >= 2 else b"",
        struct.pack("<B", _ENTROPY_MODELS.index(h.entropy_model)) if h.version >= 4 else b"",
        _CANVAS.pack(*h.canvas, int(h.latent_map)) if h.version >= 6 else b"",
    ]
    data = b"".join(body)
    head = _PREAMBLE.pack(MAGIC, h.version, len(data)) + data
    return head + _CRC.pack(zlib.crc32(head))


def parse_header(buf: bytes | bytearray | memoryview) -> tuple[StreamHeader, int] | None:
    """Parse the stream's header from the start of ``buf``: (header, bytes used).

    Returns None while ``buf`` is too short to tell; raises StreamError for bad
    magic, an unsupported version, an absurd length, a CRC mismatch or bad fields.
    """
    buf = bytes(buf[: PREAMBLE_SIZE + MAX_HEADER_BYTES + 4])
    if len(buf) < 4:
        if not MAGIC.startswith(buf):
            raise StreamError("not an edgeae stream (bad magic bytes)")
        return None
    if buf[:4] != MAGIC:
        raise StreamError("not an edgeae stream (bad magic bytes)")
    if len(buf) < PREAMBLE_SIZE:
        return None
    _, version, size = _PREAMBLE.unpack_from(buf)
    if version not in _VERSIONS:
        raise StreamError(
            f"unsupported stream format version {version}: this runtime reads versions "
            f"{', '.join(map(str, _VERSIONS))}; use a matching edgeae-runtime"
        )
    if size > MAX_HEADER_BYTES:
        raise StreamError(f"stream header: absurd length {size} bytes (corrupted stream)")
    end = PREAMBLE_SIZE + size
    if len(buf) < end + 4:
        return None
    (crc,) = _CRC.unpack_from(buf, end)
    if zlib.crc32(buf[:end]) != crc:
        raise StreamError("stream header: CRC32 mismatch (corrupted stream)")
    return _parse_body(buf[PREAMBLE_SIZE:end], version), end + 4


def _parse_body(body: bytes, version: int = 1) -> StreamHeader:
    """Decode a header body whose CRC already checked out."""
    try:
        kind, flags, bits, synth, rate, channels, window, hop = _FIXED.unpack_from(body)
        pos = _FIXED.size
        shapes = []
        for _ in range(2):
            (rank,) = struct.unpack_from("<B", body, pos)
            shapes.append(struct.unpack_from(f"<{rank}I", body, pos + 1))
            pos += 1 + 4 * rank
        (nq,) = struct.unpack_from("<H", body, pos)
        params = struct.unpack_from(f"<{nq}f{nq}i", body, pos + 2)
        pos += 2 + 8 * nq
        (fp_len,) = struct.unpack_from("<B", body, pos)
        fingerprint = body[pos + 1 : pos + 1 + fp_len].decode("utf-8")
        pos += 1 + fp_len
        digest = b""
        if flags & HEADER_ENTROPY:
            digest = body[pos : pos + ENTROPY_DIGEST_SIZE]
            pos += ENTROPY_DIGEST_SIZE
        frame_items = 1
        if version >= 2:
            (frame_items,) = struct.unpack_from("<H", body, pos)
            pos += 2
        model = 0
        if version >= 4:
            (model,) = struct.unpack_from("<B", body, pos)
            pos += 1
        canvas: tuple[int, ...] = ()
        latent_map = 0
        if version >= 6:
            *canvas, latent_map = _CANVAS.unpack_from(body, pos)
            pos += _CANVAS.size
    except (struct.error, UnicodeDecodeError) as exc:
        raise StreamError(f"stream header: malformed ({exc})") from None
    if pos != len(body) or len(fingerprint.encode("utf-8")) != fp_len:
        raise StreamError("stream header: length does not match its fields (corrupted stream)")
    if latent_map > 1:
        raise StreamError(f"stream header: unknown tiling {latent_map}")
    if kind >= len(_KINDS) or synth >= len(_SYNTH):
        raise StreamError(f"stream header: unknown item kind {kind} or synthesis window {synth}")
    known = HEADER_PER_FRAME | (HEADER_ENTROPY if version >= 2 else 0)
    if flags & ~known or bool(flags & HEADER_PER_FRAME) != (nq == 0):
        raise StreamError(f"stream header: unsupported flags 0x{flags:02x}")
    if 2 <= version <= 5 and not flags & HEADER_ENTROPY and _KINDS[kind] != "items":
        raise StreamError(f"stream header: a version {version} stream must name its entropy model")
    unnamed = version in (4, 5) and not flags & HEADER_ENTROPY  # 4 and 5 always name one
    if model >= len(_ENTROPY_MODELS) or unnamed:
        raise StreamError(f"stream header: unknown entropy model {model}")
    header = StreamHeader(
        fingerprint=fingerprint,
        kind=_KINDS[kind],
        item_shape=tuple(shapes[0]),
        latent_shape=tuple(shapes[1]),
        bits=bits,
        scale=tuple(params[:nq]),
        zero_point=tuple(params[nq:]),
        sample_rate=rate,
        channels=channels,
        window=window,
        hop=hop,
        synthesis=_SYNTH[synth],
        entropy_digest=digest,
        frame_items=frame_items,
        entropy_model=_ENTROPY_MODELS[model],
        canvas=tuple(canvas),
        latent_map=bool(latent_map),
    )
    if header.version != version:
        raise StreamError(
            f"stream header: a version {version} header holding a version {header.version} "
            "stream (corrupted stream)"
        )
    return header


def pack_frame(index: int, samples: int, payload: bytes, *, flags: int = 0) -> bytes:
    """One frame: header (sync, flags, index, samples, length), payload, CRC32 of both."""
    head = _FRAME.pack(FRAME_SYNC, flags, index, samples, len(payload)) + payload
    return head + _CRC.pack(zlib.crc32(head))


def parse_frame_header(buf: bytes | bytearray, pos: int) -> tuple[int, int, int, int]:
    """(flags, index, samples, payload_len) of the frame header at ``buf[pos:]``.

    The caller has checked that the sync bytes are FRAME_SYNC and that
    FRAME_HEADER_SIZE bytes are there; nothing is trusted before the CRC is checked.
    """
    _, flags, index, samples, size = _FRAME.unpack_from(buf, pos)
    return flags, index, samples, size


def frame_crc_ok(buf: bytes | bytearray, pos: int, size: int) -> bool:
    """Whether the CRC32 after a frame of payload ``size`` at ``pos`` matches."""
    end = pos + FRAME_HEADER_SIZE + size
    (crc,) = _CRC.unpack_from(buf, end)
    return zlib.crc32(memoryview(buf)[pos:end]) == crc


def pack_end(frames: int, total: int) -> bytes:
    """The end-of-stream marker: frame count and total samples (images), with CRC32."""
    head = _END.pack(END_SYNC, frames, total)
    return head + _CRC.pack(zlib.crc32(head))


def parse_end(buf: bytes | bytearray, pos: int) -> EndOfStream | None:
    """The end marker at ``buf[pos:]`` if its CRC checks out, else None."""
    head = bytes(buf[pos : pos + _END.size])
    (crc,) = _CRC.unpack_from(buf, pos + _END.size)
    if zlib.crc32(head) != crc:
        return None
    _, frames, total = _END.unpack(head)
    return EndOfStream(frames=frames, total=total, offset=pos)
