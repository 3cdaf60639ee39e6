"""REST routes of materials: thin. Validate, call the service, shape the answer (conventions: api.py).

A material carries the facts order rules decide on (services/product/docs/material-facts.md): `category`
(a code path), `tags`, `handling` and `tax_rate_bp`; the list filters by each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import status as http
from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from omni_chassis.app import Uow
from omni_chassis.paging import JsonInt, Limit, Offset
from omni_contracts.events.product import CATEGORY_PATTERN, TAG_PATTERN, Handling

from . import service
from .api_common import (
    MAX_INT32,
    NOT_BLANK,
    PUT_422,
    ChannelId,
    Code,
    In,
    Page,
    PathCode,
    Text,
    domain_errors,
    put_status,
    same_id,
)
from .domain.model import (
    MAX_CATEGORY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    VAT_RATES_BP,
    Material,
    MaterialFilters,
)

router = APIRouter()

Category = Annotated[str, StringConstraints(max_length=MAX_CATEGORY_LENGTH, pattern=CATEGORY_PATTERN)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_LENGTH, pattern=TAG_PATTERN)]
_RATES = ", ".join(str(r) for r in VAT_RATES_BP)


def _vat_rate(bp: int) -> int:
    if bp not in VAT_RATES_BP:
        raise ValueError(f"not a VAT rate PIM accepts: one of {_RATES} (basis points: 1300 = 13 %)")
    return bp


TaxRateBp = Annotated[
    JsonInt, AfterValidator(_vat_rate), Field(json_schema_extra={"enum": list(VAT_RATES_BP)})
]


# --- materials -----------------------------------------------------------------------------------


class MaterialFields(In):
    name: Text
    barcode: ChannelId | None = None
    unit: Annotated[
        str,
        StringConstraints(min_length=1, max_length=16, pattern=NOT_BLANK),
        AfterValidator(str.strip),
    ]
    weight_g: JsonInt = Field(ge=0, le=MAX_INT32, description="grams")
    high_value: StrictBool = False
    active: StrictBool = True
    category: Category = Field("", description='a code path, e.g. food/coffee/beans; "" is uncategorised')
    tags: list[Tag] = Field(
        [], max_length=MAX_TAGS, description="short codes, e.g. gift, fragile, new; repeats are kept once"
    )
    handling: Handling = Field(
        "normal",
        description="virtual / service: completed without shipping; cold_chain / frozen / oversize: "
        "a parcel of their own",
    )
    tax_rate_bp: TaxRateBp = Field(
        1300, description=f"VAT rate in basis points (1300 = 13 %): one of {_RATES}"
    )

    def to_domain(self, code: str) -> Material:
        fields = self.model_dump(exclude={"code", "tags"})
        return Material(code=code, **fields, tags=frozenset(self.tags))


class MaterialCreate(MaterialFields):
    code: Code


class MaterialPut(MaterialFields):
    code: Code | None = Field(None, description="optional; must equal the path's code")


class MaterialOut(BaseModel):
    code: str
    name: str
    barcode: str | None
    unit: str
    weight_g: int
    high_value: bool
    active: bool
    category: str
    tags: list[str] = Field(description="sorted")
    handling: str
    tax_rate_bp: int
    version: int
    updated_at: datetime | None

    @classmethod
    def of(cls, m: Material) -> MaterialOut:
        return cls.model_validate({**vars(m), "tags": sorted(m.tags)})


@router.post("/materials", status_code=http.HTTP_201_CREATED, tags=["materials"])
async def create_material(body: MaterialCreate, uow: Uow) -> MaterialOut:
    with domain_errors():
        return MaterialOut.of(await service.create_material(uow, body.to_domain(body.code)))


@router.put("/materials/{code}", tags=["materials"], responses={201: {"model": MaterialOut}, 422: PUT_422})
async def put_material(code: PathCode, body: MaterialPut, uow: Uow, response: Response) -> MaterialOut:
    same_id(code, body.code, "code")
    with domain_errors():
        written = await service.put_material(uow, body.to_domain(code))
    put_status(response, written.created)
    return MaterialOut.of(written.entity)


@router.get("/materials/{code}", tags=["materials"])
async def get_material(code: str, uow: Uow) -> MaterialOut:
    with domain_errors():
        return MaterialOut.of(await service.get_material(uow, code))


@router.get("/materials", tags=["materials"])
async def list_materials(
    uow: Uow,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=100, description="code or name contains")] = None,
    active: bool | None = None,
    category: Annotated[
        Category | None, Query(description="this category or anything under it (whole segments)")
    ] = None,
    tag: Annotated[Tag | None, Query(description="has this tag")] = None,
    handling: Handling | None = None,
) -> Page[MaterialOut]:
    filters = MaterialFilters(q=q, active=active, category=category, tag=tag, handling=handling)
    with domain_errors():
        page = await service.list_materials(uow, filters, limit=limit, offset=offset)
    return Page(items=[MaterialOut.of(m) for m in page.items], total=page.total, limit=limit, offset=offset)
