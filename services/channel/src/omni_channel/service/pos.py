"""POS store sales (Odoo `create_from_ui`): authenticate the till's shop, read each order (domain/pos.py),
resolve its products to our sales products through the POS listings, and publish each new sale as
`channel.store-sale.recorded` (a till return as `channel.store-return.recorded`), once per sale uid.

One call is one unit of work, but each order is answered on its own: an order with a problem records and
publishes nothing, the others go ahead. A store sale is not an order: nothing here reaches the order service.

Authentication: a till does not sign like a platform. The POS shop (channel `pos`) names itself in
`X-Pos-Shop`, and `X-Pos-Signature` is the hex HMAC-SHA256 of the raw body under the shop's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_chassis.errors import ProblemError
from omni_chassis.logging import get_logger
from omni_contracts.events.store_sales import (
    StorePayment,
    StoreReturnLine,
    StoreReturnRecordedV1,
    StoreSaleLine,
    StoreSaleRecordedV1,
    store_sale_key,
)

from ..credentials import CredentialsKeyError, reveal
from ..domain import pos
from ..domain.errors import Problem, Unauthorized
from ..domain.tmall import parse_json
from .orders import Uow

log = get_logger(__name__)
CHANNEL = pos.CHANNEL
TENDER_ID = re.compile(r"^(payment_method_id|journal_id):[0-9]{1,12}$")
TENDERS = ("cash", "bank_card", "wechat", "alipay", "unionpay", "voucher", "other")


class StoreNotFound(Exception):
    """No POS shop with this id is registered (404)."""


class InvalidStore(Exception):
    """A store config that cannot be used (422); `problems` names each field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class OrderAnswer:
    index: int
    uid: str | None
    outcome: str  # accepted | duplicate | problem
    event_id: str | None = None
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "uid": self.uid, "outcome": self.outcome}
        if self.event_id:
            out["event_id"] = self.event_id
        if self.problems:
            out["problems"] = [p.as_dict() for p in self.problems]
        return out


@dataclass
class Batch:
    shop_id: str
    answers: list[OrderAnswer] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(1 for a in self.answers if a.outcome == "problem")


# -- store config --------------------------------------------------------------------------------------------
async def put_store(
    uow: Uow, *, shop_id: str, node_code: str, payment_methods: dict[str, str], now: datetime
) -> dict[str, Any]:
    """Which store node a POS shop sells from and how its tenders map to ours (`payment_method_id:2` ->
    `wechat`). The shop itself (its secret) is registered as a `pos` shop with PUT /shops/pos/{shop_id}."""
    bad = [
        Problem(f"payment_methods.{k}", f"must be one of {', '.join(TENDERS)}")
        for k, v in payment_methods.items()
        if v not in TENDERS
    ] + [
        Problem(f"payment_methods.{k}", "must be a till tender like payment_method_id:2 or journal_id:5")
        for k in payment_methods
        if not TENDER_ID.match(k)
    ]
    if bad:
        raise InvalidStore(bad)
    async with uow:
        if await uow.repo.get_shop(CHANNEL, shop_id) is None:
            raise StoreNotFound(f"no pos shop {shop_id!r} is registered: PUT /shops/pos/{shop_id} first")
        return await uow.repo.upsert_pos_store(shop_id, node_code, payment_methods, now)


async def get_store(uow: Uow, shop_id: str) -> dict[str, Any]:
    async with uow:
        found = await uow.repo.get_pos_store(shop_id)
    if found is None:
        raise StoreNotFound(f"pos shop {shop_id!r} has no store config: PUT /channels/pos/stores/{shop_id}")
    return found


# -- the listings projection ---------------------------------------------------------------------------------
async def project_listings(uow: Uow, envs: list[Any]) -> None:
    """product.channel-listing.upserted of channel `pos`: the till product id is the listing's item id."""
    rows = [
        {
            "shop_id": e.data.shop_id,
            "pos_product_id": e.data.channel_item_id,
            "listing_id": e.data.listing_id,
            "outer_id": e.data.outer_id,
            "sales_product_code": e.data.sales_product_code,
            "on_sale": e.data.status == "on_sale",
            "version": e.data.version,
        }
        for e in envs
        if e.event_type == "product.channel-listing.upserted" and e.data.channel == CHANNEL
    ]
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:  # one row per listing in a statement: the newest of the batch
        if r["listing_id"] not in latest or latest[r["listing_id"]]["version"] < r["version"]:
            latest[r["listing_id"]] = r
    async with uow:
        await uow.repo.upsert_pos_listings(list(latest.values()))


# -- intake --------------------------------------------------------------------------------------------------
async def _authenticate(uow: Uow, shop_id: str, signature: str, body: bytes) -> None:
    if not shop_id:
        raise Unauthorized("pos: name the shop in the X-Pos-Shop header")
    shop = await uow.repo.shop_credentials(CHANNEL, shop_id)
    if shop is None:
        raise Unauthorized(f"unknown shop: no pos shop {shop_id!r} is registered")
    if not shop.active:
        raise Unauthorized(f"inactive shop: pos shop {shop_id!r} is not active")
    try:
        secret = reveal(shop.secret) or ""
    except CredentialsKeyError as exc:
        log.error("shop credentials cannot be decrypted", channel=CHANNEL, shop_id=shop_id)
        raise ProblemError(503, "Shop credentials unreadable", str(exc)) from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = signature.removeprefix("sha256=").strip().lower()
    if not given or not hmac.compare_digest(expected, given):
        raise Unauthorized("pos: bad signature (X-Pos-Signature: hex HMAC-SHA256 of the body, shop's secret)")


async def receive_pos_orders(uow: Uow, *, shop_id: str, signature: str, body: bytes, now: datetime) -> Batch:
    """Authenticate a till's `create_from_ui` call and take each order. Raises Unauthorized (401) and
    MalformedPayload (400) before anything is read; `pos.NoStore` problems are per order."""
    async with uow:
        await _authenticate(uow, shop_id, signature, body)
        items, problems = pos.orders_of(parse_json(body))
        batch = Batch(shop_id)
        if problems:
            batch.answers.append(OrderAnswer(0, None, "problem", problems=tuple(problems)))
            return batch
        store = await uow.repo.get_pos_store(shop_id)
        for i, item in enumerate(items):
            batch.answers.append(await _take(uow, store, shop_id, i, item, now))
    log.info(
        "pos orders received",
        shop_id=shop_id,
        orders=len(batch.answers),
        accepted=sum(1 for a in batch.answers if a.outcome == "accepted"),
        problems=batch.problems,
    )
    return batch


async def _take(
    uow: Uow, store: dict[str, Any] | None, shop_id: str, index: int, item: Any, now: datetime
) -> OrderAnswer:
    path = f"orders[{index}]"
    read = pos.read_order(item, path)
    if isinstance(read, pos.OrderProblems):
        return OrderAnswer(index, read.uid, "problem", problems=read.problems)
    if store is None:
        msg = f"pos shop {shop_id!r} has no store node: PUT /channels/pos/stores/{shop_id}"
        return OrderAnswer(index, read.uid, "problem", problems=(Problem("X-Pos-Shop", msg),))
    order_ref = f"{shop_id}:{read.uid}"
    if await uow.repo.pos_sale_seen(order_ref):
        return OrderAnswer(index, read.uid, "duplicate")
    event, problems = await _event(uow, store, shop_id, read, path, now)
    if event is None:
        return OrderAnswer(index, read.uid, "problem", problems=tuple(problems))
    env = uow.emit(event, key=store_sale_key(shop_id, read.uid))
    digest = hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()
    await uow.repo.record_receipt(
        channel=CHANNEL,
        channel_order_id=order_ref,
        payload_sha256=digest,
        shop_id=shop_id,
        channel_status="return" if read.is_return else "sale",
        outcome="published",
        reason=None,
        event_id=env.event_id,
        now=now,
    )
    return OrderAnswer(index, read.uid, "accepted", event_id=str(env.event_id))


async def _event(
    uow: Uow, store: dict[str, Any], shop_id: str, order: pos.PosOrder, path: str, now: datetime
) -> tuple[StoreSaleRecordedV1 | StoreReturnRecordedV1 | None, list[Problem]]:
    by_id, by_code = await uow.repo.pos_listings_of(
        shop_id, [x.product_id for x in order.lines], [x.default_code for x in order.lines if x.default_code]
    )
    problems: list[Problem] = []
    lines: list[dict[str, Any]] = []
    for i, x in enumerate(order.lines):
        listing = by_id.get(x.product_id) or (by_code.get(x.default_code) if x.default_code else None)
        if listing is None or not listing["on_sale"]:
            what = "unknown" if listing is None else "off sale"
            problems.append(
                Problem(
                    f"{path}.data.lines[{i}].product_id",
                    f"pos: product {x.product_id}{f' [{x.default_code}]' if x.default_code else ''} is "
                    f"{what}: no on-sale pos listing of shop {shop_id} has this item id or outer id",
                )
            )
            continue
        lines.append(
            {
                "line_id": x.line_id,
                "sales_product_code": listing["sales_product_code"],
                "pos_product_id": x.product_id,
                "title": x.title[:200],
                "qty": x.qty,
                "unit_price_cents": x.unit_price_cents,
                "paid_cents": x.paid_cents,
                "discount_cents": max(0, x.qty * x.unit_price_cents - x.paid_cents),
                **({"refunded_line_ref": x.refunded_line_ref} if order.is_return else {}),
            }
        )
    tenders: dict[str, str] = store["payment_methods"]
    payments = []
    for i, p in enumerate(order.payments):
        if p.pos_method not in tenders:
            problems.append(
                Problem(
                    f"{path}.data.statement_ids[{i}][2].{p.pos_method.split(':')[0]}",
                    f"pos: tender {p.pos_method} is not mapped for shop {shop_id} (PUT /channels/pos/stores)",
                )
            )
            continue
        tender = tenders[p.pos_method]
        payments.append(
            StorePayment(
                method=tender,
                pos_method=p.pos_method,
                amount_cents=p.amount_cents,
                transaction_id=p.transaction_id,
            )
        )
    if problems:
        return None, problems
    common = {
        "shop_id": shop_id,
        "node_code": store["node_code"],
        "sale_uid": order.uid,
        "name": order.name[:200],
        "pos_session_id": order.session_id,
        "total_cents": order.total_cents,
        "tax_cents": order.tax_cents,
        "payments": payments,
        "change_cents": order.change_cents,
        "occurred_at": order.occurred_at,
        "received_at": now,
    }
    if order.is_return:
        return StoreReturnRecordedV1(lines=[StoreReturnLine(**x) for x in lines], **common), []
    return StoreSaleRecordedV1(lines=[StoreSaleLine(**x) for x in lines], **common), []
