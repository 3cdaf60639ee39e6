"""Odoo Point of Sale (`pos.order.create_from_ui`) read exactly: pure, no I/O.

The body is the list `create_from_ui` receives: `[{"id": <uid>, "data": <order>, "to_invoice": bool}, …]`.
Each order is read on its own (`read_orders`): one bad order does not spoil the others.

- Money: JSON numbers in yuan, computed by the till in floating point; read from the JSON text as Decimal and
  rounded half-up to the fen (float noise such as 262.83000000000004 is what rounding is for; a value more
  than 0.0005 yuan from a whole fen is refused as not an amount).
- Lines: `[[0, 0, {…}]]` (ORM create commands). A line whose `price_unit` is negative is a discount or a
  reward (pos_discount, pos_loyalty): its amount is re-allocated to the goods lines in proportion to what each
  was charged (largest remainder, ties to the earlier line), so every goods line says what was paid for it.
- A sale has positive quantities; a till return (a new order, v15+ with `refunded_orderline_id`) negative
  ones. An order with both (an exchange) is refused: ring it up as a return and a sale.
- Payments: `statement_ids` of `[[0, 0, {…}]]`; v13+ `payment_method_id`, v12 and before `journal_id`. The
  till's tender is kept as `payment_method_id:<id>` / `journal_id:<id>`.
- Time: `date_order` (v13+) or `creation_date` (v12 and before), UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import Problem
from .money import largest_remainder

CHANNEL = "pos"
MAX_ORDERS = 200  # per call: a till syncs its queue in small batches
_FEN = Decimal("0.01")
_NOISE = Decimal("0.0005")
_CODE_IN_NAME = re.compile(r"^\[([^\]\s]{1,64})\]")
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


@dataclass(frozen=True)
class PosLine:
    line_id: str
    product_id: str
    default_code: str | None
    title: str
    qty: int  # positive: sold; a return's lines are read with their sign turned (so also positive)
    unit_price_cents: int
    charged_cents: int  # price_subtotal_incl (sign turned for a return)
    paid_cents: int  # after the order-level discounts are re-allocated
    refunded_line_ref: str | None


@dataclass(frozen=True)
class PosPayment:
    pos_method: str
    amount_cents: int  # tendered (a sale) or paid back (a return): never negative
    transaction_id: str


@dataclass(frozen=True)
class PosOrder:
    uid: str
    name: str
    session_id: str
    is_return: bool
    occurred_at: datetime
    lines: tuple[PosLine, ...]
    payments: tuple[PosPayment, ...]
    total_cents: int
    tax_cents: int
    change_cents: int


@dataclass(frozen=True)
class OrderProblems:
    """An order that cannot be taken: its uid when it could be read, and every fault found."""

    uid: str | None
    problems: tuple[Problem, ...]


class _Faults(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


def orders_of(doc: Any) -> tuple[list[Any], list[Problem]]:
    """The list of `{"id", "data", "to_invoice"}` of a create_from_ui body (also `{"orders": [...]}`)."""
    if isinstance(doc, dict) and "orders" in doc:
        doc = doc["orders"]
    if not isinstance(doc, list):
        return [], [Problem("orders", "must be the list create_from_ui receives: [{id, data, to_invoice}]")]
    if not doc:
        return [], [Problem("orders", "is empty: send at least one order")]
    if len(doc) > MAX_ORDERS:
        return [], [Problem("orders", f"has {len(doc)} orders; send at most {MAX_ORDERS} per call")]
    return doc, []


def read_order(item: Any, path: str) -> PosOrder | OrderProblems:
    """One element of the list, read whole: a PosOrder, or every problem found (with the uid if readable)."""
    if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
        return OrderProblems(
            None, (Problem(f"{path}.data", "must be the order object {name, uid, lines, …}"),)
        )
    data = item["data"]
    uid = data.get("uid")
    r = _Reader(f"{path}.data")
    if not isinstance(uid, str) or not _UID.match(uid):
        r.fault("uid", "must be the till's order id such as 00012-003-0045 (letters, digits, . _ : -)")
        uid = None
    elif item.get("id") not in (None, uid):
        r.fault("id", f"must be the order's uid {uid!r} (create_from_ui's id is the uid)")
    try:
        order = r.order(data, uid or "")
    except _Faults:
        order = None
    if r.problems or order is None:
        return OrderProblems(uid, tuple(r.problems))
    return order


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def fault(self, field: str, message: str) -> None:
        self.problems.append(Problem(f"{self.path}.{field}" if field else self.path, message))

    def stop(self) -> None:
        if self.problems:
            raise _Faults(self.problems)

    # -- values --
    def fen(self, value: Any, field: str) -> int:
        """A yuan JSON number (Decimal or int) -> signed fen, rounded half-up; 0 after a fault."""
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fault(field, f"must be a yuan amount as a JSON number like 3099.0, got {_kind(value)}")
            return 0
        amount = Decimal(value)
        if not amount.is_finite() or abs(amount) >= Decimal(10) ** 12:
            self.fault(field, f"is not a usable amount: {value}")
            return 0
        rounded = amount.quantize(_FEN, rounding=ROUND_HALF_UP)
        if abs(amount - rounded) > _NOISE:
            self.fault(field, f"has more than 2 decimals: {value} (yuan to the fen)")
            return 0
        return int(rounded * 100)

    def qty(self, value: Any, field: str) -> int:
        whole = isinstance(value, int | Decimal) and not isinstance(value, bool) and abs(value) < 10**6
        if not whole or Decimal(value) % 1 != 0:
            self.fault(
                field,
                f"must be a whole number of units (weighed goods are not supported), got {_kind(value)}",
            )
            return 0
        if value == 0:
            self.fault(field, "must not be 0")
        return int(value)

    def ident(self, value: Any, field: str) -> str:
        bad = isinstance(value, bool) or not isinstance(value, int | str) or str(value) in ("", "0")
        if bad or len(str(value)) > 32:
            self.fault(field, f"must be the id the till gave (an integer), got {_kind(value)}")
            return ""
        return str(value)

    def when(self, data: dict[str, Any]) -> datetime:
        field = "date_order" if "date_order" in data else "creation_date"
        value = data.get(field)
        if not isinstance(value, str):
            self.fault("date_order", "the sale time is missing: date_order (v13+) or creation_date (≤v12)")
            return datetime.min.replace(tzinfo=UTC)
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fault(field, f"must be a UTC time like 2025-06-12 02:15:30, got {value!r}")
            return datetime.min.replace(tzinfo=UTC)
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)

    def commands(self, data: dict[str, Any], field: str) -> list[tuple[str, dict[str, Any]]]:
        """`[[0, 0, {…}], …]` -> (path, values) per create command."""
        value = data.get(field)
        if not isinstance(value, list):
            self.fault(field, "must be a list of ORM create commands [[0, 0, {…}], …]")
            return []
        out = []
        for i, cmd in enumerate(value):
            ok = isinstance(cmd, list) and len(cmd) == 3 and cmd[0] == 0 and isinstance(cmd[2], dict)
            if not ok:
                self.fault(f"{field}[{i}]", "must be an ORM create command [0, 0, {…}]")
                continue
            out.append((f"{field}[{i}][2]", cmd[2]))
        return out

    # -- the order --
    def order(self, data: dict[str, Any], uid: str) -> PosOrder:
        occurred_at = self.when(data)
        raw = [self.line(v, p) for p, v in self.commands(data, "lines")]
        payments = [self.payment(v, p) for p, v in self.commands(data, "statement_ids")]
        total = self.fen(data.get("amount_total"), "amount_total")
        tax = self.fen(data.get("amount_tax"), "amount_tax")
        paid = self.fen(data.get("amount_paid"), "amount_paid")
        change = self.fen(data.get("amount_return", 0), "amount_return")
        self.stop()
        goods = [x for x in raw if x["unit"] >= 0]
        if not goods:
            self.fault("lines", "has no goods line (only discounts, or none at all)")
            self.stop()
        is_return = goods[0]["qty"] < 0
        sign = -1 if is_return else 1
        for x in goods:
            if (x["qty"] < 0) != is_return:
                self.fault(x["path"] + ".qty", "sold and returned goods in one order (an exchange): "
                           "ring up the return and the sale as two orders")  # fmt: skip
            elif x["charged"] * sign < 0:
                self.fault(x["path"] + ".price_subtotal_incl", "has the opposite sign of its qty")
        self.stop()
        lines = self.allocate(goods, [x for x in raw if x["unit"] < 0], sign)
        self.totals(lines, payments, sign * total, sign * tax, sign * paid, change, sign)
        self.stop()
        return PosOrder(
            uid=uid,
            name=str(data.get("name") or ""),
            session_id=str(data.get("pos_session_id") or ""),
            is_return=is_return,
            occurred_at=occurred_at,
            lines=tuple(lines),
            payments=tuple(PosPayment(p, sign * a, t) for p, a, t in payments),
            total_cents=sign * total,
            tax_cents=sign * tax,
            change_cents=change,
        )

    def line(self, v: dict[str, Any], path: str) -> dict[str, Any]:
        self.path, outer = f"{self.path}.{path}", self.path
        try:
            name = v.get("full_product_name") or v.get("description") or ""
            code = v.get("default_code")
            if not isinstance(code, str) or not code:
                found = _CODE_IN_NAME.match(name) if isinstance(name, str) else None
                code = found.group(1) if found else None
            refunded = v.get("refunded_orderline_id")
            discount = v.get("discount", 0)
            if (
                isinstance(discount, bool)
                or not isinstance(discount, int | Decimal)
                or not 0 <= discount <= 100
            ):
                self.fault("discount", f"must be a percentage from 0 to 100, got {_kind(discount)}")
            return {
                "path": path,
                "line_id": self.ident(v.get("id"), "id"),
                "product_id": self.ident(v.get("product_id"), "product_id"),
                "code": code,
                "title": name if isinstance(name, str) else "",
                "qty": self.qty(v.get("qty"), "qty"),
                "unit": self.fen(v.get("price_unit"), "price_unit"),
                "charged": self.fen(v.get("price_subtotal_incl"), "price_subtotal_incl"),
                "refunded": str(refunded)
                if isinstance(refunded, int) and not isinstance(refunded, bool)
                else None,
            }
        finally:
            self.path = outer

    def payment(self, v: dict[str, Any], path: str) -> tuple[str, int, str]:
        key = "payment_method_id" if "payment_method_id" in v else "journal_id"
        method = self.ident(v.get(key), f"{path}.{key}")
        amount = self.fen(v.get("amount"), f"{path}.amount")
        tx = v.get("transaction_id")
        return f"{key}:{method}", amount, tx[:128] if isinstance(tx, str) else ""

    def allocate(
        self, goods: list[dict[str, Any]], rebates: list[dict[str, Any]], sign: int
    ) -> list[PosLine]:
        """Spread the discount / reward lines over the goods by what each was charged."""
        charged = [sign * x["charged"] for x in goods]
        rebate = -sign * sum(x["charged"] for x in rebates)
        if rebate < 0:
            self.fault("lines", "the discount lines add to the bill instead of taking off it")
        if rebate > sum(charged):
            self.fault(
                "lines", f"the discount lines ({rebate} fen) take off more than the goods ({sum(charged)})"
            )
        self.stop()
        shares = largest_remainder(rebate, charged)
        return [
            PosLine(
                line_id=x["line_id"],
                product_id=x["product_id"],
                default_code=x["code"],
                title=x["title"],
                qty=sign * x["qty"],
                unit_price_cents=x["unit"],
                charged_cents=c,
                paid_cents=c - s,
                refunded_line_ref=x["refunded"],
            )
            for x, c, s in zip(goods, charged, shares, strict=True)
        ]

    def totals(
        self,
        lines: list[PosLine],
        payments: list[tuple[str, int, str]],
        total: int,
        tax: int,
        paid: int,
        change: int,
        sign: int,
    ) -> None:
        if sum(x.paid_cents for x in lines) != total:
            self.fault(
                "amount_total", f"is {total} fen but the lines add up to {sum(x.paid_cents for x in lines)}"
            )
        if not 0 <= tax <= total:
            self.fault("amount_tax", f"must be between 0 and the total ({total} fen), got {tax}")
        if change < 0:
            self.fault("amount_return", "the change given must not be negative")
        for i, (_, amount, _) in enumerate(payments):
            if sign * amount < 0:
                self.fault(f"statement_ids[{i}][2].amount", "has the opposite sign of the order")
        tendered = sum(sign * a for _, a, _ in payments)
        if paid != total:
            self.fault(
                "amount_paid", f"is {paid} fen but the order is {total}: only a fully paid sale is taken"
            )
        elif tendered - change != total:
            msg = f"the payments ({tendered} fen) less the change ({change}) are not the total ({total})"
            self.fault("statement_ids", msg)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    return type(value).__name__
