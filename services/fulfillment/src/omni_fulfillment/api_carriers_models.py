"""The shapes of carrier routing's REST API (api_carriers.py): what a body takes and an answer gives."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.paging import PageInfo, json_int

from .domain.carriers import SHANGHAI, Area, Band, Carrier, Health, Pin, PinKind, Promise, RegionDays
from .rows_carriers import carrier_doc, pin_doc, promise_doc

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
PlaceName = Annotated[str, Field(max_length=64)]
Grams = json_int(0, 1_000_000_000)
Fen = json_int(0, 100_000_000)
Days = json_int(0, 60)
BaseVersion = Field(None, description="the version the change starts from: refused (409) when no longer so")


# -- bodies and answers --------------------------------------------------------------------------------------
class AreaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: PlaceName = Field(min_length=1, description="as the platforms send it: 浙江 or 浙江省")
    city: PlaceName = ""
    district: PlaceName = Field("", description="needs its city")
    exclude: StrictBool = Field(False, description="true: the carrier does not serve it")

    def area(self) -> Area:
        return Area(self.province, self.city, self.district, self.exclude)


class BandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_g: Grams = Field(description="the band holds min_g <= weight")
    max_g: Grams | None = Field(None, description="and weight < max_g (null: no upper bound)")
    first_g: Grams = Field(description="the first weight (首重), grams")
    first_cents: Fen = Field(description="its price, fen")
    step_g: json_int(1, 1_000_000_000) = Field(description="the continued-weight unit (续重), grams")
    step_cents: Fen = Field(description="its price, fen, per unit or part of one (rounded up)")
    area: AreaIn | None = Field(None, description="the province or city it prices (null: everywhere)")

    def band(self) -> Band:
        area = self.area.area() if self.area else None
        return Band(
            self.min_g, self.max_g, self.first_g, self.first_cents, self.step_g, self.step_cents, area
        )


class RegionDaysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: AreaIn
    days: Days

    def value(self) -> RegionDays:
        return RegionDays(self.area.area(), self.days)


class CarrierBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    active: StrictBool = True
    health: Health = Health.HEALTHY
    health_note: str = Field("", max_length=500)
    timezone: str = Field(SHANGHAI, min_length=1, max_length=64, description="of its cut-off")
    cutoff: str | None = Field(
        None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM local; after it: the next day"
    )
    daily_capacity: json_int(0, 10_000_000) | None = Field(None, description="parcels a day; null: no limit")
    default_sla_days: Days = 3
    areas: list[AreaIn] = Field(default_factory=list, max_length=500, description="empty: everywhere")
    sla: list[RegionDaysIn] = Field(default_factory=list, max_length=500, description="days per region")
    bands: list[BandIn] = Field(min_length=1, max_length=200)
    base_version: json_int(0, 1_000_000_000) | None = BaseVersion

    def carrier(self, code: str) -> Carrier:
        return Carrier(
            code=code,
            name=self.name,
            bands=tuple(b.band() for b in self.bands),
            areas=tuple(a.area() for a in self.areas),
            sla=tuple(r.value() for r in self.sla),
            default_sla_days=self.default_sla_days,
            cutoff=time.fromisoformat(self.cutoff) if self.cutoff else None,
            timezone=self.timezone,
            daily_capacity=self.daily_capacity,
            health=self.health,
            health_note=self.health_note,
            active=self.active,
        )


class AreaOut(BaseModel):
    province: str
    city: str
    district: str
    exclude: bool


class BandOut(BaseModel):
    min_g: int
    max_g: int | None
    first_g: int
    first_cents: int
    step_g: int
    step_cents: int
    area: AreaOut | None


class RegionDaysOut(BaseModel):
    area: AreaOut
    days: int


class CarrierOut(BaseModel):
    code: str
    name: str
    active: bool
    health: Health
    health_note: str
    timezone: str
    cutoff: str | None
    daily_capacity: int | None
    default_sla_days: int
    areas: list[AreaOut]
    sla: list[RegionDaysOut]
    bands: list[BandOut]
    version: int

    @classmethod
    def of(cls, c: Carrier) -> CarrierOut:
        return cls.model_validate({**carrier_doc(c), "version": c.version})


class CarrierPage(PageInfo):
    items: list[CarrierOut]


class HealthBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Health
    note: str = Field("", max_length=500)


class _PinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: Code
    priority: json_int(-1_000_000, 1_000_000) = Field(0, description="higher first, within a kind")
    active: StrictBool = True
    base_version: json_int(0, 1_000_000_000) | None = BaseVersion

    def _pin(self, rule_id: str, kind: PinKind, **what: Any) -> Pin:
        return Pin(rule_id, self.carrier, kind, priority=self.priority, active=self.active, **what)


class SkuPinBody(_PinBody):
    kind: Literal["sku"] = Field(description="parcels holding this material")
    material_code: Code

    def pin(self, rule_id: str) -> Pin:
        return self._pin(rule_id, PinKind.SKU, material_code=self.material_code)


class ShopPinBody(_PinBody):
    kind: Literal["shop"] = Field(description="parcels of this shop's orders")
    shop_id: Code

    def pin(self, rule_id: str) -> Pin:
        return self._pin(rule_id, PinKind.SHOP, shop_id=self.shop_id)


class RegionPinBody(_PinBody):
    kind: Literal["region"] = Field(description="parcels to this province, city or district")
    area: AreaIn

    def pin(self, rule_id: str) -> Pin:
        return self._pin(rule_id, PinKind.REGION, area=self.area.area())


PinBody = Annotated[SkuPinBody | ShopPinBody | RegionPinBody, Field(discriminator="kind")]


class PinOut(BaseModel):
    rule_id: str
    carrier: str
    kind: PinKind
    material_code: str | None
    shop_id: str | None
    area: AreaOut | None
    priority: int
    active: bool
    version: int

    @classmethod
    def of(cls, p: Pin) -> PinOut:
        return cls.model_validate({**pin_doc(p), "version": p.version})


class PinPage(PageInfo):
    items: list[PinOut]


class PromiseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_days: Days = Field(description="the days promised where no region says otherwise")
    regions: list[RegionDaysIn] = Field(default_factory=list, max_length=500)
    base_version: json_int(0, 1_000_000_000) | None = BaseVersion


class PromiseOut(BaseModel):
    default_days: int
    regions: list[RegionDaysOut]
    version: int = Field(description="0: never set (the default, 3 days)")

    @classmethod
    def of(cls, p: Promise) -> PromiseOut:
        return cls.model_validate({**promise_doc(p), "version": p.version})


class VersionOut(BaseModel):
    version: int
    action: str
    actor: str
    at: datetime
    data: dict[str, Any]


class VersionPage(PageInfo):
    items: list[VersionOut]


class ConsideredOut(BaseModel):
    carrier: str
    chosen: bool
    reason: str
    cost_cents: int | None = None
    sla_days: int | None = None


class ChoiceOut(BaseModel):
    attempt: int
    carrier: str | None
    cost_cents: int | None
    weight_g: int
    sla_days: int | None
    promised_days: int
    ship_day: date | None
    current: bool = Field(description="the choice in force")
    reason: str
    refused_reason: str | None = Field(description="why the carrier refused the parcel at ship time")
    considered: list[ConsideredOut]
    chosen_at: datetime
    refused_at: datetime | None


class RefusedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: Code | None = Field(None, description="the carrier that refused (default: the task's)")
    reason: str = Field("", max_length=500, description="what the carrier said")


class RefusedOut(BaseModel):
    task_id: str
    refused: str
    carrier: str | None = Field(description="the next carrier (null: none can take it)")
    cost_cents: int | None
    reason: str
