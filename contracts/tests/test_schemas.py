"""The committed schemas are the published contract: they may only grow."""

from __future__ import annotations

import copy
from pathlib import Path

from omni_contracts import REGISTRY
from omni_contracts.asyncapi import document
from omni_contracts.schemas import all_schemas, breaking_changes, check

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_committed_schemas_match_the_code():
    problems = check(SCHEMAS)
    assert problems == [], "\n".join(problems)


def test_every_registered_version_has_a_committed_schema():
    committed = {p.name for p in SCHEMAS.glob("*.json")}
    for t, v in REGISTRY.models:
        assert f"{t}.v{v}.json" in committed


def _probe_schema():
    return copy.deepcopy(all_schemas()["diagnostics.probe.v1.json"])


def _data(schema):
    return schema["$defs"]["ProbeV1"]


def test_adding_an_optional_field_is_additive():
    old, new = _probe_schema(), _probe_schema()
    _data(new)["properties"]["note"] = {"type": "string", "default": ""}
    _data(new)["description"] = "reworded"
    assert breaking_changes(old, new) == []


def test_removing_a_field_breaks():
    old, new = _probe_schema(), _probe_schema()
    del _data(new)["properties"]["body"]
    assert any("body: property removed" in p for p in breaking_changes(old, new))


def test_changing_a_type_breaks():
    old, new = _probe_schema(), _probe_schema()
    _data(new)["properties"]["seq"] = {"type": "string"}
    assert any("seq" in p for p in breaking_changes(old, new))


def test_a_new_required_field_breaks():
    old, new = _probe_schema(), _probe_schema()
    _data(new)["properties"]["shop"] = {"type": "string"}
    _data(new)["required"].append("shop")
    assert any("shop: became required" in p for p in breaking_changes(old, new))


def test_a_disappeared_version_is_reported(tmp_path):
    for name, schema in all_schemas().items():
        (tmp_path / name).write_text(__import__("json").dumps(schema))
    (tmp_path / "diagnostics.probe.v0.json").write_text("{}")
    assert any("disappeared" in p for p in check(tmp_path))


def test_asyncapi_covers_every_topic_and_message():
    doc = document()
    addresses = {c["address"] for c in doc["channels"].values()}
    from omni_contracts import TOPICS

    assert {s.name for s in TOPICS.values()} <= addresses
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == set(REGISTRY.event_types())
