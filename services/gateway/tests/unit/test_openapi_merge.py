"""Merging the services' OpenAPI documents: prefixed paths, renamed components, rewritten references."""

from __future__ import annotations

import json

from omni_gateway.domain.openapi import API_KEY_SCHEME, WEBHOOK_PATH, merge


def page_of(ref: str) -> dict:
    return {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": ref}}}}


PRODUCT = {
    "openapi": "3.1.0",
    "info": {"title": "product", "version": "1"},
    "tags": [{"name": "materials", "description": "SKUs"}],
    "paths": {
        "/materials": {
            "get": {
                "operationId": "list_materials",
                "tags": ["materials"],
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}
                    },
                    "422": {"$ref": "#/components/responses/Invalid"},
                },
            },
            "post": {
                "operationId": "create_material",
                "security": [{"internal": []}],
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
                },
                "responses": {"201": {"description": "created"}},
            },
        },
        "/health/live": {"get": {"operationId": "live", "responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "properties": {"kind": {"oneOf": [{"$ref": "#/components/schemas/Kind"}]}},
                "discriminator": {"propertyName": "kind", "mapping": {"k": "#/components/schemas/Kind"}},
            },
            "Kind": {"type": "string"},
            "Page": page_of("#/components/schemas/Item"),
        },
        "responses": {"Invalid": {"description": "bad input"}},
        "securitySchemes": {"internal": {"type": "http", "scheme": "basic"}},
    },
}

ORDER = {
    "openapi": "3.1.0",
    "info": {"title": "order", "version": "1"},
    "paths": {
        "/orders/{order_id}": {
            "parameters": [
                {"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": "list_materials",  # same id as product's: must not collide
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
                    }
                },
            },
        },
    },
    "components": {"schemas": {"Item": {"type": "object", "properties": {"order_id": {"type": "string"}}}}},
}


def refs(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                found.add(v)
            elif k == "mapping":
                found.update(v.values())
            else:
                found |= refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= refs(v)
    return found


def test_paths_are_prefixed_and_health_paths_left_out():
    doc = merge({"product": PRODUCT, "order": ORDER}, unavailable=[])
    assert set(doc["paths"]) == {"/api/product/materials", "/api/order/orders/{order_id}", WEBHOOK_PATH}


def test_colliding_schema_names_become_service_prefixed_and_refs_follow():
    doc = merge({"product": PRODUCT, "order": ORDER}, unavailable=[])
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {
        "ProductItem",
        "ProductKind",
        "ProductPage",
        "OrderItem",
        "Problem",
        "ProblemItem",
    }
    assert "order_id" in schemas["OrderItem"]["properties"]
    assert "kind" in schemas["ProductItem"]["properties"]
    assert schemas["ProductPage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/ProductItem"
    }
    assert schemas["ProductItem"]["discriminator"]["mapping"] == {"k": "#/components/schemas/ProductKind"}
    get_order = doc["paths"]["/api/order/orders/{order_id}"]["get"]
    assert get_order["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderItem"
    }
    assert doc["components"]["responses"] == {"ProductInvalid": {"description": "bad input"}}
    # every reference in the merged document resolves to a component that exists
    for ref in refs(doc):
        _, _, kind, name = ref.split("/")
        assert name in doc["components"][kind], ref


def test_operation_ids_tags_and_security():
    doc = merge({"product": PRODUCT, "order": ORDER}, unavailable=[])
    ops = [op for item in doc["paths"].values() for m, op in item.items() if m in ("get", "post")]
    ids = [op["operationId"] for op in ops]
    assert len(ids) == len(set(ids))
    assert "product_list_materials" in ids and "order_list_materials" in ids
    materials = doc["paths"]["/api/product/materials"]
    assert materials["get"]["tags"] == ["product: materials"]
    assert materials["post"]["tags"] == ["product"]
    assert "security" not in materials["post"]  # the service's own scheme is gone...
    assert doc["security"] == [{API_KEY_SCHEME: []}]  # ...the gateway's key applies
    assert doc["components"]["securitySchemes"] == {
        API_KEY_SCHEME: {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": doc["components"]["securitySchemes"][API_KEY_SCHEME]["description"],
        }
    }
    assert doc["tags"] == [{"name": "product: materials", "description": "SKUs"}]
    assert doc["paths"]["/api/order/orders/{order_id}"]["parameters"][0]["name"] == "order_id"


def test_unavailable_services_are_listed_and_the_inputs_untouched():
    before = json.dumps(PRODUCT, sort_keys=True)
    doc = merge({"product": PRODUCT}, unavailable=["order", "finance"])
    assert doc["info"]["x-unavailable"] == ["finance", "order"]
    assert json.dumps(PRODUCT, sort_keys=True) == before


def test_webhook_path_needs_no_key_and_reuses_the_channel_operation():
    channel = {
        "openapi": "3.1.0",
        "paths": {
            WEBHOOK_PATH: {
                "post": {
                    "operationId": "receive",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Raw"}}}
                    },
                    "responses": {"202": {"description": "accepted"}},
                }
            }
        },
        "components": {"schemas": {"Raw": {"type": "object"}}},
    }
    doc = merge({"channel": channel}, unavailable=[])
    hook = doc["paths"][WEBHOOK_PATH]["post"]
    assert hook["security"] == []
    assert hook["responses"]["202"] == {"description": "accepted"}
    # the gateway's own answers, as problems; no 401/403 (no key) beyond what the channel service declares
    assert {"413", "429", "500", "502", "504"} <= set(hook["responses"]) and "403" not in hook["responses"]
    assert hook["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChannelRaw"
    }
    assert "/api/channel/channels/{platform}/orders" in doc["paths"]
    assert hook["description"].startswith("Public, no API key")
    generic = merge({}, unavailable=["channel"])["paths"][WEBHOOK_PATH]["post"]
    assert generic["security"] == [] and generic["parameters"][0]["name"] == "platform"


def test_each_platform_webhook_of_the_channel_service_becomes_a_public_path():
    channel = {
        "paths": {
            "/channels/tmall/orders": {
                "post": {"operationId": "tmall_order", "description": "TOP signature", "responses": {}}
            },
            "/channels/jd/orders": {"post": {"operationId": "jd_order", "responses": {}}},
            "/shops": {"get": {"operationId": "shops", "responses": {}}},
        }
    }
    paths = merge({"channel": channel}, unavailable=[])["paths"]
    assert WEBHOOK_PATH not in paths  # the generic path only stands in when the channel service is down
    tmall = paths["/channels/tmall/orders"]["post"]
    assert (tmall["operationId"], tmall["security"]) == ("webhook_tmall_orders", [])
    assert tmall["description"].endswith("TOP signature")
    assert paths["/channels/jd/orders"]["post"]["security"] == []
    assert "/shops" not in paths and "/api/channel/shops" in paths
    assert paths["/api/channel/channels/tmall/orders"]["post"]["operationId"] == "channel_tmall_order"


def test_the_refund_webhook_of_the_channel_service_is_a_public_path_too():
    channel = {
        "paths": {
            "/channels/{platform}/refunds": {"post": {"operationId": "refund", "responses": {}}},
            "/channels/{platform}/orders": {"post": {"operationId": "order", "responses": {}}},
        }
    }
    paths = merge({"channel": channel}, unavailable=[])["paths"]
    refunds = paths["/channels/{platform}/refunds"]["post"]
    assert (refunds["operationId"], refunds["security"]) == ("webhook_platform_refunds", [])
    assert refunds["summary"] == "Refund webhook from a sales platform"
    assert paths["/channels/{platform}/orders"]["post"]["operationId"] == "webhook_platform_orders"
