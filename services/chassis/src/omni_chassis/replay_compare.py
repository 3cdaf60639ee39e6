"""Live vs rebuilt read model, table by table (used by `omni_chassis.replay`).

Rows are matched by the live table's primary key. Every column is compared (as `to_jsonb` of the row, so
any column type compares), except the `volatile` ones, set at apply time (`updated_at = now()`), which are
compared by presence (NULL or not) only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class Column:
    name: str
    generated: bool
    identity: bool
    sequence: str | None  # of a serial or identity column


@dataclass
class TableDiff:
    table: str
    live_rows: int
    rebuilt_rows: int
    live_only: int = 0
    rebuilt_only: int = 0
    differing: int = 0
    # up to `sample` rows: {"kind": live_only|rebuilt_only|differs, "key": {...}, "row" or "columns": {...}}
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.live_only == self.rebuilt_only == self.differing == 0


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def table_columns(s: AsyncSession, table: str, schema: str = "public") -> list[Column]:
    rel = f"{_q(schema)}.{_q(table)}"
    rows = await s.execute(
        text(
            "SELECT a.attname, a.attgenerated <> '', a.attidentity <> '', "
            "pg_get_serial_sequence(:rel, a.attname) "
            "FROM pg_attribute a WHERE a.attrelid = CAST(:rel AS regclass) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum"
        ),
        {"rel": rel},
    )
    return [Column(n, bool(g), bool(i), seq) for n, g, i, seq in rows]


async def primary_key(s: AsyncSession, table: str, schema: str = "public") -> list[str]:
    rows = await s.execute(
        text(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = CAST(:rel AS regclass) AND i.indisprimary "
            "ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)"
        ),
        {"rel": f"{_q(schema)}.{_q(table)}"},
    )
    return [r[0] for r in rows]


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


async def compare_table(
    s: AsyncSession, table: str, schema: str, volatile: tuple[str, ...] = (), sample: int = 20
) -> TableDiff:
    """`public.<table>` (live) against `<schema>.<table>` (rebuilt)."""
    pk = await primary_key(s, table)
    if not pk:
        raise LookupError(f"table {table} has no primary key: a read model's rows must be comparable by key")
    cols = {c.name for c in await table_columns(s, table)}
    vol = [c for c in volatile if c in cols]
    live, rebuilt = f"public.{_q(table)}", f"{_q(schema)}.{_q(table)}"

    def norm(a: str) -> str:
        if not vol:
            return f"to_jsonb({a})"
        drop = "ARRAY[" + ", ".join(_lit(c) for c in vol) + "]::text[]"
        keep = ", ".join(f"{_lit(c)}, {a}.{_q(c)} IS NOT NULL" for c in vol)
        return f"((to_jsonb({a}) - {drop}) || jsonb_build_object({keep}))"

    on = " AND ".join(f"l.{_q(k)} = r.{_q(k)}" for k in pk)
    k0 = _q(pk[0])
    diff = (
        f"WITH d AS (SELECT CASE WHEN r.{k0} IS NULL THEN 'live_only' "
        f"WHEN l.{k0} IS NULL THEN 'rebuilt_only' "
        f"ELSE 'differs' END AS kind, {norm('l')} AS lj, {norm('r')} AS rj "
        f"FROM {live} l FULL JOIN {rebuilt} r ON {on} "
        f"WHERE l.{k0} IS NULL OR r.{k0} IS NULL OR {norm('l')} IS DISTINCT FROM {norm('r')}) "
    )
    n_live, n_rebuilt = (
        await s.execute(text(f"SELECT (SELECT count(*) FROM {live}), (SELECT count(*) FROM {rebuilt})"))
    ).one()
    out = TableDiff(table, n_live, n_rebuilt)
    for kind, n in await s.execute(text(diff + "SELECT kind, count(*) FROM d GROUP BY kind")):
        setattr(
            out, {"live_only": "live_only", "rebuilt_only": "rebuilt_only", "differs": "differing"}[kind], n
        )
    if out.identical:
        return out
    order = ", ".join(f"coalesce(lj, rj) ->> {_lit(k)}" for k in pk)
    for kind, lj, rj in await s.execute(
        text(diff + f"SELECT kind, lj, rj FROM d ORDER BY kind, {order} LIMIT {sample}")
    ):
        lj, rj = _json(lj), _json(rj)
        row = lj if kind == "live_only" else rj
        item: dict[str, Any] = {"kind": kind, "key": {k: (lj or rj)[k] for k in pk}}
        if kind == "differs":
            item["columns"] = {
                c: [lj.get(c), rj.get(c)] for c in sorted(set(lj) | set(rj)) if lj.get(c) != rj.get(c)
            }
        else:
            item["row"] = row
        out.samples.append(item)
    return out


async def compare_tables(
    s: AsyncSession, tables: tuple[str, ...], schema: str, volatile: tuple[str, ...] = ()
) -> list[TableDiff]:
    return [await compare_table(s, t, schema, volatile) for t in tables]
