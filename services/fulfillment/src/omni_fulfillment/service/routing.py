"""What an accepted order asks of routing (domain/routing.py OrderRouting), read from order.accepted."""

from __future__ import annotations

from omni_contracts.events.order import OrderAcceptedV1

from ..domain.routing import Hint, OrderRouting

HIGH_VALUE_GROUP = "high_value"


def order_routing(o: OrderAcceptedV1) -> OrderRouting:
    """Its delivery, the OMS rules' route hints (carrier hints kept for the carrier choice), and the
    materials of its high-value lines: flagged `high_value`, or placed in the high_value group by a split."""
    return OrderRouting(
        delivery=o.delivery,
        hints=tuple(Hint(h.node, h.pool, h.carrier, h.ruleset) for h in o.route_hints),
        high_value=frozenset(
            x.material_code for x in o.lines if x.ships and (x.high_value or x.group == HIGH_VALUE_GROUP)
        ),
    )
