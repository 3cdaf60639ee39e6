"""The committed schemas are the published contract: they may only grow. (What "published" means, read
from git, is tested in test_published_guard.py.)"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

from omni_contracts import REGISTRY
from omni_contracts.schemas import (
    all_schemas,
    breaking_changes,
    check,
    check_tree,
    forward_readability,
    guard,
)

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_the_code_only_adds_to_what_was_published_and_the_tree_is_current():
    report = guard(SCHEMAS)
    for note in report.notes:  # e.g. a shallow clone: say what the guard could not see
        warnings.warn(f"schema guard: {note}", stacklevel=1)
    assert report.problems == [], f"published: {report.baseline}\n" + "\n".join(report.problems)


def test_every_readable_as_claim_holds():
    assert forward_readability() == []


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
        (tmp_path / name).write_text(json.dumps(schema))
    (tmp_path / "diagnostics.probe.v0.json").write_text("{}")
    assert any("diagnostics.probe.v0.json: a committed version disappeared" in p for p in check(tmp_path))


def test_a_stale_or_missing_file_in_the_tree_is_reported(tmp_path):
    current = all_schemas()
    for name, schema in current.items():
        (tmp_path / name).write_text(json.dumps(schema))
    assert check_tree(tmp_path, current) == []
    stale = copy.deepcopy(current["diagnostics.probe.v1.json"])
    stale["$defs"]["ProbeV1"]["properties"]["note"] = {"type": "string"}
    (tmp_path / "diagnostics.probe.v1.json").write_text(json.dumps(stale))
    (tmp_path / "order.accepted.v1.json").unlink()
    assert check_tree(tmp_path, current) == [
        "diagnostics.probe.v1.json: differs from what the code generates (run `make schemas`)",
        "order.accepted.v1.json: not committed (run `make schemas`)",
    ]
