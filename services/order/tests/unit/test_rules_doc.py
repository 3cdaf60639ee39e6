"""docs/rules.md cannot drift from the models: its reference tables list every condition and action `type`
of the pydantic unions, each with exactly the model's fields, and name no type that does not exist; the
strategy table and the text name every strategy setting, rule field and gift cap."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from omni_order.domain.rules import actions as A
from omni_order.domain.rules import conditions as C
from omni_order.domain.rules.documents import (
    BackorderSettings,
    CreditSettings,
    MergeSettings,
    PresaleSettings,
    ReviewSettings,
    Rule,
    RuleSetDoc,
    StrategyDoc,
    StrategyMatch,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
ROW = re.compile(r"^\| `(?P<type>[a-z_]+)` \| (?P<fields>[^|]*) \|", re.MULTILINE)


def _models(union: object) -> list[type[BaseModel]]:
    inner = get_args(union)[0]  # Annotated[A | B | ..., Field(discriminator="type")]
    return list(get_args(inner))


def _fields(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items() if name != "type"}


def _type(model: type[BaseModel]) -> str:
    (literal,) = get_args(model.model_fields["type"].annotation)
    return literal


def _table(section: str) -> dict[str, set[str]]:
    text = DOC.read_text()
    start = text.index(f"\n## {section}\n")
    end = text.index("\n## ", start + 1)
    rows = {}
    for m in ROW.finditer(text[start:end]):
        rows[m["type"]] = set(re.findall(r"`([a-z_]+)`", m["fields"]))
    return rows


def test_every_condition_type_is_documented_with_exactly_its_fields():
    documented = _table("Conditions")
    models = {_type(m): _fields(m) for m in _models(C.Condition)}
    assert len(models) == 26
    assert set(documented) == set(models)  # none missing, none invented
    for name, fields in models.items():
        assert documented[name] == fields, name


def test_every_action_type_is_documented_with_exactly_its_fields():
    documented = _table("Actions")
    models = {_type(m): _fields(m) for m in _models(A.Action)}
    assert set(documented) == set(models)
    for name, fields in models.items():
        assert documented[name] == fields, name


def test_the_strategy_rule_and_gift_settings_are_all_named():
    text = DOC.read_text()
    named = set(re.findall(r"`([a-z_]+)`", text)) | set(re.findall(r"`[a-z_]+\.([a-z_]+)`", text))
    settings = [
        StrategyDoc, ReviewSettings, MergeSettings, BackorderSettings, PresaleSettings, StrategyMatch,
        CreditSettings,
    ]  # fmt: skip
    wanted = {f for m in settings for f in m.model_fields}
    wanted |= set(Rule.model_fields) | set(RuleSetDoc.model_fields) | set(A.GiftCaps.model_fields)
    assert sorted(wanted - named) == []


def test_the_doc_table_parser_sees_a_missing_row():
    """The check can fail: a table without `use` is reported."""
    text = DOC.read_text()
    assert "| `use` | `name` |" in text
    start = text.index("\n## Conditions\n")
    cut = text[start:].replace("| `use` | `name` |", "| `xuse` | `name` |")
    assert "use" not in {m["type"] for m in ROW.finditer(cut[: cut.index("\n## ", 1)])}
