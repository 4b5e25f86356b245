"""WAV redaction: silence or tone under the spans, every other byte untouched, metadata dropped."""

from __future__ import annotations

import itertools
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardline.conversations.audio import inspect_wav, redact_wav
from guardline.errors import BadInput

RATE = 8000
# (format tag, bits, silence byte pattern per sample, sample width)
FORMATS = {
    "pcm8": (1, 8, b"\x80"),
    "pcm16": (1, 16, b"\0\0"),
    "pcm24": (1, 24, b"\0\0\0"),
    "pcm32": (1, 32, b"\0\0\0\0"),
    "float": (3, 32, b"\0\0\0\0"),
    "alaw": (6, 8, b"\xd5"),
    "ulaw": (7, 8, b"\xff"),
}


def build_wav(
    kind: str, *, channels: int = 1, seconds: float = 2.0, extensible: bool = False, extra: bytes = b""
) -> bytes:
    tag, bits, _ = FORMATS[kind]
    frames = int(RATE * seconds)
    width = bits // 8
    # A deterministic non-silent signal: bytes that are never the format's silence value.
    body = bytes((37 * i + 11) % 200 + 1 for i in range(frames * channels * width))
    align = channels * width
    if extensible:
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, RATE, RATE * align, align, bits, 22, bits, 0)
        fmt += struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, RATE, RATE * align, align, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    chunks += b"data" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def data_of(wav: bytes) -> bytes:
    i = wav.index(b"data")
    size = struct.unpack_from("<I", wav, i + 4)[0]
    return wav[i + 8 : i + 8 + size]


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("channels", [1, 2])
def test_silence_under_spans_only(kind: str, channels: int) -> None:
    original = build_wav(kind, channels=channels)
    redacted = redact_wav(original, [(250, 500), (1500, 1750)])
    _, bits, silence = FORMATS[kind]
    frame = channels * bits // 8
    before, after = data_of(original), data_of(redacted)
    assert len(before) == len(after)
    spans = [(250 * RATE // 1000, 500 * RATE // 1000), (1500 * RATE // 1000, 1750 * RATE // 1000)]
    for start, end in spans:
        assert after[start * frame : end * frame] == silence * channels * (end - start)
    outside = [(0, spans[0][0]), (spans[0][1], spans[1][0]), (spans[1][1], len(before) // frame)]
    for start, end in outside:
        assert after[start * frame : end * frame] == before[start * frame : end * frame]
    assert inspect_wav(redacted) == inspect_wav(original)


def dominant_hz(samples: list[float]) -> float:
    crossings = sum(1 for a, b in itertools.pairwise(samples) if a < 0 <= b)
    return crossings * RATE / len(samples)


def decode(kind: str, data: bytes) -> list[float]:
    if kind == "pcm16":
        return [s / 32768 for s in struct.unpack(f"<{len(data) // 2}h", data)]
    if kind == "float":
        return list(struct.unpack(f"<{len(data) // 4}f", data))
    if kind == "pcm8":
        return [(b - 128) / 128 for b in data]
    if kind == "ulaw":
        out = []
        for b in data:
            u = ~b & 0xFF
            t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
            out.append(((0x84 - t) if u & 0x80 else (t - 0x84)) / 32768)
        return out
    if kind == "alaw":
        out = []
        for b in data:
            a = b ^ 0x55
            t = (a & 0x0F) << 4
            seg = (a & 0x70) >> 4
            t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
            out.append((t if a & 0x80 else -t) / 32768)
        return out
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["pcm8", "pcm16", "float", "alaw", "ulaw"])
def test_tone_is_1khz_at_a_safe_level(kind: str) -> None:
    redacted = redact_wav(build_wav(kind), [(0, 1000)], mode="tone")
    _, bits, _ = FORMATS[kind]
    samples = decode(kind, data_of(redacted)[: RATE * bits // 8])
    assert dominant_hz(samples) == pytest.approx(1000, rel=0.02)
    peak = max(abs(s) for s in samples)
    assert 0.2 < peak < 0.3  # about -12 dBFS


def test_extensible_header() -> None:
    original = build_wav("pcm16", extensible=True)
    assert inspect_wav(original).format == "pcm"
    assert data_of(redact_wav(original, [(0, 100)]))[:2] == b"\0\0"


def test_metadata_chunks_are_dropped() -> None:
    info = b"LIST" + struct.pack("<I", 20) + b"INFOINAM" + struct.pack("<I", 8) + b"13812345"
    original = build_wav("pcm16", extra=info)
    redacted = redact_wav(original, [])
    assert b"LIST" not in redacted
    assert b"13812345" not in redacted
    assert data_of(redacted) == data_of(original)


def test_spans_are_clamped() -> None:
    original = build_wav("pcm16", seconds=1.0)
    redacted = redact_wav(original, [(900, 5000), (7000, 8000), (500, 400)])
    after = data_of(redacted)
    assert after[900 * 8 * 2 :] == bytes(len(after) - 900 * 16)
    assert after[: 900 * 16] == data_of(original)[: 900 * 16]


def test_info() -> None:
    info = inspect_wav(build_wav("alaw", channels=2, seconds=1.5))
    assert (info.format, info.channels, info.sample_rate, info.bits_per_sample) == ("alaw", 2, 8000, 8)
    assert info.frames == 12000
    assert info.duration_ms == 1500


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not a WAV"),
        (b"ID3\x04" + bytes(100), "not a WAV"),
        (build_wav("pcm16")[:-10], "longer than the file"),
        (build_wav("pcm16").replace(b"data", b"junk"), "no 'data'"),
        (build_wav("pcm16").replace(b"fmt ", b"xxxx"), "no valid 'fmt '"),
        (build_wav("pcm16").replace(struct.pack("<HH", 1, 1), struct.pack("<HH", 85, 1), 1), "unsupported"),
    ],
)
def test_malformed_recordings_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(BadInput, match=problem):
        redact_wav(data, [(0, 10)])


def test_partial_frame_is_refused() -> None:
    wav = bytearray(build_wav("pcm16", channels=2, seconds=0.1))
    i = wav.index(b"data")
    size = struct.unpack_from("<I", wav, i + 4)[0]
    struct.pack_into("<I", wav, i + 4, size - 1)
    struct.pack_into("<I", wav, 4, len(wav) - 9)
    with pytest.raises(BadInput, match="middle of a sample frame"):
        inspect_wav(bytes(wav[:-1]))


ORIGINAL = build_wav("pcm16", seconds=1.0)


@given(st.lists(st.tuples(st.integers(-100, 1500), st.integers(-100, 1500)), max_size=6))
def test_only_bytes_inside_spans_change(spans: list[tuple[int, int]]) -> None:
    before = data_of(ORIGINAL)
    after = data_of(redact_wav(ORIGINAL, spans))
    assert len(after) == len(before)
    inside = set()
    for start, end in spans:
        first, last = max(0, start * RATE // 1000), min(RATE, -(-end * RATE // 1000))
        inside.update(range(first, max(first, last)))
    for frame in range(RATE):
        if frame not in inside:
            assert after[frame * 2 : frame * 2 + 2] == before[frame * 2 : frame * 2 + 2]
        else:
            assert after[frame * 2 : frame * 2 + 2] == b"\0\0"


def test_ten_minute_call_is_fast() -> None:
    """Not a timing assertion (those belong in bench/): just that a long call works in one piece."""
    wav = build_wav("alaw", seconds=600)
    spans = [(i * 10_000, i * 10_000 + 1500) for i in range(60)]
    redacted = redact_wav(wav, spans, mode="tone")
    assert len(redacted) == len(wav)
    assert math.isclose(inspect_wav(redacted).duration_ms, 600_000)
