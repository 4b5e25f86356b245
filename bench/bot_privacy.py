"""What reaches a language model: the labeled PII corpus through POST /v1/bot/messages with a model stub.

Run from the repository root with the project venv::

    .venv/bin/python bench/bot_privacy.py [--limit N] [--write-results]

Every message of bench/corpus/pii/*.jsonl (each in its own conversation, so no handoff chain keeps
the model out) goes through the bot API in-process (SQLite, the demo tenant, rate limits off) with
GUARDLINE_LLM_URL pointing at a real HTTP server on 127.0.0.1 that records every request and answers
like a model. Counted: the gold personal values (the corpus' labeled spans) of the messages whose turn
called the model, and how many of them appear verbatim -- or, for values with six or more digits, as
their digits -- in any recorded request. Whatever the PII engine misses is sent: this measures the
engine's recall where it matters most, not a separate safeguard. A short value found as a substring
(a two-character name) may also match unrelated text of the prompt, so the count errs high.
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
            requests.append(
                self.path.encode() + b"\n" + str(dict(self.headers.items())).encode() + b"\n" + body
            )
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
    tally: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    per_type: Counter[str] = Counter()
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
                seen = "\n".join(_seen(s) for s in sent)
                for entity in record["entities"]:
                    value = record["text"][entity["start"] : entity["end"]]
                    tally["gold values in them"] += 1
                    per_type[entity["type"]] += 1
                    digits = re.sub(r"\D", "", value)
                    if value in seen or (len(digits) >= 6 and digits in seen):
                        leaked[entity["type"]] += 1
    server.shutdown()
    server.server_close()
    return {"tally": tally, "leaked": leaked, "per_type": per_type, "requests": len(requests)}


def render(command: str, result: dict[str, Any]) -> str:
    tally, leaked, per_type = result["tally"], result["leaked"], result["per_type"]
    total_leaked = sum(leaked.values())
    gold = tally["gold values in them"]
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
        f" digits) in a request: **{total_leaked}** ({(total_leaked / gold if gold else 0):.2%}).",
        "",
        "| Type | Gold values sent through | Reached the model |",
        "|---|---|---|",
        *[f"| {t} | {per_type[t]} | {leaked[t]} |" for t in sorted(per_type)],
        "",
        "A value reaches the model only when the PII engine misses it (placeholders replace everything it"
        " finds, in the message and in the bot's draft); the figures above are that miss rate on the turns"
        " that went to the model. tests/bot/test_llm_privacy.py asserts zero on its own corpus.",
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
