"""One AsyncAPI 3.0 document of every topic and message. `python -m omni_contracts.asyncapi <file>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .registry import REGISTRY, EventRegistry
from .schemas import schema_of
from .topics import DLQ_PREFIX, TOPICS


def _ref_name(event_type: str, version: int) -> str:
    return f"{event_type.replace('.', '_').replace('-', '_')}_v{version}"


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
            schema = schema_of(registry, t, v)
            schemas[name] = schema
            messages[name] = {
                "name": t,
                "title": f"{t} v{v}",
                "summary": (model.__doc__ or "").strip().split("\n")[0],
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "properties": {
                        "event_type": {"const": t},
                        "event_version": {"const": str(v)},
                        "event_id": {"type": "string", "format": "uuid"},
                        "correlation_id": {"type": "string"},
                        "causation_id": {"type": "string"},
                        "producer": {"type": "string"},
                        "traceparent": {"type": "string"},
                    },
                },
                "payload": {"$ref": f"#/components/schemas/{name}"},
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
                "Money in integer cents, times in UTC."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


if __name__ == "__main__":  # pragma: no cover - used by `make asyncapi`
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "contracts/asyncapi.json")
    out.write_text(json.dumps(document(), indent=2, sort_keys=True) + "\n")
    print(out)
