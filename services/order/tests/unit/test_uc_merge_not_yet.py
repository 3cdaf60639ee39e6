"""Until the merge engine lands, a strategy that enables merging is refused with a problem that says why (a
merge window would hold its orders with nothing to end the wait); one with merging off is saved."""

from __future__ import annotations

import pytest
from order_factories import envelope, product_events
from order_fakes import fake_uow

from omni_order import service
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules


async def test_a_strategy_enabling_merge_is_refused_and_nothing_is_saved():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    doc = StrategyDoc.model_validate({"name": "merge", "merge": {"enabled": True, "window_s": 600}})
    with pytest.raises(rules.DocProblems) as err:
        await rules.save(uow, "strategy", "merge", doc)
    assert [(p.path, "not available yet" in p.message) for p in err.value.problems] == [
        ("body.merge.enabled", True)
    ]
    assert uow.repo.docs == {}
    saved = await rules.save(
        uow,
        "strategy",
        "merge",
        doc.model_copy(update={"merge": doc.merge.model_copy(update={"enabled": False})}),
    )
    assert saved["version"] == 1
