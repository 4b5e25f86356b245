"""ASR transcripts in the shapes common speech services produce, read into one model of timed segments.

Accepted: Guardline's own shape, Alibaba Cloud NLS file transcription, Tencent Cloud ASR, OpenAI
Whisper verbose JSON (and faster-whisper), Amazon Transcribe. Errors name the JSON path, never the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from guardline.errors import BadInput

MAX_SEGMENTS = 10_000
MAX_WORDS = 200_000
FORMATS = ("guardline", "aliyun", "tencent", "whisper", "aws")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Segment:
    """``word_offsets[i]`` is where ``words[i]`` sits in ``text``; empty when timing is per segment."""

    text: str
    start_ms: int
    end_ms: int
    speaker: str | None
    words: tuple[Word, ...] = ()
    word_offsets: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    segments: tuple[Segment, ...]
    format: str


# -- validation helpers ------------------------------------------------------------------------------


class _Reader:
    def __init__(self) -> None:
        self.words = 0

    def obj(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise BadInput(f"{path}: must be an object")
        return value

    def array(self, value: object, path: str, limit: int = MAX_SEGMENTS) -> list[Any]:
        if not isinstance(value, list):
            raise BadInput(f"{path}: must be an array")
        if len(value) > limit:
            raise BadInput(f"{path}: at most {limit} items")
        return value

    def text(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            raise BadInput(f"{path}: must be a string")
        return value

    def ms(self, value: object, path: str, *, scale: float = 1.0) -> int:
        if isinstance(value, str) and scale != 1.0:  # AWS writes seconds as strings
            try:
                value = float(value)
            except ValueError:
                raise BadInput(f"{path}: must be a number of seconds") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadInput(f"{path}: must be a number")
        if value != value or value < 0:  # NaN or negative
            raise BadInput(f"{path}: must be a non-negative number")
        return round(value * scale)

    def span(self, start: int, end: int, path: str, end_key: str) -> None:
        if end < start:
            raise BadInput(f"{path}.{end_key}: must not be before the start")

    def count_words(self, n: int, path: str) -> None:
        self.words += n
        if self.words > MAX_WORDS:
            raise BadInput(f"{path}: at most {MAX_WORDS} words per transcript")


# -- locating words in the segment text ----------------------------------------------------------------

_SKIP = re.compile(r"[\s\W_]*", re.UNICODE)


def _locate(text: str, words: Sequence[Word]) -> tuple[tuple[int, int], ...]:
    """Each word's span in ``text``, in order; () if one cannot be found (timing then falls back)."""
    offsets = []
    pos = 0
    folded = text.casefold()
    for word in words:
        needle = word.text.strip().casefold()
        if not needle:
            offsets.append((pos, pos))
            continue
        found = folded.find(needle, pos)
        if found < 0:
            core = needle.strip(".,!?;:，。！？；：、")
            found = folded.find(core, pos) if core else -1
            if found < 0:
                return ()
            needle = core
        offsets.append((found, found + len(needle)))
        pos = found + len(needle)
    return tuple(offsets)


def _join(words: Sequence[Word]) -> str:
    out = ""
    for word in words:
        token = word.text.strip()
        if (
            out
            and (token[:1].isascii() and token[:1].isalnum())
            and (out[-1:].isascii() and out[-1:].isalnum())
        ):
            out += " "
        out += token
    return out


def _segment(
    text: str | None, start: int, end: int, speaker: str | None, words: list[Word]
) -> Segment | None:
    if text is None:
        text = _join(words)
    if not text.strip():
        return None
    offsets = _locate(text, words) if words else ()
    return Segment(text, start, end, speaker, tuple(words) if offsets else (), offsets)


# -- formats -----------------------------------------------------------------------------------------


def _guardline(payload: dict[str, Any], r: _Reader) -> list[Segment]:
    out = []
    for i, raw in enumerate(r.array(payload.get("segments"), "transcript.segments")):
        path = f"transcript.segments[{i}]"
        seg = r.obj(raw, path)
        start, end = r.ms(seg.get("start_ms"), f"{path}.start_ms"), r.ms(seg.get("end_ms"), f"{path}.end_ms")
        r.span(start, end, path, "end_ms")
        speaker = seg.get("speaker")
        if speaker is not None:
            speaker = r.text(speaker, f"{path}.speaker")
        words = []
        for j, w in enumerate(r.array(seg.get("words", []), f"{path}.words", MAX_WORDS)):
            wp = f"{path}.words[{j}]"
            w = r.obj(w, wp)
            ws, we = r.ms(w.get("start_ms"), f"{wp}.start_ms"), r.ms(w.get("end_ms"), f"{wp}.end_ms")
            r.span(ws, we, wp, "end_ms")
            words.append(Word(r.text(w.get("text"), f"{wp}.text"), ws, we))
        r.count_words(len(words), path)
        text = r.text(seg["text"], f"{path}.text") if "text" in seg else None
        if text is None and not words:
            raise BadInput(f"{path}: needs text or words")
        if (s := _segment(text, start, end, speaker, words)) is not None:
            out.append(s)
    return out


def _aliyun(payload: dict[str, Any], r: _Reader) -> list[Segment]:
    root, base = (payload["Result"], "transcript.Result") if "Result" in payload else (payload, "transcript")
    root = r.obj(root, base)
    out = []
    for i, raw in enumerate(r.array(root.get("Sentences"), f"{base}.Sentences")):
        path = f"{base}.Sentences[{i}]"
        seg = r.obj(raw, path)
        start, end = (
            r.ms(seg.get("BeginTime"), f"{path}.BeginTime"),
            r.ms(seg.get("EndTime"), f"{path}.EndTime"),
        )
        r.span(start, end, path, "EndTime")
        if "SpeakerId" in seg:
            speaker: str | None = f"speaker-{seg['SpeakerId']}"
        elif "ChannelId" in seg:
            speaker = f"channel-{r.ms(seg['ChannelId'], f'{path}.ChannelId')}"
        else:
            speaker = None
        words = []
        for j, w in enumerate(r.array(seg.get("Words", []), f"{path}.Words", MAX_WORDS)):
            wp = f"{path}.Words[{j}]"
            w = r.obj(w, wp)
            ws, we = r.ms(w.get("BeginTime"), f"{wp}.BeginTime"), r.ms(w.get("EndTime"), f"{wp}.EndTime")
            r.span(ws, we, wp, "EndTime")
            words.append(Word(r.text(w.get("Word"), f"{wp}.Word"), ws, we))
        r.count_words(len(words), path)
        if (s := _segment(r.text(seg.get("Text"), f"{path}.Text"), start, end, speaker, words)) is not None:
            out.append(s)
    return out


def _tencent(payload: dict[str, Any], r: _Reader) -> list[Segment]:
    root, base = payload, "transcript"
    for key in ("Response", "Data"):
        if key in root and isinstance(root[key], dict):
            root, base = root[key], f"{base}.{key}"
    out = []
    for i, raw in enumerate(r.array(root.get("ResultDetail"), f"{base}.ResultDetail")):
        path = f"{base}.ResultDetail[{i}]"
        seg = r.obj(raw, path)
        start, end = r.ms(seg.get("StartMs"), f"{path}.StartMs"), r.ms(seg.get("EndMs"), f"{path}.EndMs")
        r.span(start, end, path, "EndMs")
        speaker = f"speaker-{seg['SpeakerId']}" if "SpeakerId" in seg else None
        words = []
        for j, w in enumerate(r.array(seg.get("Words") or [], f"{path}.Words", MAX_WORDS)):
            wp = f"{path}.Words[{j}]"
            w = r.obj(w, wp)
            # Word offsets are relative to the sentence start.
            ws = start + r.ms(w.get("OffsetStartMs"), f"{wp}.OffsetStartMs")
            we = start + r.ms(w.get("OffsetEndMs"), f"{wp}.OffsetEndMs")
            r.span(ws, we, wp, "OffsetEndMs")
            words.append(Word(r.text(w.get("Word"), f"{wp}.Word"), ws, we))
        r.count_words(len(words), path)
        text = r.text(seg.get("FinalSentence"), f"{path}.FinalSentence")
        if (s := _segment(text, start, end, speaker, words)) is not None:
            out.append(s)
    return out


def _whisper_words(raw: object, path: str, r: _Reader) -> list[Word]:
    words = []
    for j, w in enumerate(r.array(raw, path, MAX_WORDS)):
        wp = f"{path}[{j}]"
        w = r.obj(w, wp)
        ws, we = (
            r.ms(w.get("start"), f"{wp}.start", scale=1000.0),
            r.ms(w.get("end"), f"{wp}.end", scale=1000.0),
        )
        r.span(ws, we, wp, "end")
        words.append(Word(r.text(w.get("word"), f"{wp}.word"), ws, we))
    r.count_words(len(words), path)
    return words


def _whisper(payload: dict[str, Any], r: _Reader) -> list[Segment]:
    loose = _whisper_words(payload["words"], "transcript.words", r) if "words" in payload else []
    out = []
    for i, raw in enumerate(r.array(payload.get("segments"), "transcript.segments")):
        path = f"transcript.segments[{i}]"
        seg = r.obj(raw, path)
        start = r.ms(seg.get("start"), f"{path}.start", scale=1000.0)
        end = r.ms(seg.get("end"), f"{path}.end", scale=1000.0)
        r.span(start, end, path, "end")
        if "words" in seg:
            words = _whisper_words(seg["words"], f"{path}.words", r)
        else:  # top-level words: those whose midpoint falls inside the segment
            words = [w for w in loose if start <= (w.start_ms + w.end_ms) // 2 <= end]
        speaker = r.text(seg["speaker"], f"{path}.speaker") if "speaker" in seg else None
        if (
            s := _segment(r.text(seg.get("text"), f"{path}.text").strip(), start, end, speaker, words)
        ) is not None:
            out.append(s)
    return out


def _aws(payload: dict[str, Any], r: _Reader) -> list[Segment]:
    results = r.obj(payload.get("results"), "transcript.results")
    items = r.array(results.get("items"), "transcript.results.items", MAX_WORDS)
    out: list[Segment] = []
    words: list[Word] = []
    speaker: str | None = None

    def flush() -> None:
        if (
            words
            and (s := _segment(None, words[0].start_ms, words[-1].end_ms, speaker, list(words))) is not None
        ):
            out.append(s)
        words.clear()

    for i, raw in enumerate(items):
        path = f"transcript.results.items[{i}]"
        item = r.obj(raw, path)
        alternatives = r.array(item.get("alternatives"), f"{path}.alternatives")
        if not alternatives:
            raise BadInput(f"{path}.alternatives: must not be empty")
        content = r.text(
            r.obj(alternatives[0], f"{path}.alternatives[0]").get("content"),
            f"{path}.alternatives[0].content",
        )
        kind = item.get("type")
        if kind == "punctuation":
            if words:
                last = words[-1]
                words[-1] = Word(last.text + content, last.start_ms, last.end_ms)
                if content in ".?!。？！":
                    flush()
            continue
        if kind != "pronunciation":
            raise BadInput(f"{path}.type: must be 'pronunciation' or 'punctuation'")
        ws = r.ms(item.get("start_time"), f"{path}.start_time", scale=1000.0)
        we = r.ms(item.get("end_time"), f"{path}.end_time", scale=1000.0)
        r.span(ws, we, path, "end_time")
        label = item.get("speaker_label")
        if label is not None and label != speaker:
            flush()
            speaker = r.text(label, f"{path}.speaker_label")
        words.append(Word(content, ws, we))
    flush()
    return out


_PARSERS: dict[str, Callable[[dict[str, Any], _Reader], list[Segment]]] = {
    "guardline": _guardline,
    "aliyun": _aliyun,
    "tencent": _tencent,
    "whisper": _whisper,
    "aws": _aws,
}


def _detect(payload: dict[str, Any]) -> str:
    result = payload.get("Result")
    if "Sentences" in payload or (isinstance(result, dict) and "Sentences" in result):
        return "aliyun"
    nested = [payload, *(payload[k] for k in ("Response", "Data") if isinstance(payload.get(k), dict))]
    if any("ResultDetail" in p for p in nested) or (
        isinstance(payload.get("Response"), dict) and isinstance(payload["Response"].get("Data"), dict)
    ):
        return "tencent"
    if isinstance(payload.get("results"), dict) and "items" in payload["results"]:
        return "aws"
    segments = payload.get("segments")
    if isinstance(segments, list) and segments and isinstance(segments[0], dict):
        return "guardline" if "start_ms" in segments[0] else "whisper"
    if isinstance(segments, list):
        return "guardline"
    raise BadInput(
        f"transcript: not a recognised ASR format; accepted: {', '.join(FORMATS)} (docs/asr-formats.md)"
    )


def parse_transcript(payload: object, *, format: str = "auto") -> Transcript:
    if not isinstance(payload, dict):
        raise BadInput("transcript: must be a JSON object")
    if format == "auto":
        format = _detect(payload)
    parser = _PARSERS.get(format)
    if parser is None:
        raise BadInput(f"transcript_format: must be auto or one of {', '.join(FORMATS)}")
    segments = parser(payload, _Reader())
    return Transcript(tuple(sorted(segments, key=lambda s: (s.start_ms, s.end_ms))), format)


def pii_time_spans(
    segment: Segment, char_spans: Sequence[tuple[int, int]], *, pad_ms: int = 120
) -> list[tuple[int, int]]:
    """Time spans to silence for personal data at ``char_spans`` of the segment's text.

    With word timings: the words overlapping each span, padded. Without them, or for a span no located
    word covers, the whole segment: when in doubt, silence more (fail closed).
    """
    spans = []
    for start, end in char_spans:
        hit = [
            w for w, (a, b) in zip(segment.words, segment.word_offsets, strict=True) if a < end and start < b
        ]
        if hit:
            spans.append((max(0, min(w.start_ms for w in hit) - pad_ms), max(w.end_ms for w in hit) + pad_ms))
        else:
            spans.append((max(0, segment.start_ms - pad_ms), segment.end_ms + pad_ms))
    return merge_spans(spans)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping or touching spans joined."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
