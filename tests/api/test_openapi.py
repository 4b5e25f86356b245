"""The OpenAPI document is whole: every $ref names a schema that is in it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient


def _refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value, where
            else:
                yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{where}/{i}")


def _resolves(spec: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False  # the document refers to nothing outside itself
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")  # JSON Pointer escapes
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_every_ref_resolves(staff_client: TestClient) -> None:
    spec = staff_client.get("/openapi.json").json()
    refs = list(_refs(spec))
    assert len(refs) > 50  # the walk does find them
    assert [(ref, where) for ref, where in refs if not _resolves(spec, ref)] == []


def test_hand_read_bodies_are_documented(staff_client: TestClient) -> None:
    spec = staff_client.get("/openapi.json").json()
    body = spec["paths"]["/v1/calls"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CallCreate"}
    call = spec["components"]["schemas"]["CallCreate"]
    assert {"caller_number", "hotline", "started_at", "ended_at", "transcript"} <= set(call["required"])
    message = spec["paths"]["/v1/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "text" in spec["components"]["schemas"][message["$ref"].rsplit("/", 1)[1]]["properties"]
