"""Domain errors of the channel adapters. The API maps them to 401 / 400 / 422."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload: where (a dotted path into the trade) and what."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class Unauthorized(Exception):
    """The request cannot be attributed to an active shop: unknown shop, bad signature, stale timestamp."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedPayload(Exception):
    """The body is not a JSON document we can read at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidTrade(Exception):
    """The body is JSON but not a trade we can accept; `problems` lists every fault found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            f"{len(problems)} problem(s): " + "; ".join(f"{p.path}: {p.message}" for p in problems)
        )
        self.problems = problems
