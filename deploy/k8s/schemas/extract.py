"""Vendor one CRD version's openAPIV3Schema as compact JSON (descriptions dropped, nothing else changed).

    git --git-dir=<mirror> show <tag>:<path/to/crd.yaml> | python deploy/k8s/schemas/extract.py v1 > out.json

Only `description` annotations are removed (they are documentation, not constraints); a property that is
itself named `description` is kept. See SOURCES.md for where each file came from.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SCHEMA_ONE = ("items", "additionalProperties", "not")


def strip(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip(sub) for name, sub in value.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            out[key] = [strip(sub) for sub in value]
        elif key in SCHEMA_ONE and isinstance(value, dict):
            out[key] = strip(value)
        else:
            out[key] = value
    return out


def main() -> None:
    version = sys.argv[1]
    crd = yaml.safe_load(sys.stdin)
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = strip(entry["schema"]["openAPIV3Schema"])
    doc = {
        "group": crd["spec"]["group"],
        "kind": crd["spec"]["names"]["kind"],
        "version": version,
        "openAPIV3Schema": schema,
    }
    json.dump(doc, sys.stdout, sort_keys=True, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
