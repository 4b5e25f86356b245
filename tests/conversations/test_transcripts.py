"""ASR transcript shapes: each format read into timed segments; errors name the path, never the text."""

from __future__ import annotations

import pytest

from guardline.conversations.transcripts import Segment, Word, parse_transcript, pii_time_spans
from guardline.errors import BadInput

SECRET = "幺三八幺二三四五六七八"

ALIYUN = {
    "Result": {
        "Sentences": [
            {
                "BeginTime": 3000,
                "EndTime": 6000,
                "Text": "我的手机号是幺三八幺二三四五六七八",
                "ChannelId": 1,
                "Words": [
                    {"Word": "我的", "BeginTime": 3000, "EndTime": 3300},
                    {"Word": "手机号", "BeginTime": 3300, "EndTime": 3800},
                    {"Word": "是", "BeginTime": 3800, "EndTime": 3900},
                    {"Word": "幺三八", "BeginTime": 3900, "EndTime": 4600},
                    {"Word": "幺二三四", "BeginTime": 4600, "EndTime": 5300},
                    {"Word": "五六七八", "BeginTime": 5300, "EndTime": 6000},
                ],
            },
            {"BeginTime": 0, "EndTime": 2500, "Text": "您好，请问有什么可以帮您？", "ChannelId": 0},
        ]
    }
}

TENCENT = {
    "Response": {
        "Data": {
            "ResultDetail": [
                {
                    "FinalSentence": "我的手机号是幺三八幺二三四五六七八",
                    "StartMs": 1000,
                    "EndMs": 4000,
                    "SpeakerId": 1,
                    "Words": [
                        {"Word": "我的", "OffsetStartMs": 0, "OffsetEndMs": 300},
                        {"Word": "手机号是", "OffsetStartMs": 300, "OffsetEndMs": 900},
                        {"Word": "幺三八幺二三四五六七八", "OffsetStartMs": 900, "OffsetEndMs": 3000},
                    ],
                }
            ]
        }
    }
}

WHISPER = {
    "text": "my number is four one five five five five one two three four",
    "segments": [
        {"id": 0, "start": 0.0, "end": 1.2, "text": " Hi, I need help."},
        {"id": 1, "start": 1.5, "end": 5.0, "text": " My number is 415 555 1234."},
    ],
    "words": [
        {"word": " Hi,", "start": 0.0, "end": 0.3},
        {"word": " I", "start": 0.3, "end": 0.4},
        {"word": " need", "start": 0.4, "end": 0.7},
        {"word": " help.", "start": 0.7, "end": 1.2},
        {"word": " My", "start": 1.5, "end": 1.7},
        {"word": " number", "start": 1.7, "end": 2.1},
        {"word": " is", "start": 2.1, "end": 2.3},
        {"word": " 415", "start": 2.3, "end": 3.0},
        {"word": " 555", "start": 3.0, "end": 3.8},
        {"word": " 1234.", "start": 3.8, "end": 5.0},
    ],
}

AWS = {
    "jobName": "call-1",
    "results": {
        "transcripts": [{"transcript": "Hello. My card is 4111."}],
        "items": [
            {
                "type": "pronunciation",
                "start_time": "0.0",
                "end_time": "0.5",
                "speaker_label": "spk_0",
                "alternatives": [{"confidence": "0.99", "content": "Hello"}],
            },
            {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
            {
                "type": "pronunciation",
                "start_time": "1.0",
                "end_time": "1.2",
                "speaker_label": "spk_1",
                "alternatives": [{"confidence": "0.99", "content": "My"}],
            },
            {
                "type": "pronunciation",
                "start_time": "1.2",
                "end_time": "1.5",
                "speaker_label": "spk_1",
                "alternatives": [{"confidence": "0.99", "content": "card"}],
            },
            {
                "type": "pronunciation",
                "start_time": "1.5",
                "end_time": "1.7",
                "speaker_label": "spk_1",
                "alternatives": [{"confidence": "0.99", "content": "is"}],
            },
            {
                "type": "pronunciation",
                "start_time": "1.7",
                "end_time": "3.0",
                "speaker_label": "spk_1",
                "alternatives": [{"confidence": "0.99", "content": "4111"}],
            },
            {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
        ],
    },
}

GUARDLINE = {
    "segments": [
        {"speaker": "agent", "start_ms": 0, "end_ms": 1000, "text": "您好"},
        {
            "speaker": "customer",
            "start_ms": 1200,
            "end_ms": 3000,
            "words": [
                {"text": "电话", "start_ms": 1200, "end_ms": 1500},
                {"text": "幺三八", "start_ms": 1500, "end_ms": 2200},
            ],
        },
        {"speaker": "customer", "start_ms": 3100, "end_ms": 3200, "text": "   "},
    ]
}


def test_aliyun() -> None:
    t = parse_transcript(ALIYUN)
    assert t.format == "aliyun"
    assert [s.start_ms for s in t.segments] == [0, 3000]  # sorted by time
    seg = t.segments[1]
    assert seg.speaker == "channel-1"
    assert [w.text for w in seg.words][-1] == "五六七八"
    assert seg.text[seg.word_offsets[3][0] : seg.word_offsets[3][1]] == "幺三八"
    assert t.segments[0].words == ()


def test_aliyun_flat_shape_with_speaker_ids() -> None:
    t = parse_transcript({"Sentences": [{"BeginTime": 0, "EndTime": 10, "Text": "好的", "SpeakerId": "2"}]})
    assert t.segments[0].speaker == "speaker-2"


def test_tencent_offsets_are_relative_to_the_sentence() -> None:
    t = parse_transcript(TENCENT)
    assert t.format == "tencent"
    seg = t.segments[0]
    assert seg.speaker == "speaker-1"
    assert (seg.words[2].start_ms, seg.words[2].end_ms) == (1900, 4000)


def test_whisper_top_level_words_are_assigned_by_time() -> None:
    t = parse_transcript(WHISPER)
    assert t.format == "whisper"
    assert [s.text for s in t.segments] == ["Hi, I need help.", "My number is 415 555 1234."]
    assert [w.text.strip() for w in t.segments[1].words] == ["My", "number", "is", "415", "555", "1234."]
    assert t.segments[1].start_ms == 1500
    assert t.segments[1].words[3].start_ms == 2300


def test_aws_splits_at_speakers_and_sentences() -> None:
    t = parse_transcript(AWS)
    assert t.format == "aws"
    assert [(s.speaker, s.text) for s in t.segments] == [("spk_0", "Hello."), ("spk_1", "My card is 4111.")]
    seg = t.segments[1]
    assert seg.text[slice(*seg.word_offsets[3])] == "4111."
    assert seg.words[3].start_ms == 1700


def test_guardline_words_build_the_text_and_blank_segments_drop() -> None:
    t = parse_transcript(GUARDLINE)
    assert t.format == "guardline"
    assert [s.text for s in t.segments] == ["您好", "电话幺三八"]
    assert t.segments[1].word_offsets == ((0, 2), (2, 5))


def test_forced_format_must_match() -> None:
    with pytest.raises(BadInput, match=r"transcript\.segments"):
        parse_transcript(ALIYUN, format="guardline")
    with pytest.raises(BadInput, match="transcript_format"):
        parse_transcript(ALIYUN, format="sphinx")


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"nonsense": 1}, "not a recognised ASR format"),
        ([], "must be a JSON object"),
        ({"Sentences": [{"BeginTime": 5, "EndTime": 1, "Text": SECRET}]}, r"Sentences\[0\].EndTime"),
        ({"Sentences": [{"BeginTime": -1, "EndTime": 1, "Text": SECRET}]}, r"Sentences\[0\].BeginTime"),
        ({"Sentences": [{"BeginTime": True, "EndTime": 1, "Text": SECRET}]}, "must be a number"),
        ({"Sentences": [{"BeginTime": 0, "EndTime": 1, "Text": 5}]}, r"Sentences\[0\].Text"),
        ({"segments": [{"start_ms": 0, "end_ms": 1}]}, "needs text or words"),
        ({"segments": [{"start": "x", "end": 1, "text": SECRET}]}, r"segments\[0\].start"),
        (
            {
                "results": {
                    "items": [
                        {
                            "type": "pronunciation",
                            "start_time": "a",
                            "end_time": "1",
                            "alternatives": [{"content": SECRET}],
                        }
                    ]
                }
            },
            "seconds",
        ),
        ({"results": {"items": [{"type": "other", "alternatives": [{"content": SECRET}]}]}}, "type"),
    ],
)
def test_errors_name_the_path_not_the_text(payload: object, where: str) -> None:
    with pytest.raises(BadInput, match=where) as info:
        parse_transcript(payload)
    assert SECRET not in str(info.value)


def test_size_limits() -> None:
    many = {"segments": [{"start_ms": i, "end_ms": i + 1, "text": "好"} for i in range(10_001)]}
    with pytest.raises(BadInput, match="at most 10000"):
        parse_transcript(many)


SEG = Segment(
    text="我的手机号是幺三八幺二三四",
    start_ms=1000,
    end_ms=5000,
    speaker="customer",
    words=(
        Word("我的", 1000, 1300),
        Word("手机号是", 1300, 2000),
        Word("幺三八", 2000, 3000),
        Word("幺二三四", 3000, 5000),
    ),
    word_offsets=((0, 2), (2, 6), (6, 9), (9, 13)),
)


def test_time_spans_follow_words() -> None:
    assert pii_time_spans(SEG, [(6, 13)], pad_ms=100) == [(1900, 5100)]
    # a span inside one word covers the whole word
    assert pii_time_spans(SEG, [(7, 8)], pad_ms=0) == [(2000, 3000)]


def test_time_spans_merge_and_clamp_at_zero() -> None:
    seg = Segment("ab cd", 0, 1000, None, (Word("ab", 0, 400), Word("cd", 450, 1000)), ((0, 2), (3, 5)))
    assert pii_time_spans(seg, [(0, 2), (3, 5)], pad_ms=100) == [(0, 1100)]


def test_without_word_timing_the_whole_segment_is_redacted() -> None:
    seg = Segment(SEG.text, 1000, 5000, None)
    assert pii_time_spans(seg, [(6, 9)], pad_ms=120) == [(880, 5120)]


def test_unlocatable_words_fall_back_to_the_segment() -> None:
    t = parse_transcript(
        {
            "segments": [
                {
                    "start_ms": 0,
                    "end_ms": 900,
                    "text": "完全不同的文字",
                    "words": [{"text": "电话", "start_ms": 0, "end_ms": 300}],
                }
            ]
        }
    )
    assert t.segments[0].words == ()
    assert pii_time_spans(t.segments[0], [(0, 2)], pad_ms=0) == [(0, 900)]
