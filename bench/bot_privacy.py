"""What reaches a language model: the labeled PII corpus through POST /v1/bot/messages with a model stub.

Run from the repository root with the project venv::

    .venv/bin/python bench/bot_privacy.py [--limit N] [--write-results]

Every message of bench/corpus/pii/*.jsonl (each in its own conversation, so no handoff chain keeps
the model out) goes through the bot API in-process (SQLite, the demo tenant, rate limits off) with
GUARDLINE_LLM_URL pointing at a real HTTP server on 127.0.0.1 that records every request and answers
like a model. Counted: the gold personal values (the corpus' labeled spans) of the messages whose turn
called the model, and how many of them appear verbatim -- or, for values with six or more digits, as
their digits -- in any recorded request. Two safeguards stand between a value and the model: the PII
engine's placeholders, then the egress pass (src/guardline/bot/egress.py), which masks what looks like
it could be personal. "Engine alone" counts the values still in clear after the engine's masking of the
message (what reached the model before the egress pass existed); "reached the model" is the measured
count with both. A short value found as a substring (a two-character name) may also match unrelated
text of the prompt, so the counts err high.

The egress pass's price is measured too: of the message characters outside gold values (and outside
what the engine masked), the share it replaced; how many messages it touched that hold no gold value
at all; and the same on benign text -- the bot's intent utterances (src/guardline/bot/data/intents_*.txt)
and the demo FAQ answers a draft is made of.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _results import machine_facts, write_section

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus" / "pii"


def serve(requests: list[bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            # Content-Length and Host are the body's size and the stub's own address: a 4-digit code
            # would "match" them by chance, and no value can hide in them.
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "host")}
            requests.append(self.path.encode() + b"\n" + str(headers).encode() + b"\n" + body)
            data = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": "好的，已为您处理。"}}]}
            )
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data.encode())))
            self.end_headers()
            self.wfile.write(data.encode())

        def log_message(self, *_args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def _seen(request: bytes) -> str:
    raw = request.decode("utf-8", "replace")
    _, _, body = raw.rpartition("\n")
    try:
        return raw + "\n" + json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return raw


def _raw_offsets(text: str, masked: Any) -> list[int | None]:
    """For each character of the engine-masked text, the index of the raw character it is (None:
    inside a placeholder)."""
    out: list[int | None] = []
    cursor = 0
    for item in masked.items:
        out.extend(range(cursor, item.source_start))
        out.extend([None] * (item.end - item.start))
        cursor = item.source_end
    out.extend(range(cursor, len(text)))
    return out


def over_masking(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """What the egress pass replaces besides gold values, message by message (engine first, as in a turn)."""
    from guardline.bot import egress
    from guardline.pii import anonymize, get_engine

    engine = get_engine()
    tally: Counter[str] = Counter()
    for record in records:
        text = record["text"]
        entities = engine.analyze(text)
        masked = anonymize(text, entities, default="placeholder")
        offsets = _raw_offsets(text, masked)
        gold = {i for e in record["entities"] for i in range(e["start"], e["end"])}
        engine_masked = {i for e in entities for i in range(e.start, e.end)}
        free = {i for i in range(len(text)) if not text[i].isspace()} - gold - engine_masked
        hit: set[int] = set()
        for f in egress.find(masked.text):
            raws = {r for r in offsets[f.start : f.end] if r is not None and not text[r].isspace()}
            tally[f"rule {f.rule}"] += len(raws & free - hit)
            hit |= raws
        tally["free chars"] += len(free)
        tally["free chars masked"] += len(hit & free)
        tally["gold chars"] += len(gold)
        tally["gold chars masked"] += len(hit & gold)
        if not record["entities"]:
            tally["messages without gold"] += 1
            tally["messages without gold touched"] += bool(hit & free)
    return dict(tally)


def benign() -> dict[str, dict[str, int]]:
    """The egress pass on text with no personal data: intent utterances and FAQ answers."""
    import csv

    from guardline.bot import egress

    data = ROOT / "src" / "guardline" / "bot" / "data"
    sets: dict[str, list[str]] = {"intent utterances": [], "FAQ answers": []}
    for path in sorted(data.glob("intents_*.txt")):
        sets["intent utterances"] += [
            line.strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith(("#", "["))
        ]
    zh = (data / "demo_faq_zh.md").read_text(encoding="utf-8").splitlines()
    sets["FAQ answers"] += [line for line in zh if line.strip() and not line.startswith("#")]
    with (data / "demo_faq_en.csv").open(encoding="utf-8") as fh:
        sets["FAQ answers"] += [row["answer"] for row in csv.DictReader(fh)]
    out = {}
    for name, texts in sets.items():
        found = [egress.find(t) for t in texts]
        out[name] = {
            "texts": len(texts),
            "touched": sum(bool(f) for f in found),
            "chars": sum(len(t) for t in texts),
            "masked": sum(x.end - x.start for f in found for x in f),
        }
    return out


def run(limit: int | None) -> dict[str, Any]:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from guardline.api.app import create_app
    from guardline.config import Settings
    from guardline.conversations.bootstrap import initialize

    records = [
        json.loads(line)
        for path in sorted(CORPUS.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][:limit]
    requests: list[bytes] = []
    server, url = serve(requests)
    from guardline.pii import PlaceholderVault, anonymize, get_engine

    engine = get_engine()
    tally: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    engine_leaked: Counter[str] = Counter()
    per_type: Counter[str] = Counter()
    sent_records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            guard_rate_customer="",
            guard_rate_source="",
            guard_rate_credential="",
            llm_url=url,
            llm_model="stub",
            llm_api_key=SecretStr("sk-bench"),
            _env_file=None,  # type: ignore[call-arg]
        )
        initialize(settings, demo=True)
        key = (Path(tmp) / "demo-api-key").read_text().strip()
        token = (Path(tmp) / "demo-customer-token").read_text().strip()
        with TestClient(create_app(settings)) as client:
            for i, record in enumerate(records):
                before = len(requests)
                r = client.post(
                    "/v1/bot/messages",
                    json={"text": record["text"], "customer_token": token, "conversation_ref": f"p-{i}"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                tally["messages"] += 1
                if r.status_code != 200:
                    tally[f"status {r.status_code}"] += 1
                    continue
                data = r.json()
                tally["blocked by the input guard"] += data["blocked"] == "input"
                sent = requests[before:]
                if not sent:
                    continue
                tally["messages sent to the model"] += 1
                sent_records.append(record)
                seen = "\n".join(_seen(s) for s in sent)
                found = engine.analyze(record["text"])
                engine_only = anonymize(
                    record["text"], found, default="placeholder", vault=PlaceholderVault()
                ).text
                for entity in record["entities"]:
                    value = record["text"][entity["start"] : entity["end"]]
                    tally["gold values in them"] += 1
                    per_type[entity["type"]] += 1
                    digits = re.sub(r"\D", "", value)
                    if value in seen or (len(digits) >= 6 and digits in seen):
                        leaked[entity["type"]] += 1
                    if value in engine_only or (len(digits) >= 6 and digits in engine_only):
                        engine_leaked[entity["type"]] += 1
    server.shutdown()
    server.server_close()
    return {
        "tally": tally,
        "leaked": leaked,
        "engine_leaked": engine_leaked,
        "per_type": per_type,
        "requests": len(requests),
        "over": over_masking(sent_records),
        "benign": benign(),
    }


def render(command: str, result: dict[str, Any]) -> str:
    tally, leaked, per_type = result["tally"], result["leaked"], result["per_type"]
    engine_leaked, over, benign_sets = result["engine_leaked"], result["over"], result["benign"]
    total_leaked = sum(leaked.values())
    total_engine = sum(engine_leaked.values())
    gold = tally["gold values in them"]

    free, free_masked = over.get("free chars", 0), over.get("free chars masked", 0)

    def share(part: int, whole: int) -> str:
        return f"{(part / whole if whole else 0):.2%}"

    lines = [
        "## Bot with a model: what reaches the model (labeled PII corpus)",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine_facts()}",
        f"- Messages: {tally['messages']} from bench/corpus/pii (chat and call, Chinese and English), each in"
        f" its own conversation; {tally['messages sent to the model']} turns called the model"
        f" ({result['requests']} requests recorded), {tally['blocked by the input guard']} were refused by"
        " the input guard, the rest were answered by tools or handed off without the model.",
        f"- Gold personal values in the turns that called the model: {gold}; found verbatim (or as their"
        f" digits) in a request: **{total_leaked}** ({share(total_leaked, gold)}); in clear after the PII"
        f" engine alone: {total_engine} ({share(total_engine, gold)}).",
        "",
        "| Type | Gold values sent through | In clear after the engine alone | Reached the model |",
        "|---|---|---|---|",
        *[f"| {t} | {per_type[t]} | {engine_leaked[t]} | {leaked[t]} |" for t in sorted(per_type)],
        "",
        "Over-masking, the egress pass's price (it runs after the engine, on text bound for the model only):",
        "",
        f"- Message characters outside gold values and outside the engine's masks: {free};"
        f" replaced by the egress pass: {free_masked} (**{share(free_masked, free)}**). Gold characters"
        f" the engine left and the egress pass caught: {over.get('gold chars masked', 0)}. The masked"
        " characters by rule: "
        + ", ".join(
            f"{name[5:]} {n}"
            for name, n in sorted(over.items(), key=lambda kv: -kv[1])
            if name.startswith("rule ") and n
        )
        + ".",
        f"- Messages that went to the model with no gold value: {over.get('messages without gold', 0)};"
        f" the egress pass masked something in {over.get('messages without gold touched', 0)} of them.",
        *[
            f"- Benign {name}: {b['touched']} of {b['texts']} touched ({share(b['touched'], b['texts'])}),"
            f" {b['masked']} of {b['chars']} characters masked ({share(b['masked'], b['chars'])})."
            for name, b in benign_sets.items()
        ],
        "",
        "A value reaches the model only when both the PII engine and the egress pass miss it. The egress"
        " pass masks by shape and cue, not by meaning: long digit runs (written or read out), codes mixing"
        " letters and digits, what follows a credential word, the words after a name cue and words that"
        " look like names, e-mail addresses; so it also hides order, tracking and product numbers from the"
        " model (tools handle those), which is most of its over-masking (rules digits, spoken, code)."
        " What both miss is names with no cue. tests/bot/test_llm_privacy.py asserts zero on its own"
        " corpus, messages the engine misses included (docs/bot-model-egress.md).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    report = render(shlex.join([".venv/bin/python", "bench/bot_privacy.py", *argv]), run(args.limit))
    print(report)
    if args.write_results:
        write_section("bot-privacy", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
