"""``edgeae-rt decompress``: an edgeae stream file -> the signal (or images) again."""

from __future__ import annotations

import io
import time
from typing import Any

import click
import numpy as np

from ..audio import AudioWriter, open_reader, open_writer
from ..codec import StreamDecoder, decode_image_stream
from ..codec.format import parse_header
from ..errors import InputError, ModelError, StreamError
from ..metrics import psnr, snr_db
from ..model import Model
from ._codec_io import AtomicBinaryOutput, echo_summary, read_chunks

__all__ = ["decompress"]


@click.command("decompress")
@click.option(
    "-m",
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The decoder (decoder.onnx) of the model that made the stream.",
)
@click.argument("input_path", metavar="IN")
@click.argument("output_path", metavar="OUT")
@click.option(
    "--conceal",
    is_flag=True,
    help="Fill lost or corrupted frames (repeat the last latent) and carry on.",
)
@click.option(
    "--format",
    "pcm_format",
    default="s16le",
    show_default=True,
    help="Raw PCM format on stdout: s16le or f32le.",
)
@click.option(
    "--reference",
    type=click.Path(dir_okay=False),
    default=None,
    help="The original signal (.wav/.npy) or images (.npy), to report SNR/PSNR.",
)
@click.option("--threads", default=1, show_default=True, help="onnxruntime intra-op threads.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def decompress(
    model_path: str,
    input_path: str,
    output_path: str,
    conceal: bool,
    pcm_format: str,
    reference: str | None,
    threads: int,
    as_json: bool,
) -> None:
    """Decompress an edgeae stream, chunk by chunk.

    IN is a stream file or "-" (stdin); OUT is a .wav, a .npy or "-" for raw PCM
    on stdout (image streams: a .npy batch). A corrupted, truncated or foreign
    stream is an error naming the frame, unless --conceal is given.

    \b
    Examples:
      edgeae-rt decompress -m decoder.onnx speech.eae speech.wav --reference speech.wav --json
      nc -l 9000 | edgeae-rt decompress -m decoder.onnx --conceal - - | aplay -f S16_LE -r 16000
    """
    model = Model(model_path, threads=threads)
    if model.role != "decoder":
        raise ModelError(
            f"{model.path.name} is the {model.role}; decompress needs the decoder (decoder.onnx)"
        )
    started = time.perf_counter()
    chunks = read_chunks(input_path)
    first = next(chunks, b"")
    if not first:
        raise InputError(f"{input_path}: empty input (no bytes)")
    head = first
    while len(head) < 4096 and parse_header(head) is None:  # enough to read the header
        more = next(chunks, b"")
        if not more:
            break
        head += more
    parsed = parse_header(head)  # bad magic, version or header CRC: StreamError here
    if parsed is not None and parsed[0].kind == "image":
        summary = _decompress_images(model, head + b"".join(chunks), output_path, conceal)
        if reference is not None:
            ref = _load_npy(reference)
            summary["psnr_db"] = _psnr(ref, np.load(output_path, allow_pickle=False))
    else:
        summary, decoded = _decompress_signal(
            model, head, chunks, output_path, conceal, pcm_format, reference is not None
        )
        if reference is not None:
            with open_reader(reference) as reader:
                ref = reader.read_all()
            if ref.shape != decoded.shape:
                raise InputError(
                    f"{reference}: shape {ref.shape} differs from the decoded {decoded.shape}"
                )
            summary["snr_db"] = snr_db(ref, decoded)
    summary.update(
        {"input": input_path, "output": output_path, "time_s": time.perf_counter() - started}
    )
    if as_json:
        echo_summary(summary, output_path)


def _decompress_signal(
    model: Model,
    head: bytes,
    chunks: Any,
    output_path: str,
    conceal: bool,
    pcm_format: str,
    keep: bool,
) -> tuple[dict[str, Any], np.ndarray]:
    decoder = StreamDecoder(model, conceal=conceal)
    writer: AudioWriter | None = None
    kept: list[np.ndarray] = []
    stream_bytes = 0
    try:
        for data in _prepend(head, chunks):
            stream_bytes += len(data)
            samples = decoder.push(data)
            writer = writer or _writer(decoder, output_path, pcm_format)
            _write(writer, samples, kept if keep else None)
        samples = decoder.flush()
        writer = writer or _writer(decoder, output_path, pcm_format)
        _write(writer, samples, kept if keep else None)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    writer.close()
    h = decoder.header
    if h is None:  # pragma: no cover - flush() raises for a stream without header
        raise StreamError(f"{output_path}: stream has no header")
    seconds = decoder.samples / h.sample_rate
    summary: dict[str, Any] = {
        "samples": decoder.samples,
        "seconds": seconds,
        "bytes": stream_bytes,
        "bytes_per_second": stream_bytes / seconds if seconds else None,
        "concealed_frames": decoder.concealed,
        "truncated": decoder.truncated,
    }
    decoded = np.concatenate(kept, axis=1) if kept else np.zeros((h.channels, 0), np.float32)
    return summary, decoded


def _prepend(head: bytes, chunks: Any) -> Any:
    """The already-read head, then the remaining chunks."""
    yield head
    yield from chunks


def _writer(decoder: StreamDecoder, output_path: str, pcm_format: str) -> AudioWriter | None:
    h = decoder.header
    if h is None:
        return None
    return open_writer(
        output_path, sample_rate=h.sample_rate, channels=h.channels, pcm_format=pcm_format
    )


def _write(writer: AudioWriter | None, samples: np.ndarray, kept: list | None) -> None:
    if writer is not None and samples.shape[1]:
        writer.write(samples)
        if kept is not None:
            kept.append(samples)


def _decompress_images(model: Model, data: bytes, output_path: str, conceal: bool) -> dict:
    if not output_path.lower().endswith(".npy"):
        raise InputError(f"{output_path}: an image stream decodes to a .npy batch (N, C, H, W)")
    result = decode_image_stream(model, data, conceal=conceal)
    with AtomicBinaryOutput(output_path) as out:
        buf = _npy_bytes(result.images)
        out.write(buf)
    return {
        "images": int(result.images.shape[0]),
        "bytes": len(data),
        "concealed_images": list(result.concealed),
    }


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _load_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read .npy ({exc})") from None


def _psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    if reference.shape != decoded.shape:
        raise InputError(f"reference shape {reference.shape} differs from {decoded.shape}")
    return psnr(reference, decoded)
