"""The edgeae stream codec: samples or images -> compact integer latent codes -> back.

The binary format (versions 1 to 6) is documented in docs/stream-format.md; it is
defined here once, in pure functions (:mod:`.format`, :mod:`.parser`), and
used by :class:`StreamEncoder` / :class:`StreamDecoder`, the item batches (:mod:`.items`)
and whole images in tiles (:mod:`.tiles`).
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
from .items import ItemDecoding as ItemDecoding
from .items import compress_items as compress_items
from .items import decode_item_stream as decode_item_stream
from .items import decompress_items as decompress_items
from .parser import Lost as Lost
from .parser import StreamParser as StreamParser
from .quantize import calibrate_codec as calibrate_codec
from .tiles import ImageDecoding as ImageDecoding
from .tiles import compress_image as compress_image
from .tiles import decode_image_stream as decode_image_stream
from .tiles import decompress_image as decompress_image

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "EndOfStream",
    "Frame",
    "ImageDecoding",
    "ItemDecoding",
    "Lost",
    "StreamDecoder",
    "StreamEncoder",
    "StreamHeader",
    "StreamParser",
    "calibrate_codec",
    "compress",
    "compress_image",
    "compress_items",
    "decode_image_stream",
    "decode_item_stream",
    "decompress",
    "decompress_image",
    "decompress_items",
]
