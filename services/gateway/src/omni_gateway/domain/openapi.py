"""One OpenAPI document for the whole platform, merged from every service's own.

For each service: every path gets the prefix `/api/<service>`; every component (schemas, responses,
parameters, ...) is renamed `<Service><Name>` and every `$ref` (and discriminator mapping) pointing at it is
rewritten; operation ids get the prefix `<service>_` and tags `<service>: <tag>` so that nothing collides.
The services' own health paths are left out; the gateway adds the `X-API-Key` security scheme and its
webhook paths `/channels/<platform>/orders` and `/channels/<platform>/refunds` (which need no key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from omni_chassis.problems_openapi import add_responses, problem_schemas

API_KEY_SCHEME = "ApiKeyAuth"
WEBHOOK_PATH = "/channels/{platform}/orders"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SKIPPED_PREFIXES = ("/health/", "/metrics")
_COMPONENT_REF = "#/components/"
_WEBHOOK = re.compile(r"^/channels/([^/]+)/(orders|refunds)$")
# the chassis's problem schemas: one component for every service's errors
SHARED_SCHEMAS = frozenset(problem_schemas())
# what the gateway itself may answer on any /api route: no or unknown key, a role that may not, the rate
# limit, a path it refuses ('..'), the upstream down or slow; a body too large where there is a body
GATEWAY_CODES = (400, 401, 403, 404, 429, 500, 502, 504)
BODY_CODES = (413, 422)
WEBHOOK_CODES = (413, 429, 500, 502, 504)


def component_name(service: str, name: str) -> str:
    return service[:1].upper() + service[1:] + name


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of `node` with every '#/components/<kind>/<name>' reference mapped through `renames`."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = renames.get(value, value)
            elif (
                key == "discriminator" and isinstance(value, dict) and isinstance(value.get("mapping"), dict)
            ):
                disc = dict(value)
                disc["mapping"] = {
                    k: renames.get(v, v) if isinstance(v, str) else v for k, v in value["mapping"].items()
                }
                out[key] = disc
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def _operation(op: dict[str, Any], service: str) -> dict[str, Any]:
    op = dict(op)
    if "operationId" in op:
        op["operationId"] = f"{service}_{op['operationId']}"
    op["tags"] = [f"{service}: {t}" for t in op.get("tags") or []] or [service]
    op.pop("security", None)  # the services' own schemes mean nothing here; the gateway's applies
    if isinstance(op.get("parameters"), list):  # the gateway drops X-Omni-* from clients and sets them itself
        op["parameters"] = [
            p
            for p in op["parameters"]
            if not (
                isinstance(p, dict)
                and p.get("in") == "header"
                and str(p.get("name", "")).lower().startswith("x-omni-")
            )
        ]
    return op


def webhook_operation(
    channel_op: dict[str, Any] | None, platform: str | None = None, kind: str = "orders"
) -> dict[str, Any]:
    """A public webhook path: the channel service's own operation when it has one, without a key."""
    note = (
        "Public, no API key: the channel service verifies the platform's signature. The query string and "
        "body reach it byte for byte. Rate-limited per `shop_id` query parameter."
    )
    if channel_op is not None:
        op = dict(channel_op)
        op["responses"] = dict(op.get("responses") or {})  # not shared with the /api/channel/... copy
        op["operationId"] = f"webhook_{re.sub(r'[^0-9A-Za-z_]', '', platform or '') or 'channel'}_{kind}"
        op["description"] = note + ("\n\n" + op["description"] if op.get("description") else "")
    else:
        op = {
            "operationId": "webhook_channel_orders",
            "parameters": [
                {"name": "platform", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
            "responses": {"default": {"description": "the channel service's answer"}},
            "description": note,
        }
    op["tags"] = ["webhooks"]
    op["summary"] = (
        op.get("summary") or f"{'Refund' if kind == 'refunds' else 'Order'} webhook from a sales platform"
    )
    op["security"] = []
    return op


def merge(
    specs: Mapping[str, Mapping[str, Any]],
    *,
    unavailable: list[str],
    title: str = "Omni API",
    version: str = "0.1.0",
) -> dict[str, Any]:
    """Merge the services' documents (`service -> openapi document`) into one gateway document."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    tags: list[dict[str, Any]] = []
    webhooks: dict[str, Any] = {}
    for service, spec in specs.items():
        own = {
            k: v
            for k, v in (spec.get("components") or {}).items()
            if k != "securitySchemes" and isinstance(v, dict)
        }
        names: dict[tuple[str, str], str] = {}  # (kind, name) -> new name
        for kind, items in own.items():
            taken = components.setdefault(kind, {})
            for name in items:
                if kind == "schemas" and name in SHARED_SCHEMAS:  # the chassis's, the same in every service
                    names[(kind, name)] = name
                    taken[name] = None
                    continue
                new = base = component_name(service, name)
                n = 2
                while new in taken:  # e.g. a service with both 'Order' and 'OrderOrder'... keep both
                    new, n = f"{base}{n}", n + 1
                taken[new] = None  # reserved, filled below
                names[(kind, name)] = new
        refs = {
            f"{_COMPONENT_REF}{kind}/{name}": f"{_COMPONENT_REF}{kind}/{new}"
            for (kind, name), new in names.items()
        }
        spec = _rewrite_refs(spec, refs)
        for kind, items in own.items():
            for name in items:
                components[kind][names[(kind, name)]] = spec["components"][kind][name]
        for path, item in (spec.get("paths") or {}).items():
            if path.startswith(_SKIPPED_PREFIXES) or not isinstance(item, dict):
                continue
            ops = {
                m: _operation(v, service) if m in HTTP_METHODS and isinstance(v, dict) else v
                for m, v in item.items()
            }
            paths["/api/" + service + (path if path != "/" else "")] = ops
            hook = _WEBHOOK.match(path)
            if service == "channel" and hook and isinstance(item.get("post"), dict):
                webhooks[path] = {"post": webhook_operation(item["post"], hook.group(1), hook.group(2))}
        for tag in spec.get("tags") or []:
            if isinstance(tag, dict) and "name" in tag:
                tags.append({**tag, "name": f"{service}: {tag['name']}"})
    for item in paths.values():
        for method, op in item.items():
            if method in HTTP_METHODS and isinstance(op, dict):
                add_responses(op, GATEWAY_CODES + (BODY_CODES if op.get("requestBody") else ()))
    # the gateway's public webhook paths: the channel service's own (one per platform it supports) or,
    # when its document is unavailable, the generic one
    paths.update(webhooks or {WEBHOOK_PATH: {"post": webhook_operation(None)}})
    for hook in webhooks.values() or [{"post": paths[WEBHOOK_PATH]["post"]}]:
        add_responses(hook["post"], WEBHOOK_CODES)
    components.setdefault("schemas", {}).update(problem_schemas())
    components.setdefault("securitySchemes", {})[API_KEY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Your API key; its role decides which paths you may call (403 otherwise).",
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Every Omni service behind one gateway: `/api/<service>/...`.",
            "x-unavailable": sorted(unavailable),
        },
        "paths": dict(sorted(paths.items())),
        "components": {k: v for k, v in components.items() if v},
        "security": [{API_KEY_SCHEME: []}],
    }
    if tags:
        doc["tags"] = tags
    return doc
