"""The edgeae stream codec: samples or images -> compact integer latent codes -> back.

The binary format (version 1) is documented in docs/stream-format.md; it is
defined here once, in pure functions (:mod:`.format`, :mod:`.parser`), and
used by :class:`StreamEncoder` / :class:`StreamDecoder` and the image helpers.
"""

from .decoder import StreamDecoder as StreamDecoder
from .decoder import decompress as decompress
from .encoder import StreamEncoder as StreamEncoder
from .encoder import compress as compress
from .format import FORMAT_VERSION as FORMAT_VERSION
from .format import MAGIC as MAGIC
from .format import EndOfStream as EndOfStream
from .format import Frame as Frame
from .format import StreamHeader as StreamHeader
from .images import ImageDecoding as ImageDecoding
from .images import compress_images as compress_images
from .images import decode_image_stream as decode_image_stream
from .images import decompress_images as decompress_images
from .parser import Lost as Lost
from .parser import StreamParser as StreamParser
from .quantize import calibrate_codec as calibrate_codec

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "EndOfStream",
    "Frame",
    "ImageDecoding",
    "Lost",
    "StreamDecoder",
    "StreamEncoder",
    "StreamHeader",
    "StreamParser",
    "calibrate_codec",
    "compress",
    "compress_images",
    "decode_image_stream",
    "decompress",
    "decompress_images",
]
