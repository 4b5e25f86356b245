"""A deterministic simulator of one ordinary day's audit events at a small shop, written as JSONL.

The shop (Shanghai, Tuesday 2026-11-24): six agents in two shifts (08:30-17:00, 13:00-21:30), a
supervisor, a tenant admin, a security admin and an auditor, in the office behind one address or at
home in the same city; staff log in at the start of a shift and again after the lunch break, a few
with a typo or two first; agents read conversations, calls and now and then a recording, and search;
two approved unmasks of one or two fields; the auditor queries the log; the admin edits an agent's
display name and adds a new agent. Two integrations ingest with stable addresses: the chat widget's
back-end (an API key) all day and into the night, and the hotline's ASR (an OAuth client).

Regenerate with ``.venv/bin/python -m tests.monitoring.benign_day`` (same seed, same file).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PATH = Path(__file__).parent / "data" / "benign_day.jsonl"
TENANT = uuid.UUID("5b0e7d7e-3c1a-4c55-9a51-6f1f0c2a9d10")
ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 24, tzinfo=ZONE)
OFFICE = "58.246.0.1"  # the office's NAT address (Shanghai)
HOMES = ["202.96.209.133", "58.246.0.77", "101.95.120.7"]  # home broadband in Shanghai
WIDGET = ("key:ab12cd34", "47.100.64.11")  # chat widget back-end (API key prefix, address)
ASR = ("hotline-asr", "120.55.211.9")  # hotline ASR (OAuth client id, address)


@dataclass
class Person:
    id: str
    role: str
    start: tuple[int, int]
    end: tuple[int, int]
    address: str

    @property
    def account(self) -> str:
        return hashlib.sha256(f"{TENANT}:{self.id}".encode()).hexdigest()[:16]


def _at(hour: int, minute: int, second: int = 0) -> datetime:
    return (DAY + timedelta(hours=hour, minutes=minute, seconds=second)).astimezone(UTC)


def _event(time: datetime, action: str, actor_type: str, actor_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "time": time.isoformat().replace("+00:00", "Z"),
        "action": action,
        "actor_type": actor_type,
        "actor_id": actor_id,
        "result": kw.pop("result", "success"),
        "tenant_id": str(TENANT),
        **kw,
    }


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def simulate(seed: int = 20261124) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    people = [
        Person(_uuid(rng), "agent", (8, 30), (17, 0), OFFICE),
        Person(_uuid(rng), "agent", (8, 30), (17, 0), OFFICE),
        Person(_uuid(rng), "agent", (8, 30), (17, 0), HOMES[0]),
        Person(_uuid(rng), "agent", (13, 0), (21, 30), OFFICE),
        Person(_uuid(rng), "agent", (13, 0), (21, 30), HOMES[1]),
        Person(_uuid(rng), "agent", (13, 0), (21, 30), OFFICE),
        Person(_uuid(rng), "supervisor", (9, 0), (18, 0), OFFICE),
        Person(_uuid(rng), "tenant_admin", (9, 30), (17, 30), OFFICE),
        Person(_uuid(rng), "security_admin", (9, 0), (18, 0), HOMES[2]),
        Person(_uuid(rng), "auditor", (10, 0), (16, 0), OFFICE),
    ]
    out: list[dict[str, Any]] = []

    def login(p: Person, t: datetime) -> None:
        typos = rng.choices([0, 1, 2], weights=[80, 15, 5])[0]
        for i in range(typos):
            out.append(
                _event(
                    t + timedelta(seconds=8 * i),
                    "auth.login",
                    "staff",
                    p.id,
                    result="failure",
                    source_ip=p.address,
                    details={"account": p.account, "reason": "password"},
                )
            )
        out.append(
            _event(
                t + timedelta(seconds=8 * typos + 5),
                "auth.login",
                "staff",
                p.id,
                source_ip=p.address,
                details={"account": p.account, "mfa": p.role != "agent"},
            )
        )

    customers = [_uuid(rng) for _ in range(120)]
    for p in people:
        start = _at(*p.start, rng.randrange(0, 600))
        end = _at(*p.end)
        login(p, start)
        lunch = start + timedelta(hours=4, minutes=rng.randrange(0, 30))
        login(p, lunch + timedelta(minutes=45))
        t = start + timedelta(minutes=2)
        while t < end:
            if lunch <= t < lunch + timedelta(minutes=45):
                t = lunch + timedelta(minutes=46)
                continue
            if p.role in ("agent", "supervisor"):
                kind = rng.choices(["conversation", "call", "recording", "search"], weights=[70, 15, 3, 12])[
                    0
                ]
                customer = rng.choice(customers)
                if kind == "search":
                    out.append(
                        _event(
                            t,
                            "customer.search",
                            "staff",
                            p.id,
                            source_ip=p.address,
                            details={"kind": "phone", "hits": 1},
                        )
                    )
                else:
                    out.append(
                        _event(
                            t,
                            f"{kind}.read",
                            "staff",
                            p.id,
                            object_type=kind,
                            object_id=_uuid(rng),
                            customer_id=customer,
                            source_ip=p.address,
                        )
                    )
                t += timedelta(seconds=rng.randrange(90, 420))
            elif p.role == "auditor":
                out.append(_event(t, "audit.query", "staff", p.id, source_ip=p.address, details={"rows": 50}))
                t += timedelta(minutes=rng.randrange(40, 90))
            else:
                t += timedelta(minutes=rng.randrange(30, 120))
        out.append(_event(end, "auth.logout", "staff", p.id, source_ip=p.address))

    # Two approved unmasks: a courier callback and a refund to a card.
    agents = [p for p in people if p.role == "agent"]
    supervisor = next(p for p in people if p.role == "supervisor")
    for (hour, minute), agent, fields in [((11, 12), agents[0], 1), ((15, 40), agents[3], 2)]:
        request = _uuid(rng)
        base = _at(hour, minute)
        ids = {"object_type": "unmask_request", "object_id": request}
        out.append(
            _event(
                base,
                "unmask.request",
                "staff",
                agent.id,
                source_ip=agent.address,
                details={"fields": fields},
                **ids,
            )
        )
        out.append(
            _event(
                base + timedelta(minutes=3),
                "unmask.approve",
                "staff",
                supervisor.id,
                source_ip=supervisor.address,
                details={"minutes": 15},
                **ids,
            )
        )
        out.append(
            _event(
                base + timedelta(minutes=4),
                "unmask.read",
                "staff",
                agent.id,
                source_ip=agent.address,
                details={"fields": fields, "grant": request},
                **ids,
            )
        )

    # Administration: a display-name edit (roles unchanged) and a new agent.
    admin = next(p for p in people if p.role == "tenant_admin")
    out.append(
        _event(
            _at(10, 5),
            "user.update",
            "staff",
            admin.id,
            object_type="user",
            object_id=agents[1].id,
            source_ip=admin.address,
            details={"roles": ["agent"], "previous_roles": ["agent"], "disabled": False},
        )
    )
    out.append(
        _event(
            _at(14, 20),
            "user.create",
            "staff",
            admin.id,
            object_type="user",
            object_id=_uuid(rng),
            source_ip=admin.address,
            details={"roles": ["agent"]},
        )
    )

    # Integrations: chat all day and into the night, calls during hotline hours.
    t = _at(0, 0, 30)
    while t < _at(23, 59):
        local = t.astimezone(ZONE).hour
        gap = rng.randrange(20, 90) if 8 <= local < 23 else rng.randrange(240, 900)
        out.append(
            _event(
                t,
                "message.ingest",
                "service",
                WIDGET[0],
                object_type="message",
                object_id=_uuid(rng),
                customer_id=rng.choice(customers),
                source_ip=WIDGET[1],
                details={
                    "level": rng.choice(["L2", "L3"]),
                    "entities": rng.choice([[], ["PHONE"], ["ADDRESS"]]),
                },
            )
        )
        t += timedelta(seconds=gap)
    t = _at(8, 0, 15)
    while t < _at(21, 0):
        out.append(
            _event(
                t,
                "call.ingest",
                "service",
                ASR[0],
                object_type="call",
                object_id=_uuid(rng),
                customer_id=rng.choice(customers),
                source_ip=ASR[1],
                details={"level": "L3", "entities": ["PHONE"]},
            )
        )
        t += timedelta(seconds=rng.randrange(180, 600))

    out.sort(key=lambda e: e["time"])
    for seq, e in enumerate(out, 1):
        e["seq"] = seq
    return out


def write(path: Path = PATH) -> int:
    events = simulate()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n")
    return len(events)


if __name__ == "__main__":
    write()
