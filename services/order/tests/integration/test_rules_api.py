"""The rules engine through its REST API on real PostgreSQL (the migrations): a bad rule set is one 422
listing every problem, saves are versions with a history and a rollback, a change takes effect on the next
order without a restart, a held order explains itself (`/trace`) and is released once, bulk actions answer
per order, a dry-run writes nothing, and the buyer blacklist holds through a `blacklisted` condition."""

from __future__ import annotations

from typing import Any

import pytest
from order_db_helpers import client_for, order_database, outbox, project, rows, scalar, take_in
from order_factories import channel_order, envelope, product_events

pytestmark = pytest.mark.integration
WORD, OTHER = "please-call-me", "gift-wrap"


async def ready(make_database):
    db = await order_database(make_database)
    await project(db, product_events())  # materials, products and the tmall:S1 listings the rules may name
    return db


def message_rule(word: str, rule_id: str = "hold-word", **then: Any) -> dict[str, Any]:
    action = then or {"type": "hold", "code": "buyer_message", "reason": "the buyer asks to be called"}
    return {"id": rule_id, "name": f"hold on “{word}”", "when": {"type": "message", "contains": [word]},
            "then": [action]}  # fmt: skip


def ruleset(*rules: dict[str, Any], name: str = "review") -> dict[str, Any]:
    return {"name": name, "rules": list(rules)}


STRATEGY = {"name": "tmall review", "match": {"channels": ["tmall"]}, "ruleset_id": "review"}


async def order_in(db, **kw: Any) -> str:
    (oid,) = (await take_in(db, [envelope(channel_order(**kw))])).accepted
    return oid


async def status_of(db, oid: str) -> tuple[str, str | None]:
    (r,) = await rows(db, "SELECT status, status_reason_code FROM orders WHERE order_id = :o", o=oid)
    return tuple(r)


async def put(client, path: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = await client.put(path, json=body, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_bad_rule_set_is_one_422_listing_every_problem_and_nothing_is_saved(make_database):
    db = await ready(make_database)
    bad = {
        "name": "bad",
        "definitions": {"a": {"type": "use", "name": "b"},
                        "b": {"type": "not", "of": {"type": "use", "name": "a"}}},
        "rules": [
            {"id": "r1", "name": "sku", "when": {"type": "sku", "codes": ["BEAN-ETH-500", "NO-SUCH-SKU"]},
             "then": [{"type": "tag", "tags": ["x"]}]},
            {"id": "r2", "name": "channel", "when": {"type": "all", "of": [
                {"type": "channel", "any_of": ["tmall", "nowhere"]},
                {"type": "shop", "any_of": ["tmall:NOPE"]}]},
             "then": [{"type": "add_gift", "gift_id": "g", "material_code": "NO-GIFT"}]},
            {"id": "r1", "name": "again", "when": {"type": "use", "name": "missing"},
             "then": [{"type": "priority", "value": 5}]},
        ],
    }  # fmt: skip
    async with client_for(db) as client:
        r = await client.put("/rulesets/bad", json=bad)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        found = {(p["path"], p["message"]) for p in body["problems"]}
        assert found == {
            ("body.rules[0].when.codes[1]", "unknown sku NO-SUCH-SKU"),
            ("body.rules[1].when.of[0].any_of[1]", "unknown channel nowhere"),
            ("body.rules[1].when.of[1].any_of[0]", "unknown shop tmall:NOPE"),
            ("body.rules[1].then[0].material_code", "unknown sku NO-GIFT"),
            ("body.rules[2].id", "rule id r1 repeats rule 0"),
            ("body.rules[2].when.name", "no definition named missing"),
            ("body.definitions.a", "circular reference: a -> b -> a"),
        }, body["problems"]
        assert body["detail"] == "the ruleset has 7 problems"

        # malformed shapes (min ≥ max, an unknown field) are each listed too, before any reference is checked
        shapes = ruleset(
            {"id": "m1", "name": "range", "when": {"type": "paid_amount", "min": 50_000, "max": 10_000},
             "then": [{"type": "tag", "tags": ["x"]}]},
            {"id": "m2", "name": "units", "when": {"type": "quantity", "min": 3, "max": 3}, "colour": "red",
             "then": [{"type": "tag", "tags": ["x"]}]},
        )  # fmt: skip
        r = await client.put("/rulesets/bad", json=shapes)
        assert r.status_code == 422, r.text
        found = {(p["path"], p["message"].removeprefix("Value error, ")) for p in r.json()["problems"]}
        assert found == {
            (
                "body.rules[0].when.paid_amount",
                "min 50000 must be less than max 10000 (min is inclusive, max exclusive)",
            ),
            (
                "body.rules[1].when.quantity",
                "min 3 must be less than max 3 (min is inclusive, max exclusive)",
            ),
            ("body.rules[1].colour", "Extra inputs are not permitted"),
        }, found

        assert (await client.get("/rulesets/bad")).status_code == 404
        assert (await client.get("/rulesets")).json()["total"] == 0
    assert await scalar(db, "SELECT count(*) FROM ruleset_versions") == 0


async def test_saves_are_versions_with_history_and_a_rollback_and_strategies_name_real_rule_sets(
    make_database,
):
    db = await ready(make_database)
    v1 = ruleset(message_rule(WORD))
    v2 = ruleset(message_rule(OTHER), name="review, wrapped")
    async with client_for(db) as client:
        first = await put(client, "/rulesets/review", v1, comment="first")
        assert (first["id"], first["version"], first["name"], first["comment"]) == (
            "review",
            1,
            "review",
            "first",
        )
        second = await put(client, "/rulesets/review", v2, comment="gift wrap instead")
        assert (second["version"], second["doc"]["rules"][0]["when"]["contains"]) == (2, [OTHER])
        current = (await client.get("/rulesets/review")).json()
        assert (current["version"], current["name"]) == (2, "review, wrapped")

        versions = (await client.get("/rulesets/review/versions")).json()
        assert [(v["version"], v["comment"]) for v in versions] == [(2, "gift wrap instead"), (1, "first")]
        assert versions[1]["doc"]["rules"][0]["when"]["contains"] == [WORD]

        back = await client.post("/rulesets/review/rollback", json={"to_version": 1})
        assert back.status_code == 200, back.text
        assert (back.json()["version"], back.json()["comment"]) == (3, "rollback to version 1")
        versions = (await client.get("/rulesets/review/versions")).json()
        assert [v["version"] for v in versions] == [3, 2, 1]
        assert versions[0]["doc"] == versions[2]["doc"]
        assert (await client.get("/rulesets/review")).json()["doc"] == first["doc"]
        nope = await client.post("/rulesets/review/rollback", json={"to_version": 9})
        assert nope.status_code == 404 and "no version 9" in nope.text
        assert (await client.get("/rulesets/nope/versions")).status_code == 404

        bad = {**STRATEGY, "ruleset_id": "nope", "match": {"channels": ["tmall", "nowhere"]}}
        r = await client.put("/strategies/tmall", json=bad)
        assert r.status_code == 422, r.text
        assert {(p["path"], p["message"]) for p in r.json()["problems"]} == {
            ("body.ruleset_id", "no rule set nope"),
            ("body.match.channels[1]", "unknown channel nowhere"),
        }
        assert (await client.get("/strategies")).json()["total"] == 0
        saved = await put(client, "/strategies/tmall", STRATEGY)
        assert (saved["version"], saved["doc"]["ruleset_id"], saved["doc"]["enabled"]) == (1, "review", True)
        listed = (await client.get("/strategies")).json()
        assert [x["id"] for x in listed["items"]] == ["tmall"] and listed["total"] == 1


async def test_a_change_applies_to_the_next_order_and_a_held_order_explains_itself_and_is_released_once(
    make_database,
):
    db = await ready(make_database)
    async with client_for(db) as client:
        before = await order_in(db, buyer_message=f"{WORD}, thanks")
        assert await status_of(db, before) == ("accepted", None)  # no strategy yet: nothing holds it

        await put(client, "/rulesets/review", ruleset(message_rule(WORD)))
        await put(client, "/strategies/tmall", STRATEGY)
        held = await order_in(db, buyer_message="Please-Call-Me before 6 pm")  # literal, case-insensitive
        plain = await order_in(db, buyer_message="leave it at the door")
        assert await status_of(db, held) == ("held", "buyer_message")
        assert await status_of(db, plain) == ("accepted", None)
        accepted = [x["data"]["order_id"] for x in await outbox(db, "order.accepted")]
        assert accepted == [before, plain]  # fulfillment never hears of the held order

        r = await client.get(f"/orders/{held}/trace")
        assert r.status_code == 200, r.text
        trace = r.json()
        assert (trace["status"], trace["strategy"]) == ("held", "tmall v1")
        steps = [(d["stage"], d["subject"], d["matched"]) for d in trace["decisions"]]
        assert steps == [
            ("geo", "ship-to address", True),  # where intake located the ship-to (docs/geo.md)
            ("strategy", "strategy tmall v1", True),
            ("review", "rule hold-word (review v1)", True),
            ("review", "outcome", False),
        ], steps
        _, chosen, rule, outcome = trace["decisions"]
        assert (chosen["why"], chosen["effect"]) == ("matches; priority 0", "chosen")
        assert rule["why"] == f"the buyer message contains “{WORD}”"
        assert rule["effect"] == "hold buyer_message: the buyer asks to be called"
        assert outcome["why"] == "held: buyer_message"
        (hold,) = trace["holds"]
        assert (hold["code"], hold["rule"], hold["ended_at"]) == (
            "buyer_message",
            "rule hold-word (review v1)",
            None,
        )
        plain_trace = (await client.get(f"/orders/{plain}/trace")).json()["decisions"]
        assert (
            plain_trace[2]["why"] == "the buyer message has none of the words"
            and not plain_trace[2]["matched"]
        )

        # a new version of the rule set: the next order uses it, with no restart
        await put(client, "/rulesets/review", ruleset(message_rule(OTHER)))
        now_plain = await order_in(db, buyer_message=WORD)
        now_held = await order_in(db, buyer_message=f"{OTHER} please")
        assert await status_of(db, now_plain) == ("accepted", None)
        assert await status_of(db, now_held) == ("held", "buyer_message")
        assert (await client.get(f"/orders/{now_held}/trace")).json()["decisions"][2]["subject"] == (
            "rule hold-word (review v2)"
        )

        r = await client.post(f"/orders/{held}/release", json={"reason": "called the buyer"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted"
        assert [x["data"]["order_id"] for x in await outbox(db, "order.accepted")].count(held) == 1
        (hold,) = (await client.get(f"/orders/{held}/trace")).json()["holds"]
        assert (hold["ended_by"], hold["end_reason"]) == ("release", "called the buyer")

        again = await client.post(f"/orders/{held}/release", json={"reason": "twice"})
        assert again.status_code == 409, again.text
        assert "is already accepted" in again.json()["detail"]
        assert [x["data"]["order_id"] for x in await outbox(db, "order.accepted")].count(held) == 1
        assert (await client.post("/orders/O-NOPE/release", json={"reason": "x"})).status_code == 404
        assert (await client.get("/orders/O-NOPE/trace")).status_code == 404


async def test_bulk_actions_answer_per_order_and_a_block_needs_an_approve(make_database):
    db = await ready(make_database)
    block = {"type": "block", "reason": "fraud suspected"}
    async with client_for(db) as client:
        await put(
            client, "/rulesets/review", ruleset(message_rule(WORD), message_rule("fraud", "block", **block))
        )
        await put(client, "/strategies/tmall", STRATEGY)
        a, b = await order_in(db, buyer_message=WORD), await order_in(db, buyer_message=WORD)
        blocked, free = await order_in(db, buyer_message="fraud?"), await order_in(db, buyer_message="")
        assert await status_of(db, blocked) == ("held", "blocked")

        ids = [a, blocked, free, "O-NOPE", b]
        r = await client.post(
            "/order-bulk-actions", json={"action": "release", "reason": "ok", "order_ids": ids}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["done"], body["refused"]) == (2, 3)
        got = {x["order_id"]: (x["ok"], x["status"]) for x in body["results"]}
        assert [x["order_id"] for x in body["results"]] == ids
        assert got == {a: (True, "accepted"), blocked: (False, "held"), free: (False, "accepted"),
                       "O-NOPE": (False, None), b: (True, "accepted")}  # fmt: skip
        errors = {x["order_id"]: x["error"] for x in body["results"]}
        assert "only approve ends a block" in errors[blocked] and "already accepted" in errors[free]
        assert "O-NOPE" in errors["O-NOPE"] and errors[a] is None

        r = await client.post(f"/orders/{blocked}/approve", json={"reason": "the buyer is known"})
        assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
        sent = [x["data"]["order_id"] for x in await outbox(db, "order.accepted")]
        assert sorted(sent) == sorted([a, b, blocked, free]) and len(sent) == 4


async def table_counts(db) -> dict[str, int]:
    names = await rows(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return {n: await scalar(db, f'SELECT count(*) FROM "{n}"') for (n,) in names}


async def test_a_dry_run_reports_what_would_change_and_writes_nothing(make_database):
    db = await ready(make_database)
    async with client_for(db) as client:
        await put(client, "/rulesets/review", ruleset(message_rule(WORD)))
        await put(client, "/strategies/tmall", STRATEGY)
        held = await order_in(db, buyer_message=WORD)
        wrap = await order_in(db, buyer_message=f"{OTHER}!")
        plain = await order_in(db, buyer_message="")
        before = await table_counts(db)
        states = await rows(db, "SELECT order_id, status, updated_at FROM orders ORDER BY order_id")
        holds = await rows(db, "SELECT * FROM order_holds ORDER BY id")

        draft = ruleset(message_rule(OTHER, "wrap", type="hold", code="gift_wrap", reason="wrap it"))
        r = await client.post("/rulesets/review/dry-run", json={"last": 10, "draft": draft})
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["ruleset"], report["orders"], report["changed"], report["would_hold"]) == (
            "review (draft)", 3, 2, 1,
        )  # fmt: skip
        items = {x["order_id"]: x for x in report["items"]}
        assert items[wrap]["changes"] == ["would hold gift_wrap"]
        assert items[wrap]["would"]["matched_rules"] == ["rule wrap (review (draft))"]
        assert items[held]["changes"] == ["would not hold buyer_message"]
        assert items[held]["actual"] == {"status": "held", "strategy": "tmall v1", "holds": ["buyer_message"],
                                         "tags": [], "gifts": [], "split": []}  # fmt: skip
        assert items[plain]["changes"] == [] and items[plain]["would"]["holds"] == []

        saved = await client.post("/rulesets/review/dry-run", json={"last": 2, "version": 1})
        assert saved.status_code == 200, saved.text
        assert (saved.json()["ruleset"], saved.json()["orders"], saved.json()["changed"]) == (
            "review v1",
            2,
            0,
        )
        assert (await client.post("/rulesets/review/dry-run", json={"version": 7})).status_code == 404
        assert (await client.post("/rulesets/nope/dry-run", json={})).status_code == 404
        both = await client.post("/rulesets/review/dry-run", json={"version": 1, "draft": draft})
        assert both.status_code == 422, both.text

        assert await table_counts(db) == before
        assert await rows(db, "SELECT order_id, status, updated_at FROM orders ORDER BY order_id") == states
        assert await rows(db, "SELECT * FROM order_holds ORDER BY id") == holds


async def test_the_buyer_blacklist_holds_a_buyer_through_a_blacklisted_condition(make_database):
    db = await ready(make_database)
    risk = {"id": "risk", "name": "blacklisted buyers", "when": {"type": "blacklisted"},
            "then": [{"type": "hold", "code": "risk", "reason": "the buyer is blacklisted"}]}  # fmt: skip
    async with client_for(db) as client:
        await put(client, "/rulesets/review", ruleset(risk))
        await put(client, "/strategies/tmall", STRATEGY)
        entry = await put(client, "/buyer-blacklist/buyer-9", {"reason": "chargebacks"})
        assert (entry["buyer_key"], entry["reason"]) == ("buyer-9", "chargebacks")
        listed = (await client.get("/buyer-blacklist")).json()
        assert [x["buyer_key"] for x in listed["items"]] == ["buyer-9"] and listed["total"] == 1
        blank = await client.put("/buyer-blacklist/buyer-8", json={"reason": "  "})
        assert blank.status_code == 422, blank.text

        held = await order_in(db, buyer_id="buyer-9")
        other = await order_in(db, buyer_id="buyer-1")
        assert await status_of(db, held) == ("held", "risk")
        assert await status_of(db, other) == ("accepted", None)
        rule = (await client.get(f"/orders/{held}/trace")).json()["decisions"][2]
        assert (rule["subject"], rule["why"]) == ("rule risk (review v1)", "the buyer is on the blacklist")

        assert (await client.delete("/buyer-blacklist/buyer-9")).status_code == 204
        assert (await client.delete("/buyer-blacklist/buyer-9")).status_code == 404
        assert (await client.get("/buyer-blacklist")).json()["total"] == 0
        after = await order_in(db, buyer_id="buyer-9")
        assert await status_of(db, after) == ("accepted", None)
        assert await status_of(db, held) == ("held", "risk")  # removing the entry does not release an order
