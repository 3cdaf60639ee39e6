"""Value types shared by several events. Money is integer cents (fen); quantities are integers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Cents = Annotated[int, Field(description="an amount in integer cents (fen)")]
NonNegCents = Annotated[int, Field(ge=0, description="a non-negative amount in integer cents (fen)")]
Qty = Annotated[int, Field(gt=0, description="a positive integer quantity")]
Code = Annotated[str, Field(min_length=1, max_length=64)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


class Value(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MaterialQty(Value):
    material_code: Code
    qty: Qty


class Shortfall(Value):
    material_code: Code
    requested: int = Field(ge=0)
    available: int = Field(description="what the node could give (may be 0)")
