"""Entropy coding of integer latent codes: rANS over quantized CDF tables, integers only.

A frame's codes are entropy-coded with a range-asymmetric numeral system (rANS,
32-bit state, 16-bit words): one table of cumulative frequencies per latent
channel, summing to ``2**precision``, comes from the model's learned entropy
model and travels in the manifest as integers. Coding uses only integer
arithmetic, so the same codes give the same bytes on every CPU, and the bytes
decode to the same codes everywhere.

Every table reserves its last symbol as an *escape*: a code outside the
table's support is coded as the escape, and its value follows the rANS words as
a zig-zag varint, so any integer round-trips exactly, only at a higher cost.

Payload layout, per frame: ``[rANS words, uint16 little-endian][escape varints]``.
The decoder reads words as it needs them, so no length field is stored; the
state must end where the encoder started (``RANS_L``) or the payload is corrupt.

A *context model* (``EntropyTables.thresholds`` not empty) keeps ``contexts``
tables per channel and picks one per code from the codes already coded next to
it in the same latent: the previous position along each of ``neighbours`` (latent
axes; axis 0 is the previous channel, the last axis the left neighbour). The
context class is the number of ``thresholds`` at or below the sum of the
neighbours' magnitudes (:func:`context_classes`, the one law; a missing neighbour
counts 0, an escaped one :data:`MAG_CAP`). rANS codes in reverse, which static
tables allow: the encoder knows every context, the decoder computes each one from
codes it has already decoded. The factorized model is the one-context case.

An *adaptive model* (``EntropyTables.adapt`` above 0, format version 5) starts from
such tables and adapts them within a frame: every row keeps integer counts, the
manifest's frequencies times ``adapt`` (the prior's weight, in codes), and after each
latent (item, window) of the frame every code it held adds ``2**precision`` to its
row's count of its symbol. Rows are split further by the code's place in its latent
when ``positions`` is set (:func:`position_map`: first, inner or last along every axis
but the channel axis), so a border that codes differently adapts apart. A latent is
coded with the tables its predecessors left (:func:`adaptive_cdf`, integer floor
division: the same on every CPU), so the encoder knows every code's frequencies
before it codes in reverse, and the decoder rebuilds them as it decodes forward.

Many frames are coded at once, one frame per vector lane (numpy), because a
Python loop per symbol would dominate a device's time budget; one frame alone
takes the scalar path, which produces the same bytes.

The package holds one part each: :mod:`.tables` (the integer tables and their bounds),
:mod:`.context` (the context law), :mod:`.adaptive` (the adaptation law), :mod:`.rans`
(the rANS arithmetic and escape varints) and :mod:`.coder` (frames of codes <-> payloads,
on all of them). Everyone imports from here.
"""

from .adaptive import adaptive_cdf as adaptive_cdf
from .adaptive import position_map as position_map
from .coder import decode_frames as decode_frames
from .coder import encode_frames as encode_frames
from .context import context_classes as context_classes
from .context import neighbour_map as neighbour_map
from .rans import RANS_L as RANS_L
from .tables import ENTROPY_MODELS as ENTROPY_MODELS
from .tables import MAG_CAP as MAG_CAP
from .tables import MAX_ADAPT as MAX_ADAPT
from .tables import MAX_CONTEXTS as MAX_CONTEXTS
from .tables import MAX_PRECISION as MAX_PRECISION
from .tables import EntropyTables as EntropyTables
from .tables import codec_tables as codec_tables

__all__ = [
    "ENTROPY_MODELS",
    "MAG_CAP",
    "MAX_ADAPT",
    "MAX_CONTEXTS",
    "MAX_PRECISION",
    "RANS_L",
    "EntropyTables",
    "adaptive_cdf",
    "codec_tables",
    "context_classes",
    "decode_frames",
    "encode_frames",
    "neighbour_map",
    "position_map",
]
