"""Presidio peer for the PII benchmark. Runs inside ``bench/.presidio-venv``, never in the project venv.

Usage (the orchestrator ``bench/pii.py`` calls it)::

    bench/.presidio-venv/bin/python bench/presidio/runner.py --input IN.jsonl --output OUT.jsonl \
        --meta META.json [--repeat N]

Input: JSONL records with at least ``id``, ``text`` and ``lang`` (``"zh"`` or ``"en"``).
Output: one JSONL line per record::

    {"id": ..., "entities": [{"type", "start", "end", "score"}], "latency_ns": [pass1, pass2, ...]}

``latency_ns`` holds one ``AnalyzerEngine.analyze`` wall time per timed pass (perf_counter_ns), measured
after one untimed warm-up pass over the whole input, with the process pinned to CPU 0.

The setup is the best one Presidio offers offline (no model hub):

* NLP engine: ``SpacyNlpEngine`` whose ``load()`` is replaced to use ``spacy.blank("en")`` and
  ``spacy.blank("zh")`` (character segmenter, no download). Blank pipelines have no NER, so the
  ``SpacyRecognizer`` (PERSON, LOCATION, ...) is registered but can never fire.
* Registry: every predefined recognizer that Presidio's own default configuration enables, loaded for
  both ``en`` and ``zh``; the ones the default configuration restricts to English (credit card, US
  SSN/passport/bank/licence/ITIN, UK NHS, ...) are re-instantiated with ``supported_language="zh"``.
  Recognizers that the default configuration disables (other countries' IDs, Hugging Face / LLM
  recognizers that need a hub or a network) stay off: they emit no type Guardline scores.
* ``PhoneRecognizer`` replaced by one whose ``supported_regions`` include CN, HK, MO, TW, US, GB, CA,
  AU, SG.
* ``tldextract`` (used by the e-mail recognizer to validate the domain) is switched to its bundled
  public-suffix snapshot; by default it first tries to fetch the list from the internet.

Entity mapping (Presidio -> Guardline); every other Presidio entity is dropped:

    PHONE_NUMBER -> PHONE      EMAIL_ADDRESS -> EMAIL     CREDIT_CARD -> BANK_CARD
    IP_ADDRESS -> IP_ADDRESS   US_SSN -> US_SSN           US_PASSPORT -> PASSPORT
    PERSON -> PERSON           LOCATION -> ADDRESS
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

LANGUAGES = ("en", "zh")
PHONE_REGIONS = ("CN", "HK", "MO", "TW", "US", "GB", "CA", "AU", "SG")
ENTITY_MAP: dict[str, str] = {
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "BANK_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_SSN": "US_SSN",
    "US_PASSPORT": "PASSPORT",
    "PERSON": "PERSON",
    "LOCATION": "ADDRESS",
}


class BlankSpacyNlpEngine(SpacyNlpEngine):  # type: ignore[misc]
    """A SpacyNlpEngine over blank pipelines: tokenization only, nothing downloaded."""

    def __init__(self, languages: Iterable[str]) -> None:
        self._languages = tuple(languages)
        models = [{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in self._languages]
        super().__init__(models=models, ner_model_configuration=NerModelConfiguration())

    def load(self) -> None:
        self.nlp = {lang: spacy.blank(lang) for lang in self._languages}


def use_offline_public_suffix_list() -> None:
    """Make ``tldextract.extract`` use the snapshot bundled with tldextract instead of the network."""
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    tldextract.extract = extractor
    tldextract.tldextract.extract = extractor


def _zh_copy(recognizer: EntityRecognizer) -> EntityRecognizer | None:
    """Re-instantiate an English-only predefined recognizer for ``zh``; None where the class can't."""
    try:
        return type(recognizer)(supported_language="zh")
    except TypeError:
        return None


def build_registry(nlp_engine: SpacyNlpEngine) -> RecognizerRegistry:
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    registry.load_predefined_recognizers(languages=list(LANGUAGES), nlp_engine=nlp_engine)
    by_lang: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
    for rec in registry.recognizers:
        by_lang.setdefault(rec.supported_language, set()).add(type(rec).__name__)
    for rec in list(registry.recognizers):
        name = type(rec).__name__
        if rec.supported_language == "en" and name not in by_lang["zh"]:
            copy = _zh_copy(rec)
            if copy is not None:
                registry.add_recognizer(copy)
                by_lang["zh"].add(name)
    for lang in LANGUAGES:
        registry.remove_recognizer("PhoneRecognizer", language=lang)
        registry.add_recognizer(PhoneRecognizer(supported_language=lang, supported_regions=PHONE_REGIONS))
    return registry


def build_analyzer() -> AnalyzerEngine:
    use_offline_public_suffix_list()
    nlp_engine = BlankSpacyNlpEngine(LANGUAGES)
    nlp_engine.load()
    registry = build_registry(nlp_engine)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=list(LANGUAGES))


def read_records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def to_guardline(results: Iterable[RecognizerResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        mapped = ENTITY_MAP.get(r.entity_type)
        if mapped is not None:
            out.append({"type": mapped, "start": r.start, "end": r.end, "score": round(r.score, 3)})
    return sorted(out, key=lambda e: (e["start"], e["end"], e["type"]))


def timed_passes(
    analyzer: AnalyzerEngine, records: list[dict[str, Any]], repeat: int
) -> Iterator[tuple[int, list[RecognizerResult], int]]:
    """Yield (record index, results, latency ns) for every record in every timed pass."""
    for _ in range(repeat):
        for i, rec in enumerate(records):
            t0 = time.perf_counter_ns()
            results = analyzer.analyze(text=rec["text"], language=rec["lang"])
            yield i, results, time.perf_counter_ns() - t0


def run(records: list[dict[str, Any]], repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    t0 = time.perf_counter()
    analyzer = build_analyzer()
    load_s = time.perf_counter() - t0
    for rec in records:  # warm-up pass
        analyzer.analyze(text=rec["text"], language=rec["lang"])
    latencies: list[list[int]] = [[] for _ in records]
    entities: list[list[dict[str, Any]]] = [[] for _ in records]
    for i, results, ns in timed_passes(analyzer, records, repeat):
        latencies[i].append(ns)
        entities[i] = to_guardline(results)
    predictions = [
        {"id": rec["id"], "entities": ents, "latency_ns": lat}
        for rec, ents, lat in zip(records, entities, latencies, strict=True)
    ]
    return predictions, describe(analyzer, load_s, repeat)


def describe(analyzer: AnalyzerEngine, load_s: float, repeat: int) -> dict[str, Any]:
    recognizers = {
        lang: sorted({type(r).__name__ for r in analyzer.registry.get_recognizers(lang, all_fields=True)})
        for lang in LANGUAGES
    }
    return {
        "versions": {pkg: metadata.version(pkg) for pkg in ("presidio-analyzer", "spacy", "phonenumbers")},
        "python": sys.version.split()[0],
        "load_seconds": round(load_s, 3),
        "repeat": repeat,
        "phone_regions": list(PHONE_REGIONS),
        "entity_map": ENTITY_MAP,
        "recognizers": recognizers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--meta", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {0})
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    records = read_records(args.input)
    predictions, meta = run(records, max(1, args.repeat))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for pred in predictions:
            fh.write(json.dumps(pred, ensure_ascii=False) + "\n")
    args.meta.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
