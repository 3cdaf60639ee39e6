"""JSON Schemas of every (event type, version), and the rule that a published schema only grows.

`python -m omni_contracts.schemas write <dir>` writes `<type>.v<N>.json` for every registered version
(refusing a breaking change to a published one); `... check <dir>` runs the guard. What "published" means
(read from git, not from the tree) is in `published.py`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .envelope import Envelope
from .published import Published, published
from .registry import REGISTRY, EventRegistry

# Keys that only document a schema: they may change freely.
_DOC_KEYS = {"title", "description", "examples", "default"}


def schema_of(registry: EventRegistry, event_type: str, version: int) -> dict[str, Any]:
    model = registry.models[(event_type, version)]
    schema = Envelope[model].model_json_schema()  # type: ignore[valid-type]
    schema["title"] = f"{event_type} v{version}"
    schema["x-event-type"] = event_type
    schema["x-event-version"] = version
    schema["x-topic"] = model.__topic__
    return schema


def all_schemas(registry: EventRegistry = REGISTRY) -> dict[str, dict[str, Any]]:
    """File name -> schema, for every registered version."""
    return {f"{t}.v{v}.json": schema_of(registry, t, v) for (t, v) in sorted(registry.models)}


def write(directory: Path, registry: EventRegistry = REGISTRY) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas(registry).items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Replace local `$ref`s by their definitions so two schemas compare structurally."""
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/$defs/"):
            name = node["$ref"].split("/")[-1]
            if name in seen:  # recursive model: compare by name
                return {"$ref": name}
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**defs.get(name, {}), **rest}, defs, (*seen, name))
        return {k: _inline(v, defs, seen) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs, seen) for v in node]
    return node


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What makes `new` not an additive change of `old` (empty when compatible).

    Allowed: new optional properties, wider enums, changed documentation. Everything else breaks readers or
    writers of the published version.
    """
    return _diff(_inline(old, old.get("$defs", {})), _inline(new, new.get("$defs", {})), "$")


def _diff(old: Any, new: Any, path: str) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"{path}: changed from {old!r} to {new!r}"]
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, sub in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: property removed")
        else:
            problems.extend(_diff(sub, new_props[name], f"{path}.{name}"))
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    problems.extend(f"{path}.{name}: became required" for name in sorted(new_req - old_req))
    if "enum" in old and "enum" in new:
        lost = [v for v in old["enum"] if v not in new["enum"]]
        if lost:
            problems.append(f"{path}: enum values removed {lost}")
    for key in sorted((set(old) | set(new)) - _DOC_KEYS - {"properties", "required", "enum"}):
        if key not in new:
            problems.append(f"{path}: '{key}' removed")
        elif key not in old:
            if key not in {"x-topic"}:
                problems.append(f"{path}: '{key}' added ({new[key]!r})")
        elif isinstance(old[key], dict | list) and isinstance(new[key], dict | list):
            if isinstance(old[key], list):
                if len(old[key]) != len(new[key]):
                    problems.append(f"{path}.{key}: changed")
                else:
                    for i, (a, b) in enumerate(zip(old[key], new[key], strict=True)):
                        problems.extend(_diff(a, b, f"{path}.{key}[{i}]"))
            else:
                problems.extend(_diff(old[key], new[key], f"{path}.{key}"))
        elif old[key] != new[key]:
            problems.append(f"{path}.{key}: changed from {old[key]!r} to {new[key]!r}")
    return problems


def check_tree(directory: Path, current: dict[str, dict[str, Any]]) -> list[str]:
    """The schema files in the tree must be exactly what the code generates (`make schemas` writes them)."""
    problems = []
    committed = {p.name: p for p in sorted(directory.glob("*.json"))}
    for name, path in committed.items():
        if name not in current:
            problems.append(f"{name}: a committed version disappeared from the contracts")
        elif json.loads(path.read_text()) != current[name]:
            problems.append(f"{name}: differs from what the code generates (run `make schemas`)")
    problems.extend(
        f"{name}: not committed (run `make schemas`)" for name in current if name not in committed
    )
    return problems


def check_published(current: dict[str, dict[str, Any]], published: Published) -> list[str]:
    """Every published version must still exist, and the code's schema must only add to each of them."""
    problems = []
    for name, versions in sorted(published.schemas.items()):
        if name not in current:
            problems.append(
                f"{name}: a published version (at {versions[0].commit[:12]}) disappeared from the contracts"
            )
            continue
        for pv in versions:
            problems.extend(
                f"{name}: {p} (published at {pv.commit[:12]})"
                for p in breaking_changes(pv.schema, current[name])
            )
    return problems


def forward_readability(registry: EventRegistry = REGISTRY) -> list[str]:
    """Check every `readable_as` claim: v(N) readable as v(k) must only add to each of v(k)..v(N-1)."""
    problems = []
    for (t, v), model in sorted(registry.models.items()):
        for older in range(model.__readable_as__, v):
            if (t, older) not in registry.models:
                problems.append(f"{t} v{v}: declared readable as v{older}, which is not registered")
                continue
            old, new = schema_of(registry, t, older), schema_of(registry, t, v)
            old.pop("x-event-version"), new.pop("x-event-version")
            problems.extend(
                f"{t} v{v} is declared readable as v{older} but is not additive to it: {p}"
                for p in breaking_changes(old, new)
            )
    return problems


@dataclass
class Report:
    problems: list[str]
    baseline: str
    notes: list[str]


def guard(directory: Path, registry: EventRegistry = REGISTRY) -> Report:
    """The compatibility guard: the tree against the code, and the code against what was published."""
    current = all_schemas(registry)
    pub = published(directory)
    problems = check_tree(directory, current) + check_published(current, pub) + forward_readability(registry)
    return Report(problems, pub.baseline, pub.notes)


def check(directory: Path, registry: EventRegistry = REGISTRY) -> list[str]:
    """Every problem the guard finds, as sentences (empty when compatible)."""
    return guard(directory, registry).problems


def main(argv: list[str]) -> int:  # pragma: no cover - used by `make schemas`
    target = Path(argv[1] if len(argv) > 1 else "contracts/schemas")
    if argv[:1] == ["check"]:
        report = guard(target)
        print(f"published: {report.baseline}")
        for n in report.notes:
            print(f"note: {n}")
        print("\n".join(report.problems) or "schemas are compatible")
        return 1 if report.problems else 0
    pub = published(target)
    breaking = check_published(all_schemas(), pub)
    if breaking:
        print(f"refusing to write schemas that break what was published ({pub.baseline}):")
        print("\n".join(breaking))
        print("a breaking change needs a new event version (with an upcaster)")
        return 1
    for p in write(target):
        print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover - used by `make schemas`
    sys.exit(main(sys.argv[1:]))
