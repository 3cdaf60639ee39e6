"""The product service over HTTP, on the real PostgreSQL (and the real Kafka its lifespan connects to).

What each write emitted is read from the service's own outbox table (never from the shared topics).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

import omni_product
from omni_contracts import Topic, decode
from omni_product.app import Settings, build

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_product.__file__).parent / "migrations"


@pytest.fixture
async def db(make_database):
    return await make_database("product", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, kafka_bootstrap):
    app = build(Settings(service_database_url=db.url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def outbox(db, event_type: str | None = None) -> list[dict]:
    """Every event the service staged, in order, decoded through the contracts' registry."""
    async with db.transaction() as s:
        rows = (
            await s.execute(text("SELECT event_type, topic, key, value, headers FROM outbox ORDER BY id"))
        ).all()
    out = []
    for r in rows:
        env = decode(r.value, [(k, v) for k, v in r.headers])
        assert env.event_type == r.event_type and env.key == r.key
        if event_type is None or r.event_type == event_type:
            body = json.loads(r.value)
            out.append(
                {
                    "type": r.event_type,
                    "topic": r.topic,
                    "key": r.key,
                    "version": body["event_version"],
                    "data": body["data"],
                }
            )
    return out


async def count(db, table: str) -> int:
    async with db.transaction() as s:
        return (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


def material_body(code: str, **over) -> dict:
    return {"code": code, "name": f"Material {code}", "unit": "pcs", "weight_g": 100, **over}


async def make_material(client, code: str, **over) -> dict:
    r = await client.post("/materials", json=material_body(code, **over))
    assert r.status_code == 201, r.text
    return r.json()


async def make_bundle(client, code: str, components: list[tuple[str, int, int]], **over) -> httpx.Response:
    body = {
        "code": code,
        "name": f"Bundle {code}",
        "kind": "bundle",
        "components": [{"material_code": m, "qty": q, "price_weight": w} for m, q, w in components],
        **over,
    }
    return await client.post("/sales-products", json=body)


async def make_single(client, code: str, material: str) -> dict:
    body = {
        "code": code,
        "name": f"Single {code}",
        "kind": "single",
        "components": [{"material_code": material, "qty": 1, "price_weight": 1}],
    }
    r = await client.post("/sales-products", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def listing_body(sales_product_code: str, item: str, sku: str | None = "sku-1", **over) -> dict:
    return {
        "channel": "tmall",
        "shop_id": "shop-1",
        "channel_item_id": item,
        "channel_sku_id": sku,
        "outer_id": sales_product_code,
        "sales_product_code": sales_product_code,
        "price_cents": 12990,
        **over,
    }


# --- materials -----------------------------------------------------------------------------------


async def test_creating_a_material_stores_it_and_emits_exactly_one_upserted_event(client, db):
    code = uid("M")
    created = await make_material(client, code, barcode="690" + code[-8:], high_value=True, weight_g=321)
    assert created["version"] == 1
    assert created["updated_at"].endswith("Z"), "times are answered in UTC"

    got = await client.get(f"/materials/{code}")
    assert got.status_code == 200
    assert {k: got.json()[k] for k in ("code", "unit", "weight_g", "high_value", "active", "version")} == {
        "code": code,
        "unit": "pcs",
        "weight_g": 321,
        "high_value": True,
        "active": True,
        "version": 1,
    }
    events = await outbox(db)
    assert len(events) == 1
    e = events[0]
    assert (e["type"], e["topic"], e["key"]) == ("product.material.upserted", Topic.PRODUCT.value, code)
    assert e["data"] == {
        "code": code,
        "name": f"Material {code}",
        "barcode": "690" + code[-8:],
        "unit": "pcs",
        "weight_g": 321,
        "high_value": True,
        "active": True,
        "category": "",
        "tags": [],
        "handling": "normal",
        "tax_rate_bp": 1300,
        "version": 1,
    }
    assert e["version"] == 2


FACTS = {
    "category": "food/coffee/beans",
    "tags": ["new", "gift"],
    "handling": "cold_chain",
    "tax_rate_bp": 900,
}


async def test_a_material_keeps_its_facts_and_emits_them_in_v2(client, db):
    code = uid("M")
    created = await make_material(client, code, **FACTS)
    expected = {**FACTS, "tags": ["gift", "new"]}
    assert {k: created[k] for k in FACTS} == expected
    got = (await client.get(f"/materials/{code}")).json()
    assert {k: got[k] for k in FACTS} == expected
    (e,) = await outbox(db)
    assert e["version"] == 2 and {k: e["data"][k] for k in FACTS} == expected


async def test_the_same_tags_in_another_order_change_nothing_and_a_new_tag_bumps_the_version(client, db):
    code = uid("M")
    await make_material(client, code, **FACTS)
    same = await client.put(
        f"/materials/{code}", json=material_body(code, **{**FACTS, "tags": ["gift", "new"]})
    )
    assert same.status_code == 200 and same.json()["version"] == 1
    more = material_body(code, **{**FACTS, "tags": ["gift", "new", "fragile"]})
    changed = (await client.put(f"/materials/{code}", json=more)).json()
    assert changed["version"] == 2 and changed["tags"] == ["fragile", "gift", "new"]
    assert len(await outbox(db)) == 2


async def test_a_duplicate_material_code_is_409_and_changes_nothing(client, db):
    code = uid("M")
    await make_material(client, code)
    r = await client.post("/materials", json=material_body(code, name="Another"))
    assert r.status_code == 409
    assert r.json()["detail"] == f"material {code} already exists"
    assert (await client.get(f"/materials/{code}")).json()["name"] == f"Material {code}"
    assert len(await outbox(db)) == 1


async def test_put_material_creates_then_is_idempotent_then_bumps_the_version_on_change(client, db):
    code = uid("M")
    body = material_body(code)
    del body["code"]
    first = await client.put(f"/materials/{code}", json=body)
    assert (first.status_code, first.json()["version"]) == (201, 1)

    again = await client.put(f"/materials/{code}", json=body)
    assert (again.status_code, again.json()["version"]) == (200, 1)
    assert len(await outbox(db)) == 1, "an identical PUT must not emit"

    changed = await client.put(f"/materials/{code}", json={**body, "weight_g": 999, "active": False})
    assert (changed.status_code, changed.json()["version"], changed.json()["weight_g"]) == (200, 2, 999)
    events = await outbox(db)
    assert [(e["key"], e["data"]["version"], e["data"]["active"]) for e in events] == [
        (code, 1, True),
        (code, 2, False),
    ]


async def test_put_material_with_a_different_code_in_the_body_is_422(client, db):
    code = uid("M")
    r = await client.put(f"/materials/{code}", json=material_body("OTHER"))
    assert r.status_code == 422
    assert "differs from the one in the path" in r.json()["detail"]
    assert await count(db, "materials") == 0


async def test_a_barcode_belongs_to_one_material(client, db):
    a, b = uid("M"), uid("M")
    barcode = uuid.uuid4().hex[:13]
    await make_material(client, a, barcode=barcode)
    r = await client.post("/materials", json=material_body(b, barcode=barcode))
    assert r.status_code == 409
    assert r.json()["detail"] == f"barcode {barcode} already belongs to material {a}"
    assert (await client.get(f"/materials/{b}")).status_code == 404
    # Re-putting a material with its own barcode is fine.
    body = material_body(a, barcode=barcode, name="Renamed")
    assert (await client.put(f"/materials/{a}", json=body)).json()["version"] == 2


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"weight_g": -1}, "weight_g"),
        ({"name": "   "}, "name"),
        ({"unit": ""}, "unit"),
        ({"weight_g": 1.5}, "weight_g"),
        ({"code": "has space"}, "code"),
        ({"colour": "red"}, "colour"),
        ({"category": "Food/Coffee"}, "category"),
        ({"category": "food//beans"}, "category"),
        ({"category": "food/"}, "category"),
        ({"tags": ["Gift"]}, "tags[0]"),
        ({"tags": ["ok", "has space"]}, "tags[1]"),
        ({"tags": "gift"}, "tags"),
        ({"handling": "fragile"}, "handling"),
        ({"tax_rate_bp": 1700}, "tax_rate_bp"),
        ({"tax_rate_bp": "1300"}, "tax_rate_bp"),
        ({"tax_rate_bp": -1}, "tax_rate_bp"),
    ],
)
async def test_invalid_material_bodies_are_422_and_name_the_field(client, db, over, field):
    r = await client.post("/materials", json={**material_body(uid("M")), **over})
    assert r.status_code == 422
    assert any(p["path"] == f"body.{field}" for p in r.json()["problems"]), r.json()
    assert await count(db, "materials") == 0


async def test_unknown_ids_are_404(client):
    for path in ("/materials/NOPE", "/sales-products/NOPE", "/channel-listings/NOPE"):
        r = await client.get(path)
        assert r.status_code == 404
        assert "NOPE does not exist" in r.json()["detail"]


async def test_material_list_paginates_and_filters(client):
    tag = uuid.uuid4().hex[:6]
    codes = [f"P{tag}-{i:02d}" for i in range(7)]
    for i, code in enumerate(codes):
        await make_material(client, code, name=f"{'Coffee' if i % 2 else 'Tea'} {tag}", active=i != 3)

    page = (await client.get("/materials", params={"q": tag, "limit": 3, "offset": 0})).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 0)
    assert [m["code"] for m in page["items"]] == codes[:3]
    last = (await client.get("/materials", params={"q": tag, "limit": 3, "offset": 6})).json()
    assert [m["code"] for m in last["items"]] == codes[6:]

    coffee = (await client.get("/materials", params={"q": f"coffee {tag}"})).json()
    assert [m["code"] for m in coffee["items"]] == [codes[1], codes[3], codes[5]]
    active_coffee = (await client.get("/materials", params={"q": f"coffee {tag}", "active": "true"})).json()
    assert [m["code"] for m in active_coffee["items"]] == [codes[1], codes[5]]
    by_code = (await client.get("/materials", params={"q": codes[4]})).json()
    assert [m["code"] for m in by_code["items"]] == [codes[4]]
    # LIKE wildcards in q are literal.
    assert (await client.get("/materials", params={"q": "%"})).json()["total"] == 0

    default = (await client.get("/materials")).json()
    assert default["limit"] == 50 and default["offset"] == 0
    assert (await client.get("/materials", params={"limit": 501})).status_code == 422
    assert (await client.get("/materials", params={"offset": -1})).status_code == 422


async def test_material_list_filters_by_category_prefix_tag_and_handling(client):
    p = uid("F").lower()
    made = {
        "beans": dict(category=f"{p}/coffee/beans", tags=["gift", "new"]),
        "ground": dict(category=f"{p}/coffee/ground", tags=["new"], handling="cold_chain"),
        "maker": dict(category=f"{p}/coffeemaker", tags=["fragile"], handling="oversize"),
        "voucher": dict(category=f"{p}/voucher", tags=["gift"], handling="virtual", tax_rate_bp=600),
    }
    for name, facts in made.items():
        await make_material(client, f"{p}-{name}", **facts)

    async def codes(**params) -> list[str]:
        r = await client.get("/materials", params=params)
        assert r.status_code == 200, r.text
        return [m["code"].removeprefix(f"{p}-") for m in r.json()["items"]]

    assert await codes(category=f"{p}/coffee") == ["beans", "ground"]  # whole segments: not coffeemaker
    assert await codes(category=f"{p}/coffee/beans") == ["beans"]
    assert await codes(category=p) == ["beans", "ground", "maker", "voucher"]
    assert await codes(category=f"{p}/coffee", tag="gift") == ["beans"]
    assert await codes(q=p, tag="gift") == ["beans", "voucher"]
    assert await codes(q=p, handling="virtual") == ["voucher"]
    assert await codes(q=p, handling="normal") == ["beans"]
    assert await codes(q=p, tag="missing") == []
    for bad in ({"category": "Food"}, {"tag": "a b"}, {"handling": "fragile"}):
        r = await client.get("/materials", params=bad)
        assert r.status_code == 422 and next(iter(bad)) in r.text, r.text


async def test_concurrent_updates_of_one_material_get_distinct_versions(client, db):
    code = uid("M")
    await make_material(client, code)
    names = [f"name {i}" for i in range(6)]
    answers = await asyncio.gather(
        *(client.put(f"/materials/{code}", json=material_body(code, name=n)) for n in names)
    )
    assert sorted(a.json()["version"] for a in answers) == [2, 3, 4, 5, 6, 7]
    events = await outbox(db)
    assert [e["data"]["version"] for e in events] == [1, 2, 3, 4, 5, 6, 7]
    final = (await client.get(f"/materials/{code}")).json()
    assert final["version"] == 7 and final["name"] == events[-1]["data"]["name"]


async def test_concurrent_identical_puts_of_a_new_material_create_it_once(client, db):
    code = uid("M")
    answers = await asyncio.gather(
        *(client.put(f"/materials/{code}", json=material_body(code)) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201]
    assert {a.json()["version"] for a in answers} == {1}
    assert [(e["key"], e["data"]["version"]) for e in await outbox(db)] == [(code, 1)]


async def test_concurrent_posts_of_one_code_create_it_once_and_the_rest_are_409(client, db):
    code = uid("M")
    answers = await asyncio.gather(*(client.post("/materials", json=material_body(code)) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert len(await outbox(db)) == 1


# --- sales products ------------------------------------------------------------------------------


async def test_creating_a_bundle_stores_its_components_in_order_and_emits_one_event(client, db):
    beans, machine, code = uid("M"), uid("M"), uid("B")
    await make_material(client, beans)
    await make_material(client, machine)
    r = await make_bundle(client, code, [(machine, 1, 9), (beans, 3, 1)])
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1

    got = (await client.get(f"/sales-products/{code}")).json()
    assert got["kind"] == "bundle"
    assert got["components"] == [
        {"material_code": machine, "qty": 1, "price_weight": 9},
        {"material_code": beans, "qty": 3, "price_weight": 1},
    ]
    events = await outbox(db, "product.sales-product.upserted")
    assert len(events) == 1
    assert events[0]["key"] == code and events[0]["topic"] == Topic.PRODUCT.value
    assert events[0]["data"] == {
        "code": code,
        "name": f"Bundle {code}",
        "kind": "bundle",
        "components": got["components"],
        "active": True,
        "version": 1,
    }


async def test_a_bundle_with_an_unknown_material_is_422_naming_it_and_writes_nothing(client, db):
    beans, ghost, code = uid("M"), uid("GHOST"), uid("B")
    await make_material(client, beans)
    r = await make_bundle(client, code, [(beans, 1, 1), (ghost, 1, 1)])
    assert r.status_code == 422
    assert r.json()["detail"] == f"sales product {code}: unknown material: {ghost}"
    assert await count(db, "sales_products") == 0
    assert await count(db, "sales_product_components") == 0
    assert await outbox(db, "product.sales-product.upserted") == []


async def test_a_bundle_that_contains_itself_is_422_naming_it(client, db):
    beans, code = uid("M"), uid("B")
    await make_material(client, beans)
    r = await make_bundle(client, code, [(beans, 1, 1), (code, 1, 1)])
    assert r.status_code == 422
    assert r.json()["detail"] == f"sales product {code}: bundle {code} contains itself"
    assert await count(db, "sales_products") == 0


async def test_empty_bundles_and_duplicate_components_are_422(client, db):
    beans = uid("M")
    await make_material(client, beans)
    empty = await make_bundle(client, uid("B"), [])
    assert empty.status_code == 422
    # stated in the schema (minItems 1), so refused by validation with the field's path
    assert [p["path"] for p in empty.json()["problems"]] == ["body.components"]
    dupes = await make_bundle(client, uid("B"), [(beans, 1, 1), (beans, 2, 1)])
    assert dupes.status_code == 422
    assert f"duplicate component materials: {beans}" in dupes.json()["detail"]
    zero = await make_bundle(client, uid("B"), [(beans, 0, 1)])
    assert zero.status_code == 422
    assert await count(db, "sales_products") == 0


async def test_a_duplicate_sales_product_code_is_409(client, db):
    beans, code = uid("M"), uid("B")
    await make_material(client, beans)
    assert (await make_bundle(client, code, [(beans, 2, 1)])).status_code == 201
    r = await make_bundle(client, code, [(beans, 3, 1)])
    assert r.status_code == 409
    assert r.json()["detail"] == f"sales product {code} already exists"
    assert len(await outbox(db, "product.sales-product.upserted")) == 1


async def test_codes_share_one_namespace_except_a_single_of_its_own_material(client):
    beans, other = uid("M"), uid("M")
    await make_material(client, beans)
    await make_material(client, other)
    assert (await make_single(client, beans, beans))["code"] == beans

    clash = await make_bundle(client, other, [(beans, 2, 1)])
    assert clash.status_code == 409
    assert f"code {other} is a material's code" in clash.json()["detail"]

    bundle = uid("B")
    assert (await make_bundle(client, bundle, [(beans, 2, 1)])).status_code == 201
    r = await client.post("/materials", json=material_body(bundle))
    assert r.status_code == 409
    assert r.json()["detail"] == f"code {bundle} is already used by a sales product (bundle); choose another"


async def test_put_sales_product_is_idempotent_and_a_component_change_bumps_the_version(client, db):
    beans, machine, code = uid("M"), uid("M"), uid("B")
    await make_material(client, beans)
    await make_material(client, machine)
    body = {
        "name": "Coffee set",
        "kind": "bundle",
        "components": [
            {"material_code": beans, "qty": 3, "price_weight": 1},
            {"material_code": machine, "qty": 1, "price_weight": 9},
        ],
    }
    assert (await client.put(f"/sales-products/{code}", json=body)).status_code == 201
    again = await client.put(f"/sales-products/{code}", json=body)
    assert (again.status_code, again.json()["version"]) == (200, 1)

    body["components"] = body["components"][:1]
    changed = await client.put(f"/sales-products/{code}", json=body)
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    assert [
        c["material_code"] for c in (await client.get(f"/sales-products/{code}")).json()["components"]
    ] == [beans]
    events = await outbox(db, "product.sales-product.upserted")
    assert [(e["key"], e["data"]["version"], len(e["data"]["components"])) for e in events] == [
        (code, 1, 2),
        (code, 2, 1),
    ]
    # A rejected replacement leaves the stored one untouched.
    body["components"].append({"material_code": uid("GHOST"), "qty": 1, "price_weight": 1})
    assert (await client.put(f"/sales-products/{code}", json=body)).status_code == 422
    assert (await client.get(f"/sales-products/{code}")).json()["version"] == 2


async def test_sales_product_list_filters_by_kind_and_q_and_paginates(client):
    tag = uuid.uuid4().hex[:6]
    m = f"M{tag}"
    await make_material(client, m)
    await make_single(client, m, m)
    bundles = [f"B{tag}-{i}" for i in range(3)]
    for b in bundles:
        assert (await make_bundle(client, b, [(m, 2, 1)])).status_code == 201

    found = (await client.get("/sales-products", params={"q": tag})).json()
    assert [s["code"] for s in found["items"]] == [*bundles, m]
    only_bundles = (
        await client.get("/sales-products", params={"q": tag, "kind": "bundle", "limit": 2})
    ).json()
    assert only_bundles["total"] == 3
    assert [s["code"] for s in only_bundles["items"]] == bundles[:2]
    assert all(
        s["components"] == [{"material_code": m, "qty": 2, "price_weight": 1}] for s in only_bundles["items"]
    )
    singles = (await client.get("/sales-products", params={"q": tag, "kind": "single"})).json()
    assert [s["code"] for s in singles["items"]] == [m]
    assert (await client.get("/sales-products", params={"kind": "kit"})).status_code == 422


async def test_decompose_previews_material_lines_that_add_up_to_the_cent(client, db):
    beans, machine, code = uid("M"), uid("M"), uid("B")
    await make_material(client, beans)
    await make_material(client, machine)
    await make_bundle(client, code, [(beans, 3, 1), (machine, 1, 2)])
    before = len(await outbox(db))

    r = await client.post(f"/sales-products/{code}/decompose", json={"qty": 2, "paid_cents": 10000})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "sales_product_code": code,
        "kind": "bundle",
        "qty": 2,
        "paid_cents": 10000,
        "lines": [
            {"material_code": beans, "qty": 6, "amount_cents": 3333},
            {"material_code": machine, "qty": 2, "amount_cents": 6667},
        ],
    }
    assert len(await outbox(db)) == before, "a preview emits nothing"
    assert (
        await client.post(f"/sales-products/{code}/decompose", json={"qty": 0, "paid_cents": 1})
    ).status_code == 422
    missing = await client.post("/sales-products/NOPE/decompose", json={"qty": 1, "paid_cents": 1})
    assert missing.status_code == 404


# --- channel listings ----------------------------------------------------------------------------


async def _sales_product(client) -> str:
    m = uid("M")
    await make_material(client, m)
    await make_single(client, m, m)
    return m


async def test_creating_a_listing_generates_its_id_and_emits_one_event_keyed_by_it(client, db):
    sp = await _sales_product(client)
    r = await client.post("/channel-listings", json=listing_body(sp, item="600001"))
    assert r.status_code == 201, r.text
    listing = r.json()
    assert listing["listing_id"].startswith("L-") and len(listing["listing_id"]) == 34
    assert (listing["currency"], listing["status"], listing["version"]) == ("CNY", "on_sale", 1)
    assert (await client.get(f"/channel-listings/{listing['listing_id']}")).json() == listing

    events = await outbox(db, "product.channel-listing.upserted")
    assert len(events) == 1
    assert events[0]["key"] == listing["listing_id"] and events[0]["topic"] == Topic.PRODUCT.value
    assert events[0]["data"] == {k: v for k, v in listing.items() if k != "updated_at"}


async def test_a_listing_of_an_unknown_sales_product_is_422(client, db):
    r = await client.post("/channel-listings", json=listing_body("NO-SUCH-SP", item="1"))
    assert r.status_code == 422
    assert "unknown sales product NO-SUCH-SP" in r.json()["detail"]
    assert await count(db, "channel_listings") == 0


async def test_one_listing_per_channel_item_and_sku(client, db):
    sp = await _sales_product(client)
    first = (await client.post("/channel-listings", json=listing_body(sp, item="7", sku=None))).json()
    again = await client.post("/channel-listings", json=listing_body(sp, item="7", sku=None, price_cents=1))
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"channel tmall shop shop-1 item 7 sku (none) is already listed as {first['listing_id']}"
    )
    # Another sku of the same item, or the same item in another shop, is another listing.
    assert (
        await client.post("/channel-listings", json=listing_body(sp, item="7", sku="s2"))
    ).status_code == 201
    other_shop = listing_body(sp, item="7", sku=None, shop_id="shop-2")
    assert (await client.post("/channel-listings", json=other_shop)).status_code == 201
    # A given listing id that exists is 409 as well.
    dup_id = listing_body(sp, item="8", listing_id=first["listing_id"])
    r = await client.post("/channel-listings", json=dup_id)
    assert (r.status_code, r.json()["detail"]) == (
        409,
        f"channel listing {first['listing_id']} already exists",
    )
    assert await count(db, "channel_listings") == 3
    assert len(await outbox(db, "product.channel-listing.upserted")) == 3


async def test_put_listing_is_idempotent_bumps_on_change_and_cannot_steal_a_channel_key(client, db):
    sp = await _sales_product(client)
    lid = uid("L")
    body = listing_body(sp, item="9")
    assert (await client.put(f"/channel-listings/{lid}", json=body)).status_code == 201
    same = await client.put(f"/channel-listings/{lid}", json=body)
    assert (same.status_code, same.json()["version"]) == (200, 1)
    off = await client.put(
        f"/channel-listings/{lid}", json={**body, "status": "off_sale", "price_cents": 9900}
    )
    assert (off.json()["version"], off.json()["status"], off.json()["price_cents"]) == (2, "off_sale", 9900)

    other = uid("L")
    assert (
        await client.put(f"/channel-listings/{other}", json=listing_body(sp, item="10"))
    ).status_code == 201
    steal = await client.put(f"/channel-listings/{other}", json=body)
    assert steal.status_code == 409
    assert f"is already listed as {lid}" in steal.json()["detail"]
    assert (await client.get(f"/channel-listings/{other}")).json()["channel_item_id"] == "10"

    events = await outbox(db, "product.channel-listing.upserted")
    assert [(e["key"], e["data"]["version"]) for e in events] == [(lid, 1), (lid, 2), (other, 1)]


async def test_listing_list_filters_and_paginates(client):
    sp_a, sp_b = await _sales_product(client), await _sales_product(client)
    shop = uid("shop")
    for i in range(4):
        body = listing_body(
            sp_a if i < 3 else sp_b, item=f"{i}", shop_id=shop, status="off_sale" if i == 2 else "on_sale"
        )
        assert (await client.post("/channel-listings", json=body)).status_code == 201
    jd = listing_body(sp_a, item="0", shop_id=shop, channel="jd")
    assert (await client.post("/channel-listings", json=jd)).status_code == 201

    in_shop = (await client.get("/channel-listings", params={"shop_id": shop, "channel": "tmall"})).json()
    assert in_shop["total"] == 4
    assert [x["channel_item_id"] for x in in_shop["items"]] == ["0", "1", "2", "3"]
    page2 = (await client.get("/channel-listings", params={"shop_id": shop, "limit": 2, "offset": 2})).json()
    assert (page2["total"], [(x["channel"], x["channel_item_id"]) for x in page2["items"]]) == (
        5,
        [("tmall", "1"), ("tmall", "2")],
    )
    of_a = (
        await client.get("/channel-listings", params={"sales_product_code": sp_a, "status": "on_sale"})
    ).json()
    assert sorted((x["channel"], x["channel_item_id"]) for x in of_a["items"]) == [
        ("jd", "0"),
        ("tmall", "0"),
        ("tmall", "1"),
    ]
    by_outer = (await client.get("/channel-listings", params={"shop_id": shop, "outer_id": sp_b})).json()
    assert [x["channel_item_id"] for x in by_outer["items"]] == ["3"]
    assert (await client.get("/channel-listings", params={"status": "sold_out"})).status_code == 422
