"""edgeae: train autoencoders in PyTorch, export and quantize them, run them on devices.

The host package: models, data, trainer and the ``edgeae`` command line. The
ONNX side lives in ``edgeae_export``, the device side in ``edgeae_runtime``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgeae")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = ["__version__"]
