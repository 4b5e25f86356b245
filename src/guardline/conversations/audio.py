"""Redact spans of a WAV recording: silence or a tone where personal data was spoken.

RIFF is parsed here rather than with the stdlib ``wave`` module, which reads PCM only: 400-hotline
recordings are often 8 kHz G.711 (A-law or μ-law). Only the ``fmt `` and ``data`` chunks are written
back: metadata chunks (LIST/INFO and others) can carry a caller's name or number, so they are dropped.
Samples outside the spans are copied byte for byte.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from guardline.errors import BadInput

_PCM, _FLOAT, _ALAW, _ULAW, _EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
_FORMATS = {_PCM: "pcm", _FLOAT: "float", _ALAW: "alaw", _ULAW: "ulaw"}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    format: str
    channels: int
    sample_rate: int
    bits_per_sample: int
    frames: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class _Wav:
    info: AudioInfo
    fmt_chunk: bytes
    data: bytes

    @property
    def block_align(self) -> int:
        return self.info.channels * self.info.bits_per_sample // 8


def _parse(data: bytes) -> _Wav:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BadInput("recording: not a WAV file (RIFF/WAVE header missing)")
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        start, end = pos + 8, pos + 8 + size
        if end > len(data):
            raise BadInput("recording: a chunk is longer than the file (truncated or corrupt WAV)")
        if chunk_id == b"fmt ":
            fmt = data[start:end]
        elif chunk_id == b"data":
            body = data[start:end]
        pos = end + (size & 1)  # chunks are word-aligned
    if fmt is None or len(fmt) < 16:
        raise BadInput("recording: the WAV has no valid 'fmt ' chunk")
    if body is None:
        raise BadInput("recording: the WAV has no 'data' chunk")
    tag, channels, rate, _byte_rate, align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise BadInput("recording: WAVE_FORMAT_EXTENSIBLE header is too short")
        tag = struct.unpack_from("<H", fmt, 24)[0]
    name = _FORMATS.get(tag)
    if name is None:
        raise BadInput("recording: unsupported WAV encoding; use PCM, IEEE float, A-law or μ-law")
    valid_bits = {"pcm": (8, 16, 24, 32), "float": (32,), "alaw": (8,), "ulaw": (8,)}[name]
    if bits not in valid_bits or channels < 1 or rate < 1:
        raise BadInput(f"recording: {bits}-bit {name} with {channels} channel(s) is not supported")
    if align != channels * bits // 8:
        raise BadInput("recording: the WAV header's block alignment does not match its format")
    if len(body) % align:
        raise BadInput("recording: the data chunk ends in the middle of a sample frame")
    frames = len(body) // align
    info = AudioInfo(name, channels, rate, bits, frames, frames * 1000 // rate)
    return _Wav(info, fmt, body)


def inspect_wav(data: bytes) -> AudioInfo:
    return _parse(data).info


def _silence(info: AudioInfo) -> bytes:
    """One frame of silence in the recording's own encoding."""
    sample = {"alaw": b"\xd5", "ulaw": b"\xff"}.get(info.format)
    if sample is None:
        sample = (
            b"\x80"
            if info.format == "pcm" and info.bits_per_sample == 8
            else bytes(info.bits_per_sample // 8)
        )
    return sample * info.channels


def _alaw(sample: int) -> int:
    """G.711 A-law encoding of a 16-bit linear sample."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample) >> 3, 0xFFF)
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _ulaw(sample: int) -> int:
    """G.711 μ-law encoding of a 16-bit linear sample."""
    sign = 0 if sample >= 0 else 0x80
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = magnitude.bit_length() - 8
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _tone_frame(info: AudioInfo, index: int, hz: int) -> bytes:
    value = 0.25 * math.sin(2 * math.pi * hz * index / info.sample_rate)  # about -12 dBFS
    linear16 = int(value * 32767)
    if info.format == "alaw":
        sample = bytes((_alaw(linear16),))
    elif info.format == "ulaw":
        sample = bytes((_ulaw(linear16),))
    elif info.format == "float":
        sample = struct.pack("<f", value)
    elif info.bits_per_sample == 8:
        sample = bytes((int(value * 127) + 128,))
    else:
        width = info.bits_per_sample // 8
        sample = int(value * (2 ** (8 * width - 1) - 1)).to_bytes(width, "little", signed=True)
    return sample * info.channels


def _tone(info: AudioInfo, start: int, count: int, hz: int) -> bytes:
    """A sine continuing in phase from frame ``start``; one period is built and repeated."""
    period = info.sample_rate // math.gcd(info.sample_rate, hz)
    cycle = b"".join(_tone_frame(info, i, hz) for i in range(period))
    frame = len(cycle) // period
    offset = (start % period) * frame
    needed = count * frame
    repeats = (offset + needed) // len(cycle) + 1
    return (cycle * repeats)[offset : offset + needed]


def redact_wav(
    data: bytes,
    spans_ms: Sequence[tuple[int, int]],
    *,
    mode: Literal["silence", "tone"] = "silence",
    tone_hz: int = 1000,
) -> bytes:
    wav = _parse(data)
    info, align = wav.info, wav.block_align
    body = bytearray(wav.data)
    silence = _silence(info)
    for start_ms, end_ms in spans_ms:
        first = max(0, start_ms * info.sample_rate // 1000)
        last = min(info.frames, -(-end_ms * info.sample_rate // 1000))
        if last <= first:
            continue
        count = last - first
        body[first * align : last * align] = (
            silence * count if mode == "silence" else _tone(info, first, count, tone_hz)
        )
    fmt = wav.fmt_chunk + (b"\0" if len(wav.fmt_chunk) & 1 else b"")
    chunks = b"fmt " + struct.pack("<I", len(wav.fmt_chunk)) + fmt
    chunks += b"data" + struct.pack("<I", len(body)) + bytes(body) + (b"\0" if len(body) & 1 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
