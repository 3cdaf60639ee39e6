"""One AsyncAPI 3.0 document of every topic and message. `python -m omni_contracts.asyncapi <file>`.

Each message's payload is its envelope schema; the pydantic `$defs` of every envelope (the typed `data` and
the value types it uses) are hoisted into `components.schemas` and every `#/$defs/X` ref is rewritten to
`#/components/schemas/X`, so that the document resolves on its own (the official parser accepts it: see
contracts/tests/test_asyncapi.py). Two different schemas under one name are refused, never merged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .envelope import (
    CONTENT_TYPE,
    H_CAUSATION_ID,
    H_CONTENT_TYPE,
    H_CORRELATION_ID,
    H_EVENT_ID,
    H_EVENT_READABLE_AS,
    H_EVENT_TYPE,
    H_EVENT_VERSION,
    H_PRODUCER,
)
from .registry import REGISTRY, EventRegistry
from .schemas import schema_of
from .topics import DLQ_PREFIX, TOPICS

DEFS_REF = "#/$defs/"
COMPONENTS_REF = "#/components/schemas/"


class SchemaClash(ValueError):
    """Two different schemas want the same name in components.schemas."""


def _ref_name(event_type: str, version: int) -> str:
    return f"{event_type.replace('.', '_').replace('-', '_')}_v{version}"


def _rewrite(node: Any, where: str) -> Any:
    """A copy of `node` with every `#/$defs/X` ref pointing at components.schemas (no $defs left)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$defs":
                continue  # hoisted by the caller
            if k == "$ref":
                if not isinstance(v, str) or not v.startswith(DEFS_REF):
                    raise ValueError(f"{where}: unsupported $ref {v!r} (only {DEFS_REF}... is rewritten)")
                v = COMPONENTS_REF + v[len(DEFS_REF) :]
            out[k] = _rewrite(v, where)
        return out
    if isinstance(node, list):
        return [_rewrite(v, where) for v in node]
    return node


def _collect_defs(node: Any, found: dict[str, Any], where: str) -> None:
    """Every `$defs` entry anywhere in `node` (pydantic puts them at the top; nested ones are hoisted too)."""
    if isinstance(node, dict):
        for name, sub in (node.get("$defs") or {}).items():
            _add(found, name, sub, where)
            _collect_defs(sub, found, where)
        for k, v in node.items():
            if k != "$defs":
                _collect_defs(v, found, where)
    elif isinstance(node, list):
        for v in node:
            _collect_defs(v, found, where)


def _add(into: dict[str, Any], name: str, schema: Any, where: str) -> None:
    if name in into and into[name] != schema:
        raise SchemaClash(
            f"components.schemas.{name}: {where} defines a different schema under a name already used "
            "(rename one of the two models)"
        )
    into[name] = schema


def hoist(name: str, schema: dict[str, Any], into: dict[str, Any]) -> None:
    """Add `schema` as components.schemas.`name`, its `$defs` beside it, every ref rewritten."""
    defs: dict[str, Any] = {}
    _collect_defs(schema, defs, name)
    for def_name, sub in defs.items():
        _add(into, def_name, _rewrite(sub, f"{name}.$defs.{def_name}"), name)
    _add(into, name, _rewrite(schema, name), name)


def _headers(event_type: str, version: int, readable_as: int) -> dict[str, Any]:
    string = {"type": "string"}
    props: dict[str, Any] = {
        H_EVENT_ID: {**string, "format": "uuid", "description": "the envelope's event_id"},
        H_EVENT_TYPE: {**string, "const": event_type},
        H_EVENT_VERSION: {**string, "const": str(version), "description": "the version, as a decimal string"},
        H_CORRELATION_ID: {**string, "description": "the envelope's correlation_id"},
        H_CAUSATION_ID: {**string, "description": "the event_id of the event that caused this one, if any"},
        H_PRODUCER: {**string, "description": "the service that published the event"},
        H_CONTENT_TYPE: {**string, "const": CONTENT_TYPE},
        "traceparent": {**string, "description": "W3C trace context, when the producer traces"},
    }
    required = [H_EVENT_ID, H_EVENT_TYPE, H_EVENT_VERSION, H_CORRELATION_ID, H_PRODUCER]
    if version > 1:
        props[H_EVENT_READABLE_AS] = {
            **string,
            "const": str(readable_as),
            "description": "the oldest version whose readers can read this one (it only adds fields to it)",
        }
        required.append(H_EVENT_READABLE_AS)
    return {"type": "object", "properties": props, "required": required}


def document(registry: EventRegistry = REGISTRY) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for spec in TOPICS.values():
        cid = spec.name.replace(".", "_").replace("-", "_")
        channel_msgs = {}
        for (t, v), model in sorted(registry.models.items()):
            if model.__topic__ != spec.name:
                continue
            name = _ref_name(t, v)
            hoist(name, schema_of(registry, t, v), schemas)
            readable = (
                f" Readers of v{model.__readable_as__} can read it as v{model.__readable_as__}."
                if model.__readable_as__ < v
                else ""
            )
            messages[name] = {
                "name": f"{t}.v{v}",
                "title": f"{t} v{v}",
                "summary": (model.__doc__ or "").strip().split("\n")[0],
                "description": f"Envelope of {t} v{v}; `data` is {model.__name__}.{readable}",
                "contentType": CONTENT_TYPE,
                "headers": _headers(t, v, model.__readable_as__),
                "payload": {"$ref": f"{COMPONENTS_REF}{name}"},
                "correlationId": {"location": f"$message.header#/{H_CORRELATION_ID}"},
                "bindings": {"kafka": {"key": {"type": "string"}, "bindingVersion": "0.5.0"}},
                "x-event-type": t,
                "x-event-version": v,
            }
            channel_msgs[name] = {"$ref": f"#/components/messages/{name}"}
        channels[cid] = {
            "address": spec.name,
            "description": f"{spec.description} Partitions: {spec.partitions}.",
            "messages": channel_msgs,
        }
        if channel_msgs:
            operations[f"consume_{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": [{"$ref": f"#/channels/{cid}/messages/{m}"} for m in channel_msgs],
            }
    channels["dead_letters"] = {
        "address": DLQ_PREFIX + "{consumerGroup}",
        "description": (
            "One dead-letter topic per consumer group: the original message bytes and headers, plus "
            "x-dlq-* headers naming the error, the original topic/partition/offset and the attempts made."
        ),
        "parameters": {"consumerGroup": {"description": "the consumer group that gave up on the message"}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Omni events",
            "version": "1",
            "description": (
                "Every topic and event of Omni. Each message is an envelope (event_id, event_type, "
                "event_version, occurred_at, producer, correlation_id, causation_id, key, data). "
                "Money in integer cents, times in UTC. A consumer that meets a newer version than it "
                "knows reads it through its newest known one when the event_readable_as header allows."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render(doc: dict[str, Any]) -> str:
    """The document as `make asyncapi` writes it."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - used by `make asyncapi`
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "contracts/asyncapi.json")
    out.write_text(render(document()))
    print(out)
