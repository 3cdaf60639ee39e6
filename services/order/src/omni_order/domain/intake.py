"""Intake: find each channel line's listing, decompose it into material lines, check the money.

An order that cannot be understood is never dropped: the plan lists its problems, each a sentence an
operator can act on, and the order is kept in status `exception`. All problems are reported at once (not
only the first), so one look at the order tells the operator everything to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from omni_contracts.bundles import Component, decompose
from omni_contracts.events.channel import ChannelOrderLine, ChannelOrderReceivedV1

# Reason codes (stable, machine-readable; `reason` carries the words).
UNKNOWN_LISTING = "unknown_listing"
UNKNOWN_PRODUCT = "unknown_product"
INACTIVE_PRODUCT = "inactive_product"
UNKNOWN_MATERIAL = "unknown_material"
INACTIVE_MATERIAL = "inactive_material"
BAD_COMPONENTS = "bad_components"
AMOUNTS_MISMATCH = "amounts_mismatch"
DUPLICATE_LINE = "duplicate_line"
PICKUP_NODE_MISSING = "pickup_node_missing"
UNFULFILLABLE = "unfulfillable"


# -- the catalog projection, as the domain sees it -----------------------------------------------
@dataclass(frozen=True)
class Listing:
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None
    outer_id: str | None
    sales_product_code: str
    status: str = "on_sale"
    price_cents: int = 0  # the listing's price per unit (the review's price floor compares with it)


@dataclass(frozen=True)
class SalesProduct:
    code: str
    name: str
    active: bool
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Material:
    code: str
    active: bool
    # the facts order rules decide on (product.material.upserted v2; defaults: what v1 meant)
    category: str = ""
    tags: frozenset[str] = frozenset()
    handling: str = "normal"
    weight_g: int = 0
    high_value: bool = False
    tax_rate_bp: int = 1300


class Catalog:
    """Listings, sales products and materials, indexed for the lookups intake makes."""

    def __init__(
        self,
        listings: Iterable[Listing] = (),
        products: Iterable[SalesProduct] = (),
        materials: Iterable[Material] = (),
    ) -> None:
        self.products = {p.code: p for p in products}
        self.materials = {m.code: m for m in materials}
        self._by_sku: dict[tuple[str, str, str, str | None], list[Listing]] = {}
        self._by_outer: dict[tuple[str, str, str], list[Listing]] = {}
        for item in listings:
            self._by_sku.setdefault(
                (item.channel, item.shop_id, item.channel_item_id, item.channel_sku_id), []
            ).append(item)
            if item.outer_id:
                self._by_outer.setdefault((item.channel, item.shop_id, item.outer_id), []).append(item)

    def find_listing(self, channel: str, shop_id: str, line: ChannelOrderLine) -> Listing | None:
        """By (channel, shop, item, sku); else by (channel, shop, outer_sku_id or outer_iid).

        When several listings match (a relisted item), one on sale wins, then the smallest listing id, so the
        answer never depends on the order rows came back in.
        """
        found = self._by_sku.get((channel, shop_id, line.channel_item_id, line.channel_sku_id))
        outer = line.outer_sku_id or line.outer_iid
        if not found and outer:
            found = self._by_outer.get((channel, shop_id, outer))
        if not found:
            return None
        return min(found, key=lambda x: (x.status != "on_sale", x.listing_id))


# -- the plan ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class LineMatch:
    """How one channel line was understood."""

    position: int  # 1-based, as operators count lines
    channel_line_id: str
    listing_id: str | None
    sales_product_code: str | None


@dataclass(frozen=True)
class PlannedLine:
    """One material line: `position` is its place in the order, 1-based."""

    position: int
    channel_line_id: str
    sales_product_code: str
    material_code: str
    qty: int
    amount_cents: int


@dataclass(frozen=True)
class IntakePlan:
    matches: list[LineMatch]
    lines: list[PlannedLine]
    goods_paid_cents: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def reason_code(self) -> str | None:
        return self.problems[0].code if self.problems else None

    @property
    def reason(self) -> str:
        return "; ".join(p.message for p in self.problems)


def yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _describe(channel: str, shop_id: str, line: ChannelOrderLine) -> str:
    sku = f" sku {line.channel_sku_id}" if line.channel_sku_id else " (no sku)"
    if line.outer_sku_id:
        code = f" (outer_sku_id {line.outer_sku_id})"
    elif line.outer_iid:
        code = f" (outer_iid {line.outer_iid})"
    else:
        code = " (no merchant code)"
    return f"no {channel} listing for item {line.channel_item_id}{sku}{code} in shop {shop_id}"


def plan_intake(order: ChannelOrderReceivedV1, catalog: Catalog) -> IntakePlan:
    """Understand a channel order: material lines that add up, or every reason it cannot be accepted."""
    problems: list[Problem] = []
    matches: list[LineMatch] = []
    lines: list[PlannedLine] = []
    goods_paid = order.paid_cents - order.post_fee_cents

    if order.delivery == "store_pickup" and not order.pickup_node:
        problems.append(
            Problem(PICKUP_NODE_MISSING, "delivery is store_pickup but the order names no pickup store")
        )

    seen: dict[str, int] = {}
    for n, line in enumerate(order.lines, start=1):
        where = f"line {n}"
        if line.channel_line_id in seen:
            problems.append(
                Problem(
                    DUPLICATE_LINE,
                    f"{where}: channel line id {line.channel_line_id} repeats line "
                    f"{seen[line.channel_line_id]}",
                )
            )
        seen.setdefault(line.channel_line_id, n)
        listing = catalog.find_listing(order.channel, order.shop_id, line)
        if listing is None:
            matches.append(LineMatch(n, line.channel_line_id, None, None))
            problems.append(
                Problem(UNKNOWN_LISTING, f"{where}: {_describe(order.channel, order.shop_id, line)}")
            )
            continue
        matches.append(LineMatch(n, line.channel_line_id, listing.listing_id, listing.sales_product_code))
        line_problems = _check_product(where, listing, catalog)
        if line_problems:
            problems.extend(line_problems)
            continue
        product = catalog.products[listing.sales_product_code]
        try:
            material_lines = decompose(product.components, line.qty, line.paid_cents)
        except ValueError as exc:
            problems.append(
                Problem(BAD_COMPONENTS, f"{where}: sales product {product.code} cannot be split: {exc}")
            )
            continue
        for ml in material_lines:
            lines.append(
                PlannedLine(
                    len(lines) + 1,
                    line.channel_line_id,
                    product.code,
                    ml.material_code,
                    ml.qty,
                    ml.amount_cents,
                )
            )

    lines_paid = sum(line.paid_cents for line in order.lines)
    if order.post_fee_cents > order.paid_cents:
        problems.append(
            Problem(
                AMOUNTS_MISMATCH,
                f"freight {yuan(order.post_fee_cents)} is more than the {yuan(order.paid_cents)} paid",
            )
        )
    elif lines_paid != goods_paid:
        problems.append(
            Problem(
                AMOUNTS_MISMATCH,
                f"the lines' paid amounts add up to {yuan(lines_paid)} {order.currency} but paid "
                f"{yuan(order.paid_cents)} minus freight {yuan(order.post_fee_cents)} is {yuan(goods_paid)}",
            )
        )
    if problems:
        return IntakePlan(matches, [], max(goods_paid, 0), problems)
    assert sum(line.amount_cents for line in lines) == goods_paid  # decompose() adds up to the cent
    return IntakePlan(matches, lines, goods_paid)


def _check_product(where: str, listing: Listing, catalog: Catalog) -> list[Problem]:
    product = catalog.products.get(listing.sales_product_code)
    if product is None:
        return [
            Problem(
                UNKNOWN_PRODUCT,
                f"{where}: listing {listing.listing_id} maps to sales product {listing.sales_product_code}, "
                "which is not in the catalog",
            )
        ]
    if not product.active:
        return [Problem(INACTIVE_PRODUCT, f"{where}: sales product {product.code} is inactive")]
    problems = []
    for c in product.components:
        material = catalog.materials.get(c.material_code)
        if material is None:
            problems.append(
                Problem(
                    UNKNOWN_MATERIAL,
                    f"{where}: sales product {product.code} needs material {c.material_code}, "
                    "which is not in the catalog",
                )
            )
        elif not material.active:
            problems.append(
                Problem(
                    INACTIVE_MATERIAL,
                    f"{where}: material {c.material_code} of sales product {product.code} is inactive",
                )
            )
    return problems


# -- roles (who sells to whom) -------------------------------------------------------------------
# Channels that are the brand's own (no third-party platform takes part in the trade).
OWN_CHANNELS = frozenset({"mall", "miniprogram", "youzan", "pos", "own", "wechat"})


@dataclass(frozen=True)
class Roles:
    owner: str
    seller: str
    channel: str
    fulfiller: str | None
    platform: str | None


def roles_for(order: ChannelOrderReceivedV1) -> Roles:
    """The roles of the seed's business-model table, as far as the order itself tells them.

    B2C / S2B2C / B2B: the brand owns and sells; O2O: the store sells (and fulfils a pickup); BBC: the shop.
    The fulfiller of a shipped order is known only once it is allocated.
    """
    shop = f"{order.channel}:{order.shop_id}"
    seller = "brand"
    if order.business_model == "O2O" and order.pickup_node:
        seller = f"store:{order.pickup_node}"
    elif order.business_model == "BBC":
        seller = f"shop:{order.shop_id}"
    fulfiller = (
        f"node:{order.pickup_node}" if order.delivery == "store_pickup" and order.pickup_node else None
    )
    platform = None if order.channel in OWN_CHANNELS else order.channel
    return Roles("brand", seller, shop, fulfiller, platform)


# -- stock dimension: which node each material line ships from -----------------------------------
@dataclass(frozen=True)
class LineRef:
    line_id: str
    material_code: str
    qty: int


@dataclass(frozen=True)
class TaskLine:
    task_id: str
    node_code: str
    reservation_id: str
    material_code: str
    qty: int


@dataclass(frozen=True)
class LineAllocation:
    line_id: str
    task_id: str
    node_code: str
    reservation_id: str
    qty: int


def assign_nodes(
    lines: Sequence[LineRef], tasks: Sequence[TaskLine]
) -> tuple[list[LineAllocation], list[str]]:
    """Spread the tasks' (material, qty) over the order's material lines, in line order.

    Returns the allocations and, as sentences, any quantity that does not match (a task ships a material
    the order lacks, or ships more or less of it than the order holds).
    """
    remaining = {line.line_id: line.qty for line in lines}
    allocations: list[LineAllocation] = []
    problems: list[str] = []
    for t in tasks:
        left = t.qty
        for line in lines:
            if left == 0:
                break
            if line.material_code != t.material_code or remaining[line.line_id] == 0:
                continue
            take = min(left, remaining[line.line_id])
            remaining[line.line_id] -= take
            left -= take
            allocations.append(LineAllocation(line.line_id, t.task_id, t.node_code, t.reservation_id, take))
        if left:
            problems.append(
                f"task {t.task_id} at {t.node_code} holds {left} more {t.material_code} than the order"
            )
    problems.extend(
        f"line {line.line_id} ({line.material_code}): {remaining[line.line_id]} of {line.qty} not allocated"
        for line in lines
        if remaining[line.line_id]
    )
    return allocations, problems
