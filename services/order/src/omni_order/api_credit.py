"""REST routes of B2B credit terms (账期): thin. Record that an order on account was paid; list the credit
accounts (keyset paged) and one account with its orders."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from omni_chassis.app import Uow
from omni_chassis.paging import Code, CursorParam, Limit, Page, cursor_page, decode_cursor, json_int

from . import service
from .api import _call

router = APIRouter(tags=["credit"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")] = Field(
        description="the payment's reference: a bank slip, a statement number"
    )
    amount_cents: json_int(1, 10**13) | None = Field(
        None, description="what was paid, in fen: must be what the order owes (absent: the whole of it)"
    )


class PaymentOut(_Out):
    order_id: str
    account: str
    amount_cents: int
    status: Literal["paid"]
    paid_at: AwareDatetime


class CreditAccountOut(_Out):
    account: str = Field(description="<channel>:<buyer id>")
    open_cents: int = Field(description="what its orders on account owe, not yet paid nor cancelled")
    open_orders: int
    next_due_at: AwareDatetime | None


class CreditOrderOut(_Out):
    order_id: str
    amount_cents: int
    status: Literal["open", "paid", "cancelled"]
    limit_cents: int | None = Field(description="the limit it was checked against (null: released over it)")
    taken_at: AwareDatetime
    due_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    reference: str | None


class CreditAccountDetail(CreditAccountOut):
    orders: list[CreditOrderOut]


@router.post(
    "/orders/{order_id}/payment", response_model=PaymentOut,
    summary="Record that an order on account was paid",
    responses={404: {"description": "no such order"},
               409: {"description": "the order owes nothing on account, or not that amount"}},
)  # fmt: skip
async def record_payment(uow: Uow, order_id: str, body: PaymentRequest) -> dict[str, Any]:
    """Closes the order's credit (the buyer's open credit goes down) and emits order.payment-received, which
    clears finance's receivable."""
    return await _call(
        service.record_payment, uow, order_id, reference=body.reference, amount_cents=body.amount_cents
    )


@router.get("/credit-accounts", response_model=Page[CreditAccountOut], summary="Buyers' credit accounts")
async def list_credit_accounts(
    uow: Uow, account: Code | None = None, limit: Limit = 50, cursor: CursorParam = None
) -> dict[str, Any]:
    """In account order, keyset paged: follow `next_cursor`."""
    after = str(decode_cursor(cursor)[0]) if cursor else None
    items, total = await service.list_credit_accounts(uow, account=account, after=after, limit=limit)
    return cursor_page(items, total, limit=limit, key=lambda x: [x["account"]])


@router.get(
    "/credit-accounts/{account}", response_model=CreditAccountDetail,
    summary="A credit account and its orders",
    responses={404: {"description": "no such credit account"}},
)  # fmt: skip
async def get_credit_account(uow: Uow, account: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
    return await _call(service.credit_account, uow, account)
