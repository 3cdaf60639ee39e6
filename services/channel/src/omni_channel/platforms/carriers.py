"""Carrier codes: Omni's (what `fulfillment.shipped` carries, e.g. `SF`) to each platform's logistics company
code, as versioned data (carrier_codes.json beside this module, or the file OMNI_CARRIER_CODES_FILE names),
validated when the service starts: a bad file stops it with every problem listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

DEFAULT_FILE = Path(__file__).with_name("carrier_codes.json")
OurCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")]
# a platform's code: Taobao's SF, JD's 467, Douyin's shunfeng
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
PlatformName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
PLATFORM_OF_CHANNEL = {"tmall": "taobao", "taobao": "taobao"}


class CarrierCodes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    comment: str = ""
    platforms: dict[PlatformName, dict[OurCode, Code]] = Field(min_length=1)

    def code_for(self, channel: str, carrier: str) -> str | None:
        """The platform's company code of our `carrier` (case-insensitive), or None: not mapped."""
        platform = PLATFORM_OF_CHANNEL.get(channel, channel)
        return self.platforms.get(platform, {}).get(carrier.strip().upper())


class CarrierCodesError(ValueError):
    pass


def load(path: Path | None = None) -> CarrierCodes:
    path = path or DEFAULT_FILE
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CarrierCodesError(f"carrier codes {str(path)!r} cannot be read: {exc}") from None
    try:
        codes = CarrierCodes.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CarrierCodesError(f"carrier codes {str(path)!r} are invalid: {problems}") from None
    return codes
