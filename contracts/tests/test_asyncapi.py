"""contracts/asyncapi.json: valid for the official AsyncAPI parser, complete, and current."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from omni_contracts import REGISTRY, TOPICS, EventPayload, EventRegistry, Topic
from omni_contracts.asyncapi import SchemaClash, document, hoist, render
from omni_contracts.schemas import schema_of

CONTRACTS = Path(__file__).resolve().parents[1]
DOCUMENT = CONTRACTS / "asyncapi.json"
CHECKER = CONTRACTS / "asyncapi-check"


def official_parser(path: Path) -> dict:
    """Run @asyncapi/parser (contracts/asyncapi-check, pinned) on a file: its summary and diagnostics."""
    node = shutil.which("node")
    assert node, "node is not installed: the AsyncAPI document cannot be validated (install node >= 18)"
    assert (CHECKER / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "the AsyncAPI parser is not installed: run `make asyncapi-check-deps` (`make test` does it)"
    )
    out = subprocess.run(
        [node, str(CHECKER / "validate.mjs"), str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.stdout, f"validate.mjs printed nothing (exit {out.returncode}): {out.stderr}"
    result = json.loads(out.stdout)
    result["exit"] = out.returncode
    return result


def test_the_official_parser_finds_no_error_in_the_committed_document():
    result = official_parser(DOCUMENT)
    errors = [d for d in result["diagnostics"] if d["severity"] == "error"]
    assert errors == [] and result["parsed"] and result["exit"] == 0, json.dumps(errors[:10], indent=1)
    assert result["warnings"] == 0, result["diagnostics"]


def test_the_official_parser_does_fail_a_document_with_dangling_refs(tmp_path):
    doc = document()
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["fulfillment_shipped_v1"]["properties"]["data"]["$ref"] = (
        "#/$defs/ShippedV1"
    )
    (tmp_path / "broken.json").write_text(render(broken))
    result = official_parser(tmp_path / "broken.json")
    assert result["exit"] == 1
    assert any(
        d["code"] == "invalid-ref" and "fulfillment_shipped_v1" in d["path"] for d in result["diagnostics"]
    )


def test_the_committed_document_is_current():
    assert DOCUMENT.read_text() == render(document()), (
        "contracts/asyncapi.json is stale: run `make asyncapi` and commit it"
    )


def test_every_topic_and_every_message_is_described():
    doc = document()
    assert {s.name for s in TOPICS.values()} <= {c["address"] for c in doc["channels"].values()}
    messages = doc["components"]["messages"]
    assert {(m["x-event-type"], m["x-event-version"]) for m in messages.values()} == set(REGISTRY.models)
    for key, m in messages.items():
        assert m["name"] == f"{m['x-event-type']}.v{m['x-event-version']}"
        assert m["title"] and m["contentType"] == "application/json"
        assert m["payload"] == {"$ref": f"#/components/schemas/{key}"}
        headers = m["headers"]["properties"]
        assert headers["event_type"] == {"type": "string", "const": m["x-event-type"]}
        assert headers["event_version"]["const"] == str(m["x-event-version"])
        assert all(h["type"] == "string" for h in headers.values())
        envelope = doc["components"]["schemas"][key]
        assert {"event_id", "event_type", "event_version", "occurred_at", "key", "data"} <= set(
            envelope["properties"]
        )


def test_every_ref_resolves_inside_the_document_and_no_defs_are_left():
    doc = document()
    text = json.dumps(doc)
    assert "$defs" not in text
    schemas = doc["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for v in node.values():
                yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(doc["components"]["schemas"]):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    assert schemas["fulfillment_shipped_v2"]["properties"]["data"] == {
        "$ref": "#/components/schemas/ShippedV2"
    }
    assert "line_id" in schemas["ShippedLine"]["properties"]


def test_the_same_model_is_hoisted_once_and_a_clash_fails_loudly():
    into: dict = {}
    hoist("a", schema_of(REGISTRY, "fulfillment.shipped", 1), into)
    hoist("b", schema_of(REGISTRY, "fulfillment.order-allocated", 1), into)
    assert "MaterialQty" in into  # used by both, kept once

    reg = EventRegistry()

    @reg.event("shop.other", 1, Topic.DIAGNOSTICS)
    class Other(EventPayload):
        class MaterialQty(EventPayload):  # same name as the shared value type, different schema
            sku: str

        line: MaterialQty

    with pytest.raises(SchemaClash, match=r"components\.schemas\.MaterialQty"):
        hoist("c", schema_of(reg, "shop.other", 1), into)
