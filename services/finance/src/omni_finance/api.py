"""REST routes: thin. Validate, call the service, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo
from omni_contracts import utcnow

from . import service, service_credit
from .domain.vouchers import VoucherKind

router = APIRouter(tags=["finance"])

T = TypeVar("T")
OrderId = Annotated[str, Query(min_length=1, max_length=128)]
Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
CreditAccount = Annotated[
    str, Query(min_length=1, max_length=200, description="the buyer's credit account (<channel>:<buyer>)")
]
ReceivableStatus = Literal["open", "cleared", "cancelled"]


class Page(PageInfo, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class VoucherLineOut(BaseModel):
    line_no: int
    account_code: str
    account_name: str
    debit_cents: int
    credit_cents: int


class VoucherOut(BaseModel):
    voucher_id: UUID
    order_id: str | None
    kind: VoucherKind
    source_event_id: UUID
    source_event_type: str
    summary: str
    currency: str
    total_cents: int
    reverses_voucher_id: UUID | None
    posted_at: datetime
    lines: list[VoucherLineOut]


class AccountOut(BaseModel):
    code: str
    name: str
    type: str
    normal_side: str


class AccountBalance(BaseModel):
    account_code: str
    account_name: str
    type: str
    normal_side: str
    debit_cents: int
    credit_cents: int
    balance_cents: int


class TrialBalance(BaseModel):
    currency: str
    order_id: str | None
    accounts: list[AccountBalance]
    total_debit_cents: int
    total_credit_cents: int
    balanced: bool


class ReceivableOut(BaseModel):
    order_id: str
    credit_account: str
    status: ReceivableStatus
    currency: str
    account_code: str
    amount_cents: int
    credited_cents: int
    paid_cents: int
    outstanding_cents: int
    due_at: datetime | None
    overdue: bool
    sale_voucher_id: UUID
    payment_voucher_id: UUID | None
    payment_reference: str | None
    booked_at: datetime
    cleared_at: datetime | None
    cancelled_at: datetime | None


@router.get("/vouchers", response_model=Page[VoucherOut])
async def list_vouchers(
    uow: Uow,
    order_id: OrderId | None = None,
    kind: VoucherKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    items, total = await service.list_vouchers(
        uow, order_id=order_id, kind=kind.value if kind else None, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/vouchers/{voucher_id}", response_model=VoucherOut)
async def get_voucher(uow: Uow, voucher_id: UUID) -> dict:
    try:
        return await service.get_voucher(uow, voucher_id)
    except service.VoucherNotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/orders/{order_id}/vouchers", response_model=Page[VoucherOut])
async def order_vouchers(
    uow: Uow,
    order_id: str,
    kind: VoucherKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    try:
        items, total = await service.order_vouchers(
            uow, order_id, kind=kind.value if kind else None, limit=limit, offset=offset
        )
    except service.OrderNotKnown as exc:
        raise HTTPException(404, str(exc)) from None
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/accounts", response_model=Page[AccountOut])
async def list_accounts(uow: Uow, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await service.list_accounts(uow, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/trial-balance", response_model=TrialBalance)
async def trial_balance(uow: Uow, order_id: OrderId | None = None, currency: Currency = "CNY") -> dict:
    """Per account of the chart: debit and credit totals and the balance on its normal side; debits must
    equal credits over all accounts (`balanced`). `order_id` narrows it to one order's vouchers."""
    return await service.trial_balance(uow, currency=currency, order_id=order_id)


@router.get("/receivables", response_model=Page[ReceivableOut])
async def list_receivables(
    uow: Uow,
    credit_account: CreditAccount | None = None,
    status: ReceivableStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict:
    """Orders sold on account (B2B credit terms) and what their buyers owe: the earliest due first. `open`:
    still owed (`overdue` once `due_at` passed), `cleared`: paid, `cancelled`: the sale was reversed."""
    items, total = await service_credit.list_receivables(
        uow, credit_account=credit_account, status=status, limit=limit, offset=offset, now=utcnow()
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}
