"""The three layers of product master data (管理一次，处处生效) and their rules. Pure: no I/O.

- `Material` (基础物料): the stock-keeping unit.
- `SalesProduct` (销售商品): what is sold; a single (one material, qty 1) or a bundle of materials.
- `ChannelListing` (渠道商品): one listing on one channel's shop, mapped to a sales product.

Every aggregate carries a `version`: 1 when created, +1 on every change, unchanged when a write repeats
what is already stored (see `revise`). `updated_at` is bookkeeping and never part of the comparison.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from omni_contracts import bundles
from omni_contracts.events.product import CATEGORY_PATTERN, DEFAULT_TAX_RATE_BP, HANDLING_CLASSES, TAG_PATTERN

Kind = Literal["single", "bundle"]
ListingStatus = Literal["on_sale", "off_sale"]

# The VAT rates (basis points) PIM accepts: China's general rates 13 %, 9 %, 6 % and 0 (zero-rated and
# exempt goods). The contract itself takes 0..10000, so another rate is a change here, not a new version.
VAT_RATES_BP = (1300, 900, 600, 0)
MAX_TAGS = 32
MAX_TAG_LENGTH = 32
MAX_CATEGORY_LENGTH = 200


class ProductError(Exception):
    """A domain rule was broken; the message says which, in a sentence."""


class NotFound(ProductError):
    pass


class Conflict(ProductError):
    """The write clashes with what exists (a taken code, barcode or channel key)."""


class Invalid(ProductError):
    """The write is not acceptable as given (unknown material, bundle that contains itself, ...)."""


@dataclass(frozen=True)
class Material:
    code: str
    name: str
    unit: str
    weight_g: int
    barcode: str | None = None
    high_value: bool = False
    active: bool = True
    category: str = ""  # a code path (food/coffee/beans); "" is uncategorised
    tags: frozenset[str] = frozenset()
    handling: str = "normal"  # one of HANDLING_CLASSES
    tax_rate_bp: int = DEFAULT_TAX_RATE_BP  # one of VAT_RATES_BP
    version: int = 0
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Component:
    material_code: str
    qty: int
    price_weight: int


@dataclass(frozen=True)
class SalesProduct:
    code: str
    name: str
    kind: Kind
    components: tuple[Component, ...]
    active: bool = True
    version: int = 0
    updated_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ChannelListing:
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    sales_product_code: str
    price_cents: int
    channel_sku_id: str | None = None
    outer_id: str | None = None
    currency: str = "CNY"
    status: ListingStatus = "on_sale"
    version: int = 0
    updated_at: datetime | None = field(default=None, compare=False)

    @property
    def channel_key(self) -> tuple[str, str, str, str]:
        """What identifies the listing on its channel (a single-SKU item has no sku id: "")."""
        return (self.channel, self.shop_id, self.channel_item_id, self.channel_sku_id or "")


Aggregate = TypeVar("Aggregate", Material, SalesProduct, ChannelListing)


def revise(current: Aggregate | None, proposed: Aggregate) -> Aggregate | None:
    """The version rule: what to store for `proposed`, or None when it changes nothing.

    New: version 1. Changed: the current version + 1. Identical (every field but version and
    updated_at): None, so a repeated write neither bumps the version nor emits an event.
    """
    if current is None:
        return dataclasses.replace(proposed, version=1)
    if dataclasses.replace(proposed, version=current.version) == current:
        return None
    return dataclasses.replace(proposed, version=current.version + 1)


# --- materials -----------------------------------------------------------------------------------


def check_material(m: Material) -> None:
    problems = []
    if not m.code.strip():
        problems.append("code must not be blank")
    if not m.name.strip():
        problems.append("name must not be blank")
    if not m.unit.strip():
        problems.append("unit must not be blank")
    if m.weight_g < 0:
        problems.append(f"weight_g must not be negative, got {m.weight_g}")
    if m.barcode is not None and not m.barcode.strip():
        problems.append("barcode must be absent or not blank")
    problems.extend(material_fact_problems(m))
    if problems:
        raise Invalid(f"material {m.code}: " + "; ".join(problems))


def material_fact_problems(m: Material) -> list[str]:
    """What is wrong with the facts order rules decide on: category, tags, handling, VAT rate."""
    problems = []
    if len(m.category) > MAX_CATEGORY_LENGTH or not re.fullmatch(CATEGORY_PATTERN, m.category):
        problems.append(
            f"category must be lowercase segments of a-z, 0-9, _ and - joined by / (e.g. food/coffee/beans), "
            f"at most {MAX_CATEGORY_LENGTH} characters, got {m.category!r}"
        )
    bad_tags = sorted(t for t in m.tags if len(t) > MAX_TAG_LENGTH or not re.fullmatch(TAG_PATTERN, t))
    if bad_tags:
        got = ", ".join(map(repr, bad_tags))
        problems.append(f"tags must be 1 to {MAX_TAG_LENGTH} characters of a-z, 0-9, _ and -, got {got}")
    if len(m.tags) > MAX_TAGS:
        problems.append(f"at most {MAX_TAGS} tags, got {len(m.tags)}")
    if m.handling not in HANDLING_CLASSES:
        problems.append(f"handling must be one of {', '.join(HANDLING_CLASSES)}, got {m.handling!r}")
    if m.tax_rate_bp not in VAT_RATES_BP:
        rates = ", ".join(str(r) for r in VAT_RATES_BP)
        problems.append(
            f"tax_rate_bp must be one of {rates} (basis points: 1300 = 13 %), got {m.tax_rate_bp}"
        )
    return problems


def in_category(category: str, prefix: str) -> bool:
    """Whether `category` is `prefix` or under it, by whole segments: food/coffee covers food/coffee/beans,
    not food/coffeemaker."""
    return category == prefix or category.startswith(prefix + "/")


@dataclass(frozen=True)
class MaterialFilters:
    """What a materials list is narrowed to; None is no filter."""

    q: str | None = None  # code or name contains (case-insensitive)
    active: bool | None = None
    category: str | None = None  # the category or anything under it (`in_category`)
    tag: str | None = None  # has this tag
    handling: str | None = None

    def matches(self, m: Material) -> bool:
        q = (self.q or "").lower()
        return (
            (not q or q in m.code.lower() or q in m.name.lower())
            and (self.active is None or m.active == self.active)
            and (not self.category or in_category(m.category, self.category))
            and (not self.tag or self.tag in m.tags)
            and (not self.handling or m.handling == self.handling)
        )


def check_material_code_free(code: str, sales_product_kind: str | None) -> None:
    """A new material may not take the code of an existing sales product (one namespace of codes)."""
    if sales_product_kind is not None:
        raise Conflict(
            f"code {code} is already used by a sales product ({sales_product_kind}); choose another"
        )


# --- sales products ------------------------------------------------------------------------------


def check_sales_product(sp: SalesProduct, existing_materials: Collection[str]) -> None:
    """Every rule of a sales product. `existing_materials`: which of its component codes and its own
    code are material codes. Raises `Invalid` listing every problem, or `Conflict` on a taken code."""
    problems: list[str] = []
    if not sp.name.strip():
        problems.append("name must not be blank")
    codes = [c.material_code for c in sp.components]
    if not sp.components:
        problems.append(f"a {sp.kind} needs at least one component")
    elif sp.kind == "single":
        if len(sp.components) != 1:
            problems.append(f"a single has exactly one component, got {len(sp.components)}")
        elif sp.components[0].qty != 1:
            problems.append(f"a single's component has qty 1, got {sp.components[0].qty}")
    for c in sp.components:
        if c.qty <= 0:
            problems.append(f"component {c.material_code}: qty must be positive, got {c.qty}")
        if c.price_weight <= 0:
            problems.append(
                f"component {c.material_code}: price_weight must be positive, got {c.price_weight}"
            )
    dupes = [code for code, n in Counter(codes).items() if n > 1]
    if dupes:
        problems.append(f"duplicate component materials: {', '.join(dupes)}")
    self_ref = sp.code in codes and sp.kind == "bundle"
    if self_ref:
        problems.append(f"bundle {sp.code} contains itself")
    unknown = [code for code in dict.fromkeys(codes) if code not in existing_materials]
    if self_ref:
        unknown = [code for code in unknown if code != sp.code]
    if unknown:
        problems.append(f"unknown material{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    if problems:
        raise Invalid(f"sales product {sp.code}: " + "; ".join(problems))
    shares_material_code = sp.code in existing_materials
    if shares_material_code and not (sp.kind == "single" and codes == [sp.code]):
        raise Conflict(
            f"code {sp.code} is a material's code; a sales product may share it only as the single "
            f"of material {sp.code}"
        )


def components_for_decomposition(sp: SalesProduct) -> list[bundles.Component]:
    return [bundles.Component(c.material_code, c.qty, c.price_weight) for c in sp.components]


def decompose(sp: SalesProduct, qty: int, paid_cents: int) -> list[bundles.MaterialLine]:
    """The material lines of `qty` units of `sp` paid `paid_cents` (the contract's reference split)."""
    if qty <= 0:
        raise Invalid(f"qty must be positive, got {qty}")
    if paid_cents < 0:
        raise Invalid(f"paid_cents must not be negative, got {paid_cents}")
    return bundles.decompose(components_for_decomposition(sp), qty, paid_cents)


# --- channel listings ----------------------------------------------------------------------------


def check_listing(listing: ChannelListing, sales_product_exists: bool) -> None:
    problems = []
    for name in ("listing_id", "channel", "shop_id", "channel_item_id"):
        if not getattr(listing, name).strip():
            problems.append(f"{name} must not be blank")
    for name in ("channel_sku_id", "outer_id"):
        value = getattr(listing, name)
        if value is not None and not value.strip():
            problems.append(f"{name} must be absent or not blank")
    if listing.price_cents < 0:
        problems.append(f"price_cents must not be negative, got {listing.price_cents}")
    if not sales_product_exists:
        problems.append(f"unknown sales product {listing.sales_product_code}")
    if problems:
        raise Invalid(f"channel listing {listing.listing_id}: " + "; ".join(problems))


def check_channel_key_free(listing: ChannelListing, holder: str | None) -> None:
    """`holder`: the listing id that already has this channel key, if any."""
    if holder is not None and holder != listing.listing_id:
        channel, shop, item, sku = listing.channel_key
        raise Conflict(
            f"channel {channel} shop {shop} item {item} sku {sku or '(none)'} is already listed as {holder}"
        )
