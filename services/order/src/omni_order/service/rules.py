"""Rule sets and strategies through the API: each save is a new version (history kept), a rollback saves
an old version again as the newest, and every save is validated whole against what the service knows, so
a 422 lists every problem at once. The next order uses the new version: intake loads the current ones per
batch (two queries), no restart.
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.rules import actions as A
from ..domain.rules import conditions as C
from ..domain.rules.ruleset import (
    Known,
    Problem,
    RuleSetDoc,
    StrategyDoc,
    StrategyVersion,
    ruleset_problems,
    strategy_problems,
    walk,
)
from ..domain.status import DomainError
from .journal import OrderUow

log = get_logger(__name__)

# The channels Omni has adapters for; a channel seen on a listing or an order is known too.
CHANNELS = frozenset(
    {
        "tmall",
        "taobao",
        "jd",
        "pdd",
        "douyin",
        "xiaohongshu",
        "youzan",
        "pos",
        "mall",
        "miniprogram",
        "wechat",
    }
)
MODELS = {"ruleset": RuleSetDoc, "strategy": StrategyDoc}


class DocNotFound(DomainError):
    """No such rule set, strategy or version (404)."""


class DocProblems(DomainError):
    """A document names things that do not exist, or loops (422, every problem listed)."""

    def __init__(self, kind: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"the {kind} has {len(problems)} problem{'s' if len(problems) != 1 else ''}")


def _skus(doc: Any) -> set[str]:
    if isinstance(doc, StrategyDoc):
        return set()
    codes: set[str] = set()
    conds = list(doc.definitions.values()) + [r.when for r in doc.rules if r.when is not None]
    for c in conds:
        for x, _ in walk(c, ""):
            if isinstance(x, C.Sku):
                codes |= set(x.codes)
    for r in doc.rules:
        for a in r.then:
            if isinstance(a, A.AddGift):
                codes |= {a.material_code, *a.substitutes, *a.for_skus}
    return codes


async def _known(uow: OrderUow, doc: Any) -> Known:
    repo = uow.repo
    shops = await repo.known_shops()
    rulesets = (
        {r["id"] for r in await repo.current_docs("ruleset")} if isinstance(doc, StrategyDoc) else set()
    )
    return Known(
        channels=CHANNELS | {s.split(":", 1)[0] for s in shops},
        shops=frozenset(shops),
        skus=frozenset(await repo.known_skus(_skus(doc))),
        categories=frozenset(await repo.known_categories()),
        rulesets=frozenset(rulesets),
    )


def _problems(doc: Any, known: Known) -> list[Problem]:
    if isinstance(doc, RuleSetDoc):
        return ruleset_problems(doc, known)
    return strategy_problems(doc, known)


async def save(uow: OrderUow, kind: str, doc_id: str, doc: Any, comment: str = "") -> dict[str, Any]:
    """Validate and save `doc` as the next version of rule set / strategy `doc_id`."""
    async with uow:
        problems = _problems(doc, await _known(uow, doc))
        if problems:
            raise DocProblems(kind, problems)
        body = doc.model_dump(mode="json", by_alias=True, exclude_none=True)
        version = await uow.repo.save_version(kind, doc_id, doc.name, body, comment, utcnow())
    log.info("document saved", kind=kind, id=doc_id, version=version)
    return await get(uow, kind, doc_id)


async def get(uow: OrderUow, kind: str, doc_id: str) -> dict[str, Any]:
    async with uow:
        rows = await uow.repo.current_docs(kind, [doc_id])
    if not rows:
        raise DocNotFound(f"no {kind} {doc_id}")
    return rows[0]


async def page(uow: OrderUow, kind: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.doc_page(kind, limit, offset)


async def versions(uow: OrderUow, kind: str, doc_id: str) -> list[dict[str, Any]]:
    async with uow:
        rows = await uow.repo.doc_versions(kind, doc_id)
    if not rows:
        raise DocNotFound(f"no {kind} {doc_id}")
    return rows


async def rollback(
    uow: OrderUow, kind: str, doc_id: str, to_version: int, comment: str = ""
) -> dict[str, Any]:
    """Save version `to_version` again as the newest (checked against what exists today)."""
    async with uow:
        old = await uow.repo.doc_version(kind, doc_id, to_version)
        if old is None:
            raise DocNotFound(f"{kind} {doc_id} has no version {to_version}")
    doc = MODELS[kind].model_validate(old["doc"])
    return await save(uow, kind, doc_id, doc, comment or f"rollback to version {to_version}")


async def active_config(
    uow: OrderUow,
) -> tuple[list[StrategyVersion], dict[str, tuple[int, RuleSetDoc]]]:
    """The current strategies and the rule sets they name (inside the caller's unit of work)."""
    rows = await uow.repo.current_docs("strategy")
    strategies = [StrategyVersion(r["id"], r["version"], StrategyDoc.model_validate(r["doc"])) for r in rows]
    wanted = {s.doc.ruleset_id for s in strategies if s.doc.enabled and s.doc.ruleset_id}
    rulesets = {
        r["id"]: (r["version"], RuleSetDoc.model_validate(r["doc"]))
        for r in (await uow.repo.current_docs("ruleset", wanted) if wanted else [])
    }
    return strategies, rulesets


async def blacklist_page(uow: OrderUow, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.blacklist_page(limit, offset)


async def put_blacklist(uow: OrderUow, key: str, reason: str) -> dict[str, Any]:
    async with uow:
        row = await uow.repo.put_blacklist(key, reason, utcnow())
    log.info("buyer blacklisted")  # the key is a buyer's id: not logged
    return row


async def delete_blacklist(uow: OrderUow, key: str) -> bool:
    async with uow:
        return await uow.repo.delete_blacklist(key)
