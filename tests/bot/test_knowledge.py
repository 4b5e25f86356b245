from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardline.bot.knowledge import (
    MAX_ENTRIES,
    MAX_IMPORT_BYTES,
    FaqImportError,
    KnowledgeBase,
    KnowledgeStore,
    demo_knowledge_base,
    parse_faq,
    read_faq_file,
)
from guardline.errors import BadInput, PayloadTooLarge

CSV_OK = (
    "question,answer,tags\n"
    "多久发货？,付款后48小时内发货。,shipping\n"
    '"退货运费谁出？","质量问题我们出，无理由退货买家出。",return_refund;policy\n'
    "Do you ship abroad?,Mainland China only.,\n"
)


def test_csv_import() -> None:
    entries = parse_faq(CSV_OK, format="csv")
    assert [e.id for e in entries] == ["faq-1", "faq-2", "faq-3"]
    assert entries[1].tags == ("return_refund", "policy")
    assert [e.lang for e in entries] == ["zh", "zh", "en"]


def test_csv_chinese_headers_and_bom() -> None:
    data = "\ufeff问题,答案\n能开发票吗,可以，默认电子发票。\n".encode()
    (entry,) = parse_faq(data, format="csv")
    assert entry.question == "能开发票吗"
    assert entry.answer == "可以，默认电子发票。"


def test_json_import() -> None:
    data = json.dumps(
        [
            {"id": "ship", "question": "多久发货", "answer": "48小时内", "tags": ["shipping"]},
            {"question": "Can I return it?", "answer": "Within 7 days.", "lang": "en"},
        ],
        ensure_ascii=False,
    )
    entries = parse_faq(data, format="json")
    assert entries[0].id == "ship"
    assert entries[0].tags == ("shipping",)
    assert entries[1].lang == "en"


def test_markdown_import_sections_become_tags() -> None:
    md = (
        "# 常见问题\n\n## 配送 {.shipping}\n\n### 多久发货？ {#ship-time}\n付款后48小时内发货。\n\n"
        "### 发什么快递\n中通或圆通。\n\n```\n# not a heading inside a fence\n```\n\n"
        "## 发票\n\n### 能开专票吗？\n可以，提供税号即可。\n"
    )
    entries = parse_faq(md, format="markdown")
    assert [e.question for e in entries] == ["多久发货？", "发什么快递", "能开专票吗？"]
    assert entries[0].id == "ship-time"
    assert entries[0].tags == ("常见问题", "shipping")
    assert "# not a heading" in entries[1].answer
    assert entries[2].tags == ("常见问题", "发票")


@pytest.mark.parametrize(
    ("fmt", "data", "problem"),
    [
        ("csv", "question,answer\n多久发货,48小时\n退货,\n", "line 3: empty answer"),
        ("csv", "question,answer\n多久发货,48小时,多余\n", "line 2: 3 fields where the header has 2"),
        ("csv", 'question,answer\n"多久发货,48小时\n', "not valid CSV"),
        ("csv", "question,reply\n多久发货,48小时\n", "line 1: the header must name"),
        ("csv", "question,answer\n多久发货？,48小时\n多久发货,两天\n", "line 3: the same question as line 2"),
        ("csv", "question,answer\n", "no FAQ entries"),
        ("csv", "question,answer,lang\nhow long,2 days,fr\n", "line 2: lang must be one of"),
        ("json", '[{"question": "多久发货"}]', "entry 1: missing answer"),
        ("json", '[{"answer": "48小时"}]', "entry 1: missing question"),
        ("json", '[{"question": "多久发货", "answer": "  "}]', "entry 1: empty answer"),
        ("json", '[{"question": 5, "answer": "x"}]', "entry 1: question must be text"),
        ("json", '[{"question": "a b c", "answer": "x", "extra": 1}]', "entry 1: unknown fields 'extra'"),
        ("json", '[{"question": "多久发货", "answer": "x", "tags": 3}]', "entry 1: tags must be"),
        ("json", '{"question": "多久发货"}', "must be a list"),
        ("json", '[{"question": "多久发货", "answer": "x"},', "not valid JSON"),
        (
            "json",
            '[{"id": "a", "question": "发货", "answer": "x"},'
            ' {"id": "a", "question": "退货", "answer": "y"}]',
            "entry 2: id 'a' is already used by entry 1",
        ),
        ("json", '[{"id": "has space", "question": "发货", "answer": "x"}]', "entry 1: id must be"),
        ("json", '[{"question": "吗？", "answer": "x"}]', "entry 1: the question has no searchable words"),
        ("markdown", "这里是介绍\n## 多久发货\n48小时\n", "line 1: text before the first heading"),
        ("markdown", "## 多久发货\n\n## 退货\n7天\n", "line 1: empty answer"),
        ("markdown", "just text, no headings\n", "no '#' headings"),
    ],
)
def test_refusals_name_the_entry(fmt: str, data: str, problem: str) -> None:
    with pytest.raises(FaqImportError) as caught:
        parse_faq(data, format=fmt, source="shop.faq")  # type: ignore[arg-type]
    assert problem in caught.value.message
    assert "nothing was imported" in caught.value.message
    assert caught.value.status_code == 400


def test_every_problem_is_listed_and_values_are_not_echoed() -> None:
    data = "question,answer\n我的手机13812345678,\n,答案\n"
    with pytest.raises(FaqImportError) as caught:
        parse_faq(data, format="csv")
    assert len(caught.value.problems) == 2
    assert "13812345678" not in caught.value.message


def test_too_large_is_refused_before_parsing() -> None:
    data = "question,answer\n" + "x" * MAX_IMPORT_BYTES
    with pytest.raises(PayloadTooLarge):
        parse_faq(data, format="csv")


def test_too_many_entries() -> None:
    data = "question,answer\n" + "".join(f"问题{i},答案\n" for i in range(MAX_ENTRIES + 1))
    with pytest.raises(FaqImportError, match="entries; the limit is"):
        parse_faq(data, format="csv")


def test_too_long_answer() -> None:
    data = json.dumps([{"question": "发货", "answer": "很" * 5000}])
    with pytest.raises(FaqImportError, match="entry 1: answer is 5000 characters"):
        parse_faq(data, format="json")


def test_not_utf8_and_unknown_format() -> None:
    with pytest.raises(FaqImportError, match="not UTF-8"):
        parse_faq("question,answer\n发货,48小时\n".encode("gbk"), format="csv")
    with pytest.raises(BadInput, match="format must be one of"):
        parse_faq("x", format="xlsx")  # type: ignore[arg-type]


def test_read_faq_file_picks_the_format_by_suffix(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text("## 多久发货\n48小时\n", encoding="utf-8")
    assert read_faq_file(path)[0].answer == "48小时"
    with pytest.raises(BadInput, match="cannot tell the FAQ format"):
        read_faq_file(tmp_path / "faq.txt")


def test_a_refused_import_keeps_the_previous_base() -> None:
    store = KnowledgeStore()
    store.import_faq(CSV_OK, shop="s1", format="csv")
    with pytest.raises(FaqImportError):
        store.import_faq("question,answer\n好问题,\n", shop="s1", format="csv")
    base = store.get("s1")
    assert base is not None
    assert len(base) == 3
    assert store.get("other") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("付款后几天发货", "ship-time"),
        ("买多少包邮", "shipping-fee"),
        ("能发顺丰吗", "couriers"),
        ("不喜欢能七天无理由退吗", "return-7day"),
        ("退货的邮费要我出吗", "return-shipping"),
        ("退款多久能到", "refund-time"),
        ("公司报销要开增值税专票", "invoice-vat"),
        ("发票抬头填错了", "invoice-change"),
        ("下了单还能改收货地址吗", "address-change"),
        ("有人冒充客服问我要验证码", "anti-fraud"),
        ("嗯 那个 你们 是正品吗", "authentic"),
        ("how long does delivery take", "delivery-time-en"),
        ("who pays the return shipping", "return-shipping-en"),
        ("can i get an electronic invoice", "invoice-e-en"),
        ("is there a warranty", "warranty-en"),
        ("I forgot my password", "account-password-en"),
    ],
)
def test_demo_retrieval_finds_paraphrases(query: str, expected: str) -> None:
    hits = demo_knowledge_base().search(query, k=3)
    assert hits[0].entry.id == expected
    assert hits == sorted(hits, key=lambda h: -h.score)


@pytest.mark.parametrize("query", ["今天天气怎么样", "帮我写一首诗", "tell me a joke", "你好", "?!"])
def test_out_of_scope_questions_get_no_answer(query: str) -> None:
    assert demo_knowledge_base().answer(query) is None


def test_answers_in_the_language_asked() -> None:
    kb = demo_knowledge_base()
    assert kb.search("退货运费谁出")[0].entry.lang == "zh"
    assert kb.search("who pays for return shipping")[0].entry.lang == "en"


def test_search_is_deterministic() -> None:
    entries = demo_knowledge_base().entries
    again = KnowledgeBase(shop="demo", entries=entries)
    for q in ("退货运费谁出", "how long does shipping take", "发票"):
        assert again.search(q, k=5) == demo_knowledge_base().search(q, k=5)


def test_knowledge_base_refusals() -> None:
    with pytest.raises(BadInput, match="at least one"):
        KnowledgeBase(shop="s", entries=[])
    with pytest.raises(BadInput, match="k must be"):
        demo_knowledge_base().search("发票", k=0)
