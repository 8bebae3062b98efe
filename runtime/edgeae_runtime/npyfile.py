""".npy reading that trusts nothing: the header is checked against the file's size first.

``np.load`` on a hostile file raises whatever its header parser meets
(``tokenize.TokenError``, ``SyntaxError``, ``MemoryError`` for a huge declared
shape, ...). :func:`load_npy` parses the header itself, refuses object dtypes
and anything but numbers, checks that the declared shape needs exactly the
bytes the file holds before allocating, and raises :class:`InputError` naming
the file otherwise. :func:`load_npz_member` does the same for one array of an
``.npz`` archive (the size comes from the archive's directory, and a short
member is an error, not a short array).
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from typing import BinaryIO

import numpy as np

from .errors import InputError

__all__ = ["MAX_HEADER_BYTES", "load_npy", "load_npz_member", "npz_names"]

MAX_HEADER_BYTES = 10_000  # numpy's own limit for untrusted headers
_MAGIC = b"\x93NUMPY"


def _header(fh: BinaryIO, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of the header at ``fh``; InputError when malformed."""
    fmt = np.lib.format
    if fh.read(6) != _MAGIC:
        raise InputError(f"{name}: not a .npy array (no NUMPY magic bytes)")
    fh.seek(0)
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh, max_header_size=MAX_HEADER_BYTES)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh, max_header_size=MAX_HEADER_BYTES)
        else:
            raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
    except Exception as exc:  # numpy's header parser raises many kinds on garbage
        raise InputError(
            f"{name}: not a readable .npy array (corrupt header: {_first_line(exc)})"
        ) from None
    dtype = np.dtype(dtype)
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.subdtype is not None:
        raise InputError(f"{name}: holds {dtype} values; data must be numeric (int, float, bool)")
    if not isinstance(shape, tuple) or any(not isinstance(d, int) or d < 0 for d in shape):
        raise InputError(f"{name}: not a readable .npy array (bad shape {shape!r})")
    return shape, bool(fortran), dtype


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__


def _check_size(name: str, shape: tuple[int, ...], dtype: np.dtype, available: int) -> int:
    need = math.prod(shape) * dtype.itemsize
    if need != available:
        raise InputError(
            f"{name}: the header declares shape {shape} of {dtype} ({need} bytes) but the "
            f"file holds {available} bytes of data (truncated or corrupt)"
        )
    return need


def load_npy(path: str | os.PathLike[str], *, mmap: bool = False) -> np.ndarray:
    """Read a .npy file (no pickles, numbers only), memory-mapped when ``mmap``."""
    name = os.fspath(path)
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"{name}: cannot open ({exc.strerror})") from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise InputError(f"{name}: empty file (0 bytes), not a .npy array")
        shape, fortran, dtype = _header(fh, name)
        offset = fh.tell()
        count = _check_size(name, shape, dtype, size - offset) // max(dtype.itemsize, 1)
        order = "F" if fortran else "C"
        if mmap and count:
            return np.memmap(name, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)
        try:
            data = np.fromfile(fh, dtype=dtype, count=count)
        except (OSError, ValueError) as exc:
            raise InputError(f"{name}: cannot read .npy data ({exc})") from None
    if data.size != count:
        raise InputError(f"{name}: .npy data ends early ({data.size} of {count} values)")
    return data.reshape(shape, order=order)


def npz_names(path: str | os.PathLike[str]) -> list[str]:
    """The array names in an .npz archive (``x`` for ``x.npy``)."""
    name = os.fspath(path)
    try:
        with zipfile.ZipFile(name) as archive:
            return [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
    except Exception as exc:  # zipfile raises a zoo of types on a hostile archive
        raise InputError(f"{name}: not a readable .npz archive ({_first_line(exc)})") from None


def load_npz_member(path: str | os.PathLike[str], key: str) -> np.ndarray:
    """One array ``key`` of an .npz archive, checked like :func:`load_npy`."""
    name = os.fspath(path)
    where = f"{name}[{key}]"
    try:
        with zipfile.ZipFile(name) as archive:
            info = archive.getinfo(f"{key}.npy")
            with archive.open(info) as member:
                head = member.read(MAX_HEADER_BYTES + 16)
                buf = io.BytesIO(head)
                shape, fortran, dtype = _header(buf, where)
                offset = buf.tell()
                need = _check_size(where, shape, dtype, info.file_size - offset)
                data = head[offset:] + member.read(max(need - (len(head) - offset), 0))
    except KeyError:
        raise InputError(f"{name}: no array named {key!r}") from None
    except InputError:
        raise
    except Exception as exc:  # zlib.error, NotImplementedError, RuntimeError (encrypted)...
        raise InputError(f"{where}: not a readable .npz member ({_first_line(exc)})") from None
    if len(data) != need:
        raise InputError(f"{where}: data ends early ({len(data)} of {need} bytes)")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arr.copy()
