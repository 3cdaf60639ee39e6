"""The roles an order carries and its partners, from the flow (`intake.roles_for`) and the strategy that
reviewed it (its `roles` settings): one place, so no adapter hard-codes them. Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .intake import Roles
from .rules.ruleset import RoleSettings


def with_strategy(roles: Roles, settings: RoleSettings | None) -> Roles:
    """The flow's roles with the strategy's owner and seller where it names them."""
    if settings is None:
        return roles
    return replace(roles, owner=settings.owner or roles.owner, seller=settings.seller or roles.seller)


def partners(settings: RoleSettings | None, distributors: list[str]) -> list[dict[str, Any]]:
    """The partners with their commission shares: each distributor of the chain the channel sent (nearest
    first) given its level's share, then the strategy's named partners. A level the channel did not send
    has no partner (its share is not paid to anyone)."""
    if settings is None:
        return []
    chain = zip(distributors, settings.distributor_shares_bp, strict=False)  # the shorter one decides
    out = [
        {"party": party, "role": "distributor", "level": level, "share_bp": share}
        for level, (party, share) in enumerate(chain, start=1)
    ]
    out += [{"party": p.party, "role": p.role, "level": 1, "share_bp": p.share_bp} for p in settings.partners]
    return out
