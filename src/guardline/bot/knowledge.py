"""A shop's knowledge base: FAQ imported from CSV, JSON or Markdown, searched with BM25 (bm25s).

Questions and answers are indexed separately and a question match counts more than an answer match:
customers ask the way FAQ questions are written, and answers mention many topics in passing. Chinese is
tokenized with jieba's search mode, English lowercased and lightly stemmed, stopwords removed.

BM25 scores have no fixed scale, so the decision "do we know this?" uses a separate confidence: the
share of the query's information (idf-weighted terms) that the best entry covers. An import is all or
nothing: a file with any bad entry is refused with every problem found, by line or entry number.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from guardline.bot.text import LANGS, Lang, detect_lang, normalize, tokens
from guardline.errors import BadInput, PayloadTooLarge

FaqFormat = Literal["csv", "json", "markdown"]
FORMATS: tuple[FaqFormat, ...] = ("csv", "json", "markdown")
_SUFFIXES: dict[str, FaqFormat] = {".csv": "csv", ".json": "json", ".md": "markdown", ".markdown": "markdown"}

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 5_000
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 4_000
MAX_TAGS = 20
MAX_PROBLEMS_SHOWN = 20
# Below this confidence the bot says it does not know and offers a human.
DEFAULT_MIN_CONFIDENCE = 0.5
# An answer-only match is worth this much of a question match, in the score and the confidence.
ANSWER_WEIGHT = 0.35

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TAG_SPLIT = re.compile(r"[;,|，；、]")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# Pandoc-style heading attributes: "## 多久发货？ {#ship-time .shipping}" sets the id and tags.
_HEADING_ATTRS = re.compile(r"\s*\{((?:\s*[#.][A-Za-z0-9_-][A-Za-z0-9_.-]{0,63})+)\s*\}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")

_CSV_COLUMNS = {
    "question": "question",
    "问题": "question",
    "answer": "answer",
    "答案": "answer",
    "回答": "answer",
    "tags": "tags",
    "标签": "tags",
    "id": "id",
    "lang": "lang",
    "语言": "lang",
}


class FaqImportError(BadInput):
    """A FAQ file was refused; ``problems`` lists every entry that is wrong, by line or entry number."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = (
            f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        )
        super().__init__(f"FAQ import from {source} refused, nothing was imported: {shown}{more}")
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    lang: Lang
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    entry: FaqEntry
    score: float  # BM25, question + ANSWER_WEIGHT * answer: for ranking only
    confidence: float  # 0..1, comparable across queries: for deciding


# ----------------------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class _Draft:
    where: str  # "line 7", "entry 3"
    question: Any
    answer: Any
    tags: Any = None
    id: Any = None
    lang: Any = None


def _decode(data: str | bytes, source: str) -> str:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"FAQ import from {source} is {size} bytes; the limit is {MAX_IMPORT_BYTES}: split the file"
        )
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FaqImportError(
            source, [f"not UTF-8 (invalid byte at offset {exc.start}): save it as UTF-8"]
        ) from None


def _tags(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        items: list[Any] = _TAG_SPLIT.split(raw)
    elif isinstance(raw, list):
        items = raw
    else:
        problems.append(f"{where}: tags must be a list of strings or one string separated by ';'")
        return ()
    if not all(isinstance(t, str) for t in items):
        problems.append(f"{where}: every tag must be a string")
        return ()
    tags = tuple(dict.fromkeys(t.strip().lower() for t in items if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > 40 for t in tags):
        problems.append(f"{where}: at most {MAX_TAGS} tags of at most 40 characters each")
        return ()
    return tags


def _validate(drafts: Sequence[_Draft], source: str, problems: list[str]) -> list[FaqEntry]:
    if not drafts and not problems:
        problems.append("no FAQ entries found")
    if len(drafts) > MAX_ENTRIES:
        problems.append(f"{len(drafts)} entries; the limit is {MAX_ENTRIES} per import")
        raise FaqImportError(source, problems)
    entries: list[FaqEntry] = []
    seen_questions: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for n, d in enumerate(drafts, 1):
        before = len(problems)
        texts: dict[str, str] = {}
        for name, value, limit in (
            ("question", d.question, MAX_QUESTION_CHARS),
            ("answer", d.answer, MAX_ANSWER_CHARS),
        ):
            if value is None:
                problems.append(f"{d.where}: missing {name}")
            elif not isinstance(value, str):
                problems.append(f"{d.where}: {name} must be text, not {type(value).__name__}")
            elif not value.strip():
                problems.append(f"{d.where}: empty {name}")
            elif len(value.strip()) > limit:
                problems.append(f"{d.where}: {name} is {len(value.strip())} characters; the limit is {limit}")
            else:
                texts[name] = value.strip()
        entry_id = d.id if d.id not in (None, "") else f"faq-{n}"
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            problems.append(f"{d.where}: id must be 1-64 letters, digits, '.', '_' or '-'")
        elif entry_id in seen_ids:
            problems.append(f"{d.where}: id {entry_id!r} is already used by {seen_ids[entry_id]}")
        else:
            seen_ids[entry_id] = d.where
        lang: Any = d.lang if d.lang not in (None, "") else None
        if lang is not None and lang not in LANGS:
            problems.append(f"{d.where}: lang must be one of {', '.join(LANGS)}")
        tags = _tags(d.tags, d.where, problems)
        if "question" in texts:
            key = normalize(texts["question"]).rstrip("?？.。!！ ")
            if key in seen_questions:
                problems.append(f"{d.where}: the same question as {seen_questions[key]}")
            else:
                seen_questions[key] = d.where
            if "answer" in texts and not tokens(texts["question"], search=True, drop_stopwords=True):
                problems.append(f"{d.where}: the question has no searchable words")
        if len(problems) == before:
            entries.append(
                FaqEntry(
                    id=str(entry_id),
                    question=texts["question"],
                    answer=texts["answer"],
                    lang=lang or detect_lang(texts["question"] + " " + texts["answer"]),
                    tags=tags,
                )
            )
    if problems:
        raise FaqImportError(source, problems)
    return entries


def _parse_csv(text: str, problems: list[str]) -> list[_Draft]:
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(rows, None)
    except csv.Error as exc:
        problems.append(f"line 1: not valid CSV ({exc})")
        return []
    if header is None:
        return []
    columns = [_CSV_COLUMNS.get(h.strip().lower()) for h in header]
    unknown = [h.strip()[:30] for h, c in zip(header, columns, strict=True) if c is None]
    if unknown or "question" not in columns or "answer" not in columns or len(set(columns)) != len(columns):
        problems.append(
            "line 1: the header must name the columns question,answer and optionally tags,id,lang "
            f"(each once); found {', '.join(repr(h.strip()[:30]) for h in header)}"
        )
        return []
    drafts: list[_Draft] = []
    try:
        for row in rows:
            where = f"line {rows.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                problems.append(f"{where}: {len(row)} fields where the header has {len(columns)}")
                continue
            values = dict(zip(columns, row, strict=True))
            drafts.append(
                _Draft(
                    where,
                    values.get("question") or "",
                    values.get("answer") or "",
                    values.get("tags"),
                    values.get("id"),
                    values.get("lang"),
                )
            )
    except csv.Error as exc:
        problems.append(f"line {rows.line_num}: not valid CSV ({exc})")
    return drafts


def _parse_json(text: str, problems: list[str]) -> list[_Draft]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(f"line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})")
        return []
    if isinstance(data, dict) and isinstance(data.get("faq"), list):
        data = data["faq"]
    if not isinstance(data, list):
        problems.append('the JSON must be a list of {"question": ..., "answer": ...} objects')
        return []
    drafts: list[_Draft] = []
    allowed = {"question", "answer", "tags", "id", "lang"}
    for n, item in enumerate(data, 1):
        where = f"entry {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object with question and answer")
            continue
        extra = sorted(k for k in item if k not in allowed)
        if extra:
            problems.append(f"{where}: unknown fields {', '.join(repr(k[:30]) for k in extra)}")
            continue
        drafts.append(
            _Draft(
                where,
                item.get("question"),
                item.get("answer"),
                item.get("tags"),
                item.get("id"),
                item.get("lang"),
            )
        )
    return drafts


def _parse_markdown(text: str, problems: list[str]) -> list[_Draft]:
    """Headings are questions and the text below them answers; a heading with only deeper headings
    below it is a section, and its title becomes a tag of the questions in it."""
    lines = text.splitlines()
    headings: list[tuple[int, int, str]] = []  # line index, level, text
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (m := _HEADING.match(line)):
            headings.append((i, len(m.group(1)), m.group(2)))
    if not headings:
        if text.strip():
            problems.append("line 1: no '#' headings: each question must be a Markdown heading")
        return []
    preamble = "\n".join(lines[: headings[0][0]]).strip()
    if preamble:
        problems.append("line 1: text before the first heading; put every answer under its question heading")
    drafts: list[_Draft] = []
    sections: list[tuple[int, list[str]]] = []  # open section headings: level, their tags
    for k, (i, level, heading) in enumerate(headings):
        end = headings[k + 1][0] if k + 1 < len(headings) else len(lines)
        body = "\n".join(lines[i + 1 : end]).strip()
        next_level = headings[k + 1][1] if k + 1 < len(headings) else 0
        title, entry_id, classes = heading, None, []
        if m := _HEADING_ATTRS.search(heading):
            title = heading[: m.start()].strip()
            for attr in m.group(1).split():
                if attr.startswith("#"):
                    entry_id = attr[1:]
                else:
                    classes.append(attr[1:])
        while sections and sections[-1][0] >= level:
            sections.pop()
        if not body and next_level > level:
            # A section: its {.tags}, or its title when it has none, tag every question below it.
            sections.append((level, classes or [title]))
            continue
        tags = [t for _, section_tags in sections for t in section_tags] + classes
        drafts.append(_Draft(f"line {i + 1}", title, body, tags, entry_id))
    return drafts


_PARSERS = {"csv": _parse_csv, "json": _parse_json, "markdown": _parse_markdown}


def parse_faq(data: str | bytes, *, format: FaqFormat, source: str = "upload") -> list[FaqEntry]:
    """Validated entries of one FAQ file, or FaqImportError listing every problem (PayloadTooLarge if huge).

    CSV: a header naming question,answer[,tags][,id][,lang] (问题/答案/标签 also accepted), tags split
    by ';'. JSON: a list of objects with the same fields (tags a list). Markdown: ``## question``
    headings with the answer below; ``{#id}`` after a heading sets its id.
    """
    if format not in _PARSERS:
        raise BadInput(f"FAQ format must be one of {', '.join(FORMATS)}, not {str(format)[:20]!r}")
    text = _decode(data, source)
    problems: list[str] = []
    drafts = _PARSERS[format](text, problems)
    return _validate(drafts, source, problems)


def format_of(path: Path) -> FaqFormat:
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise BadInput(f"cannot tell the FAQ format of {path.name}: use .csv, .json or .md") from None


def read_faq_file(path: Path) -> list[FaqEntry]:
    format = format_of(path)
    size = path.stat().st_size
    if size > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"{path.name} is {size} bytes; the limit is {MAX_IMPORT_BYTES}: split the file")
    return parse_faq(path.read_bytes(), format=format, source=path.name)


# ------------------------------------------------------------------------------------------ search


@dataclass(slots=True)
class _Index:
    entries: list[FaqEntry]
    question_bm25: Any
    answer_bm25: Any
    question_terms: list[frozenset[str]]
    answer_terms: list[frozenset[str]]
    idf: dict[str, float]
    unknown_idf: float


def _bm25(docs: Sequence[Sequence[str]]) -> Any:
    import bm25s
    from bm25s.tokenization import Tokenized

    # Our own vocabulary, in sorted order: bm25s builds one from a set when given strings, and the
    # order would then change with the hash seed.
    vocab = {t: i for i, t in enumerate(sorted({t for doc in docs for t in doc} | {""}))}
    ids = [[vocab[t] for t in doc] or [vocab[""]] for doc in docs]
    index = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    index.index(Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return index


def _build(entries: Sequence[FaqEntry]) -> _Index:
    questions = [tokens(e.question, search=True, drop_stopwords=True) for e in entries]
    answers = [tokens(e.answer, search=True, drop_stopwords=True) for e in entries]
    n = len(entries)
    df: dict[str, int] = {}
    for q, a in zip(questions, answers, strict=True):
        for t in set(q) | set(a):
            df[t] = df.get(t, 0) + 1
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    return _Index(
        entries=list(entries),
        question_bm25=_bm25(questions),
        answer_bm25=_bm25(answers),
        question_terms=[frozenset(q) for q in questions],
        answer_terms=[frozenset(a) for a in answers],
        idf=idf,
        unknown_idf=math.log(1 + (n + 0.5) / 0.5),
    )


class KnowledgeBase:
    """One shop's FAQ, indexed once per language; immutable, so searches need no lock."""

    def __init__(
        self, *, shop: str, entries: Sequence[FaqEntry], min_confidence: float = DEFAULT_MIN_CONFIDENCE
    ) -> None:
        if not entries:
            raise BadInput("a knowledge base needs at least one FAQ entry")
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise BadInput("FAQ entry ids must be unique within a knowledge base")
        if not 0.0 < min_confidence <= 1.0:
            raise BadInput(f"min_confidence must be in (0, 1], not {min_confidence}")
        self.shop = shop
        self.entries: tuple[FaqEntry, ...] = tuple(entries)
        self.min_confidence = min_confidence
        self._by_lang = {
            lang: _build(group) for lang in LANGS if (group := [e for e in entries if e.lang == lang])
        }

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def search(self, query: str, *, lang: Lang | None = None, k: int = 3) -> list[Hit]:
        """The best ``k`` entries for ``query`` in its language (the other one if the shop has none)."""
        if k < 1:
            raise BadInput(f"k must be at least 1, not {k}")
        lang = lang or detect_lang(query)
        index = self._by_lang.get(lang) or next(iter(self._by_lang.values()))
        terms = list(dict.fromkeys(tokens(query, search=True, drop_stopwords=True)))
        if not terms:
            return []
        scores = index.question_bm25.get_scores(terms) + ANSWER_WEIGHT * index.answer_bm25.get_scores(terms)
        order = sorted((i for i in range(len(index.entries)) if scores[i] > 0), key=lambda i: (-scores[i], i))
        weights = [index.idf.get(t, index.unknown_idf) for t in terms]
        total = sum(weights)
        hits = []
        for i in order[:k]:
            covered = sum(
                w
                if t in index.question_terms[i]
                else ANSWER_WEIGHT * w
                if t in index.answer_terms[i]
                else 0.0
                for t, w in zip(terms, weights, strict=True)
            )
            hits.append(Hit(index.entries[i], round(float(scores[i]), 4), round(covered / total, 4)))
        return hits

    def answer(self, query: str, *, lang: Lang | None = None) -> Hit | None:
        """The best entry when it is confident enough to answer with, else None."""
        hits = self.search(query, lang=lang, k=1)
        return hits[0] if hits and hits[0].confidence >= self.min_confidence else None


def knowledge_base_from(
    data: str | bytes, *, shop: str, format: FaqFormat, source: str = "upload"
) -> KnowledgeBase:
    return KnowledgeBase(shop=shop, entries=parse_faq(data, format=format, source=source))


@dataclass
class KnowledgeStore:
    """Each shop's current knowledge base, in memory. An import builds a new base and swaps it in
    whole, so a search never sees a half-imported FAQ and a refused import leaves the old one."""

    _bases: dict[str, KnowledgeBase] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, shop: str) -> KnowledgeBase | None:
        return self._bases.get(shop)

    def put(self, base: KnowledgeBase) -> None:
        with self._lock:
            self._bases[base.shop] = base

    def import_faq(
        self, data: str | bytes, *, shop: str, format: FaqFormat, source: str = "upload"
    ) -> KnowledgeBase:
        """Parse, validate and index ``data``, then replace the shop's base with it in one step."""
        base = knowledge_base_from(data, shop=shop, format=format, source=source)
        self.put(base)
        return base

    def shops(self) -> Iterable[str]:
        return tuple(self._bases)


DEMO_SHOP = "demo"
DEMO_FILES = ("demo_faq_zh.md", "demo_faq_en.csv")


def demo_entries() -> list[FaqEntry]:
    data = resources.files("guardline.bot").joinpath("data")
    out: list[FaqEntry] = []
    for name in DEMO_FILES:
        out.extend(parse_faq(data.joinpath(name).read_bytes(), format=format_of(Path(name)), source=name))
    return out


@functools.cache
def demo_knowledge_base() -> KnowledgeBase:
    """The demo shop's FAQ (shipping, 7天无理由 returns, 电子发票 …) in Chinese and English."""
    return KnowledgeBase(shop=DEMO_SHOP, entries=demo_entries())
