"""Rule sets and strategies as data: their documents, their validation, and the engine. Pure.

A rule set is an ordered list of rules (`when` a condition, `then` actions) plus named `definitions` its
rules may `use`. A strategy picks, for a channel, shop and business model, which rule set applies and the
settings of the flow around it (merge window, auto-approve, backorders, presale). Both are versioned by the
service; this module only knows one version at a time.

`run(ruleset, facts)` walks the rules in order and answers an `Outcome`: the trace of every rule (matched
or not, and the condition that decided it), the holds, the gifts asked for, the split kinds, tags, priority
and route hints. Deterministic: the same document and facts give the same outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import actions as A
from . import conditions as C
from .documents import RoleSettings, RuleSetDoc, StrategyDoc  # callers may import them from here
from .facts import OrderFacts

MAX_PROBLEMS = 200


# -- validation of references ---------------------------------------------------------------------
@dataclass(frozen=True)
class Known:
    """What the order service knows: the channels it takes orders from, shops and sku codes of its catalog
    projection, the rule sets that exist, and the category paths of its materials."""

    channels: frozenset[str] = frozenset()
    shops: frozenset[str] = frozenset()  # "<channel>:<shop_id>"
    skus: frozenset[str] = frozenset()  # material and sales product codes
    categories: frozenset[str] = frozenset()
    rulesets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


def walk(c: Any, path: str) -> Iterator[tuple[Any, str]]:
    yield c, path
    if isinstance(c, (C.All, C.AnyOf)):
        for i, x in enumerate(c.of):
            yield from walk(x, f"{path}.of[{i}]")
    elif isinstance(c, C.Not):
        yield from walk(c.of, f"{path}.of")


def _condition_problems(c: Any, path: str, known: Known, defs: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for x, p in walk(c, path):
        if isinstance(x, C.ChannelIs):
            out += [Problem(f"{p}.any_of[{i}]", f"unknown channel {v}") for i, v in enumerate(x.any_of)
                    if v not in known.channels]  # fmt: skip
        elif isinstance(x, C.ShopIs):
            out += [Problem(f"{p}.any_of[{i}]", f"unknown shop {v}") for i, v in enumerate(x.any_of)
                    if v not in known.shops]  # fmt: skip
        elif isinstance(x, C.Sku):
            out += [Problem(f"{p}.codes[{i}]", f"unknown sku {v}") for i, v in enumerate(x.codes)
                    if v not in known.skus]  # fmt: skip
        elif isinstance(x, C.Category):
            for i, v in enumerate(x.prefixes):
                pre = v.rstrip("/")
                if not any(k == pre or k.startswith(pre + "/") for k in known.categories):
                    out.append(Problem(f"{p}.prefixes[{i}]", f"no material is in category {v}"))
        elif isinstance(x, C.Use) and x.name not in defs:
            out.append(Problem(f"{p}.name", f"no definition named {x.name}"))
    return out


def _cycles(defs: dict[str, Any]) -> list[Problem]:
    uses = {n: {x.name for x, _ in walk(c, "") if isinstance(x, C.Use)} for n, c in defs.items()}
    out: list[Problem] = []
    reported: set[frozenset[str]] = set()

    def visit(n: str, stack: list[str]) -> None:
        for m in sorted(uses.get(n, ())):
            if m in stack:
                loop = [*stack[stack.index(m) :], m]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    out.append(Problem(f"body.definitions.{m}", f"circular reference: {' -> '.join(loop)}"))
            elif m in uses:
                visit(m, [*stack, m])

    for n in sorted(uses):
        visit(n, [n])
    return out


def ruleset_problems(doc: RuleSetDoc, known: Known) -> list[Problem]:
    """Every reference problem of a well-shaped rule set (empty: it can be saved)."""
    out: list[Problem] = []
    defs = dict(doc.definitions)
    for n, c in defs.items():
        out += _condition_problems(c, f"body.definitions.{n}", known, defs)
    out += _cycles(defs)
    seen: dict[str, int] = {}
    for i, r in enumerate(doc.rules):
        if r.id in seen:
            out.append(Problem(f"body.rules[{i}].id", f"rule id {r.id} repeats rule {seen[r.id]}"))
        seen.setdefault(r.id, i)
        if r.when is not None:
            out += _condition_problems(r.when, f"body.rules[{i}].when", known, defs)
        for j, a in enumerate(r.then):
            if isinstance(a, A.AddGift):
                for k, code in (
                    [("material_code", a.material_code)]
                    + [(f"substitutes[{n}]", s) for n, s in enumerate(a.substitutes)]
                    + [(f"for_skus[{n}]", s) for n, s in enumerate(a.for_skus)]
                ):
                    if code not in known.skus:
                        out.append(Problem(f"body.rules[{i}].then[{j}].{k}", f"unknown sku {code}"))
    if len(out) > MAX_PROBLEMS:
        return [*out[:MAX_PROBLEMS], Problem("body", f"and {len(out) - MAX_PROBLEMS} more problems")]
    return out


def condition_types(docs: Iterable[RuleSetDoc]) -> set[str]:
    """Every condition type the documents use (the service fetches only the facts they need)."""
    found: set[str] = set()
    for doc in docs:
        conds = list(doc.definitions.values()) + [
            r.when for r in doc.rules if r.when is not None and r.enabled
        ]
        for c in conds:
            found |= {x.type for x, _ in walk(c, "")}
    return found


def strategy_problems(doc: StrategyDoc, known: Known) -> list[Problem]:
    out = [Problem(f"body.match.channels[{i}]", f"unknown channel {c}")
           for i, c in enumerate(doc.match.channels) if c not in known.channels]  # fmt: skip
    out += [Problem(f"body.match.shops[{i}]", f"unknown shop {s}")
            for i, s in enumerate(doc.match.shops) if s not in known.shops]  # fmt: skip
    out += [Problem(f"body.merge.shops[{i}]", f"unknown shop {s}")
            for i, s in enumerate(doc.merge.shops) if s not in known.shops]  # fmt: skip
    if doc.merge.enabled and doc.merge.window_s == 0:  # an option that would do nothing is refused
        why = ("merge is enabled with a window of 0 s, which merges nothing: give the seconds orders wait "
               "for each other (1..86400), or disable merge")  # fmt: skip
        out.append(Problem("body.merge.window_s", why))
    if doc.ruleset_id is not None and doc.ruleset_id not in known.rulesets:
        out.append(Problem("body.ruleset_id", f"no rule set {doc.ruleset_id}"))
    return out


# -- the engine -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceEntry:
    """One rule or strategy considered: matched or not, why, and what it did."""

    stage: str  # strategy | review | gifts | split | routing
    subject: str  # "rule vip-first" / "strategy tmall-default v3"
    matched: bool
    why: str
    effect: str = ""


@dataclass(frozen=True)
class HoldReason:
    code: str
    reason: str
    rule_id: str
    blocking: bool = False


@dataclass
class Outcome:
    trace: list[TraceEntry] = field(default_factory=list)
    holds: list[HoldReason] = field(default_factory=list)
    approved_by: str | None = None
    gifts: list[tuple[str, A.AddGift]] = field(default_factory=list)  # (rule id, action)
    split_kinds: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    priority: int | None = None
    route_hints: list[A.RouteHint] = field(default_factory=list)


def _effect(a: Any) -> str:
    if isinstance(a, A.Hold):
        return f"hold {a.code}: {a.reason}"
    if isinstance(a, A.Block):
        return f"block: {a.reason}"
    if isinstance(a, A.RequireReview):
        return f"manual review: {a.reason}"
    if isinstance(a, A.AddGift):
        return f"gift {a.qty} × {a.material_code} ({a.gift_id})"
    if isinstance(a, A.SplitByType):
        return f"split {', '.join(a.kinds)}"
    if isinstance(a, A.TagOrder):
        return f"tag {', '.join(a.tags)}"
    if isinstance(a, A.Priority):
        return f"priority {a.value}"
    if isinstance(a, A.RouteHint):
        return "route to " + ", ".join(
            f"{k} {v}" for k in ("node", "pool", "carrier") if (v := getattr(a, k))
        )
    return str(a.type)


def run(doc: RuleSetDoc, facts: OrderFacts, *, ruleset_label: str = "") -> Outcome:
    """Walk the rules in order; collect what the matching ones do."""
    out = Outcome()
    env = C.Env(dict(doc.definitions))
    for rule in doc.rules:
        subject = f"rule {rule.id}" + (f" ({ruleset_label})" if ruleset_label else "")
        if not rule.enabled:
            out.trace.append(TraceEntry("review", subject, False, "disabled"))
            continue
        v = C.evaluate(rule.when, facts, env) if rule.when is not None else C.Verdict(True, "always")
        if not v.matched:
            out.trace.append(TraceEntry("review", subject, False, v.why))
            continue
        stop = rule.final
        for a in rule.then:
            if isinstance(a, A.Hold):
                out.holds.append(HoldReason(a.code, a.reason, rule.id))
            elif isinstance(a, A.Block):
                out.holds.append(HoldReason("blocked", a.reason, rule.id, blocking=True))
            elif isinstance(a, A.RequireReview):
                out.holds.append(HoldReason("manual_review", a.reason, rule.id))
            elif isinstance(a, A.Approve):
                out.approved_by = rule.id
                stop = True
            elif isinstance(a, A.AddGift):
                out.gifts.append((rule.id, a))
            elif isinstance(a, A.SplitByType):
                out.split_kinds += [k for k in a.kinds if k not in out.split_kinds]
            elif isinstance(a, A.TagOrder):
                out.tags += [t for t in a.tags if t not in out.tags]
                facts = dataclasses.replace(facts, extra_tags=facts.extra_tags | set(a.tags))
            elif isinstance(a, A.Priority):
                out.priority = a.value
            elif isinstance(a, A.RouteHint):
                out.route_hints.append(a)
        effect = "; ".join(_effect(a) for a in rule.then) + ("; stop" if stop else "")
        out.trace.append(TraceEntry("review", subject, True, v.why, effect))
        if stop:
            break
    return out


@dataclass(frozen=True)
class StrategyVersion:
    strategy_id: str
    version: int
    doc: StrategyDoc


def choose_strategy(
    strategies: list[StrategyVersion], facts: OrderFacts
) -> tuple[StrategyVersion | None, list[TraceEntry]]:
    """The enabled strategy matching the order with the highest priority (ties: the more specific, then
    the smaller id); every strategy considered goes to the trace."""
    trace: list[TraceEntry] = []
    fits: list[StrategyVersion] = []
    for s in sorted(strategies, key=lambda s: s.strategy_id):
        m = s.doc.match
        subject = f"strategy {s.strategy_id} v{s.version}"
        why = []
        if not s.doc.enabled:
            why.append("disabled")
        if m.channels and facts.channel not in m.channels:
            why.append(f"channel {facts.channel} not in {', '.join(m.channels)}")
        if m.shops and facts.shop not in m.shops:
            why.append(f"shop {facts.shop} not listed")
        if m.business_models and facts.business_model not in m.business_models:
            why.append(f"business model {facts.business_model} not in {', '.join(m.business_models)}")
        if why:
            trace.append(TraceEntry("strategy", subject, False, "; ".join(why)))
        else:
            fits.append(s)

    def rank(s: StrategyVersion) -> tuple[int, int, str]:
        m = s.doc.match
        specific = (4 if m.shops else 0) + (2 if m.channels else 0) + (1 if m.business_models else 0)
        return (-s.doc.priority, -specific, s.strategy_id)

    fits.sort(key=rank)
    for i, s in enumerate(fits):
        subject = f"strategy {s.strategy_id} v{s.version}"
        if i == 0:
            trace.append(
                TraceEntry("strategy", subject, True, f"matches; priority {s.doc.priority}", "chosen")
            )
        else:
            trace.append(
                TraceEntry("strategy", subject, True, f"matches, but {fits[0].strategy_id} ranks higher")
            )
    return (fits[0] if fits else None), trace


__all__ = [
    "MAX_PROBLEMS", "HoldReason", "Known", "Outcome", "Problem", "RoleSettings", "RuleSetDoc", "StrategyDoc",
    "StrategyVersion", "TraceEntry", "choose_strategy", "condition_types", "ruleset_problems", "run",
    "strategy_problems", "walk",
]  # fmt: skip
