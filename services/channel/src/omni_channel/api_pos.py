"""POS store sales (docs/platforms/pos.md): thin. `POST /channels/pos/orders` takes an Odoo `create_from_ui`
call; `PUT/GET /channels/pos/stores/{shop_id}` say which store node a POS shop sells from and how its tenders
map to ours. The use cases are in service/pos.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError, problem_response
from omni_chassis.logging import get_logger
from omni_chassis.outbox import EventTooLarge

from .api import MAX_BODY_BYTES, ShopId, clock
from .domain.errors import MalformedPayload, Unauthorized
from .service import pos

log = get_logger(__name__)
router = APIRouter(tags=["pos"])
NodeCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
TenderId = Annotated[str, StringConstraints(pattern=pos.TENDER_ID.pattern)]  # payment_method_id:2
Tender = Literal[pos.TENDERS]  # type: ignore[valid-type]


class StoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node_code: NodeCode = Field(description="the store node (fulfillment / inventory) the till sells from")
    payment_methods: dict[TenderId, Tender] = Field(
        default_factory=dict,
        max_length=100,
        json_schema_extra={"additionalProperties": False},  # only the pattern's keys: the schema says it all
        description='the till\'s tenders to ours: {"payment_method_id:2": "wechat", "journal_id:5": "cash"}; '
        f"ours: {', '.join(pos.TENDERS)}",
    )


class StoreOut(BaseModel):
    shop_id: str
    node_code: str
    payment_methods: dict[str, str]
    created_at: datetime
    updated_at: datetime


@router.put(
    "/channels/pos/stores/{shop_id}",
    response_model=StoreOut,
    responses={404: {"description": "no pos shop with this id"}, 422: {"description": "a field named"}},
)
async def put_store(
    shop_id: ShopId, body: StoreIn, uow: Uow, now: Annotated[datetime, Depends(clock)]
) -> Any:
    """The store node and tender map of a POS shop (registered first as a `pos` shop: PUT /shops/pos/…)."""
    try:
        return await pos.put_store(
            uow, shop_id=shop_id, node_code=body.node_code, payment_methods=body.payment_methods, now=now
        )
    except pos.StoreNotFound as exc:
        return problem_response(404, str(exc))
    except pos.InvalidStore as exc:
        return problem_response(
            422, str(exc), title="Invalid pos store", problems=[p.as_dict() for p in exc.problems]
        )


@router.get(
    "/channels/pos/stores/{shop_id}", response_model=StoreOut, responses={404: {"description": "no config"}}
)
async def get_store(shop_id: ShopId, uow: Uow) -> Any:
    try:
        return await pos.get_store(uow, shop_id)
    except pos.StoreNotFound as exc:
        return problem_response(404, str(exc))


@router.post(
    "/channels/pos/orders",
    responses={
        200: {
            "description": '`{"shop_id", "orders": [{"index", "uid", "outcome": "accepted" | "duplicate"}]}`'
        },
        400: {"description": "the body is not JSON"},
        401: {"description": "unknown or inactive shop, bad or missing X-Pos-Signature"},
        413: {"description": "body too large"},
        422: {
            "description": "at least one order has a problem: `orders` answers each (the others are taken)"
        },
    },
)
async def pos_orders(
    request: Request,
    uow: Uow,
    now: Annotated[datetime, Depends(clock)],
    x_pos_shop: Annotated[str, Header(max_length=64)] = "",
    x_pos_signature: Annotated[str, Header(max_length=128)] = "",
) -> Any:
    """Finished sales and till returns from an Odoo POS, as `pos.order.create_from_ui` receives them (a list
    of `{"id", "data", "to_invoice"}`), signed with the shop's secret (`X-Pos-Signature`: hex HMAC-SHA256
    of the body). Each order is answered on its own; a sale uid counts once (`duplicate` after that)."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem_response(413, f"body too large: {len(body)} bytes, at most {MAX_BODY_BYTES}")
    try:
        batch = await pos.receive_pos_orders(
            uow, shop_id=x_pos_shop, signature=x_pos_signature, body=body, now=now
        )
    except Unauthorized as exc:
        log.warning("pos call refused", channel="pos", reason=exc.reason)
        return problem_response(401, exc.reason)
    except MalformedPayload as exc:
        return problem_response(400, f"pos: {exc.reason}")
    except EventTooLarge as exc:
        raise ProblemError(413, "Event too large", f"pos: an order would become an event of {exc.size:,} "
                           f"bytes; the broker accepts at most {exc.limit:,}") from exc  # fmt: skip
    orders = [a.as_dict() for a in batch.answers]
    if batch.problems:
        bad = [a for a in batch.answers if a.outcome == "problem"]
        paths = [p.path for a in bad for p in a.problems]
        log.info("pos orders refused", channel="pos", shop_id=batch.shop_id, paths=paths[:20])
        return problem_response(
            422,
            f"pos: {len(bad)} of {len(orders)} order(s) refused: " + "; ".join(paths[:10]),
            title="Invalid pos order",
            platform="pos",
            problems=[p.as_dict() for a in bad for p in a.problems],
            orders=orders,
        )
    return {"shop_id": batch.shop_id, "orders": orders}
