"""Who may call what: an explicit table of (roles, service, methods, path pattern). Anything else is denied.

Path patterns are matched against the path below `/api/<service>` (decoded, one trailing slash ignored):
`{name}` matches exactly one segment, a final `/**` matches the prefix itself and anything below it
(`/**` alone: every path of the service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SERVICES = ("product", "inventory", "order", "fulfillment", "finance", "channel")

ADMIN = "admin"
OPERATIONS = "operations"
STORE_STAFF = "store_staff"
FINANCE = "finance"
CHANNEL = "channel"
ROLES = (ADMIN, OPERATIONS, STORE_STAFF, FINANCE, CHANNEL)

ANY = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
READ = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})


def compile_pattern(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("/"):
        raise ValueError(f"path pattern {pattern!r} must start with '/'")
    rest = pattern
    tail = ""
    if pattern == "/**":
        return re.compile(r"^/.*$")
    if pattern.endswith("/**"):
        rest, tail = pattern[:-3], "(?:/.*)?"
    parts = []
    for seg in rest.strip("/").split("/"):
        if "*" in seg:
            raise ValueError(f"path pattern {pattern!r}: '**' is only allowed as the last segment")
        if seg.startswith("{") and seg.endswith("}"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(seg))
    return re.compile("^/" + "/".join(parts) + tail + "$")


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    service: str
    methods: frozenset[str]
    pattern: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown_roles = self.roles - set(ROLES)
        if unknown_roles:
            raise ValueError(f"rule {self.pattern!r}: unknown roles {sorted(unknown_roles)}")
        if self.service != "*" and self.service not in SERVICES:
            raise ValueError(f"rule {self.pattern!r}: unknown service {self.service!r}")
        object.__setattr__(self, "regex", compile_pattern(self.pattern))

    def allows(self, role: str, service: str, method: str, path: str) -> bool:
        return (
            role in self.roles
            and self.service in ("*", service)
            and method in self.methods
            and self.regex.match(path) is not None
        )


def _rule(roles: set[str], service: str, methods: frozenset[str], pattern: str) -> Rule:
    return Rule(frozenset(roles), service, methods, pattern)


RULES: tuple[Rule, ...] = (
    _rule({ADMIN}, "*", ANY, "/**"),
    *(_rule({OPERATIONS}, s, ANY, "/**") for s in ("product", "inventory", "order", "fulfillment")),
    _rule({OPERATIONS}, "channel", ANY, "/shops/**"),
    _rule({OPERATIONS}, "channel", ANY, "/push-status/**"),  # what each platform acknowledged; resync
    _rule({OPERATIONS}, "channel", POST, "/drift-checks"),  # compare with the platforms now
    _rule({OPERATIONS}, "channel", ANY, "/shipment-writebacks/**"),  # shipments told to the platform; retry
    _rule({OPERATIONS}, "channel", ANY, "/pull-cursors/**"),  # the JD / PDD order pull per shop; run now
    _rule({OPERATIONS}, "channel", ANY, "/channels/pos/stores/**"),  # a POS shop's store node and tenders
    _rule({OPERATIONS}, "channel", READ, "/after-sales/**"),  # the refunds and closes received
    _rule({OPERATIONS}, "finance", READ, "/**"),
    _rule({FINANCE}, "finance", ANY, "/**"),
    _rule({FINANCE}, "order", READ, "/**"),
    _rule({FINANCE}, "order", POST, "/orders/{order_id}/payment"),  # an order on account was paid (账期)
    _rule({STORE_STAFF}, "fulfillment", READ, "/tasks"),
    _rule({STORE_STAFF}, "fulfillment", READ, "/tasks/{task_id}"),
    _rule({STORE_STAFF}, "fulfillment", POST, "/tasks/{task_id}/accept"),
    _rule({STORE_STAFF}, "fulfillment", POST, "/tasks/{task_id}/ship"),
    _rule({STORE_STAFF}, "fulfillment", POST, "/tasks/{task_id}/pickup"),
    # a store's tasks from accept to handover (issue #11): pick, pack, ready, reject with a reason, resend
    # the pickup code, what was done on a task; the reasons to reject with, and the counts asked of the store
    *(
        _rule({STORE_STAFF}, "fulfillment", POST, f"/tasks/{{task_id}}/{action}")
        for action in ("start-picking", "pick", "pack", "ready", "reject", "resend-code")
    ),
    _rule({STORE_STAFF}, "fulfillment", READ, "/tasks/{task_id}/actions"),
    _rule({STORE_STAFF}, "fulfillment", READ, "/reject-reasons"),
    _rule({STORE_STAFF}, "fulfillment", READ, "/count-requests"),
    # a store's own orders (the order service answers 404 for any other store's): the pickup's receiver
    _rule({STORE_STAFF}, "order", READ, "/orders/{order_id}"),
    # channel adapters (run outside Omni) hand orders to the channel service and read their shops
    _rule({CHANNEL}, "channel", POST, "/channels/{platform}/orders"),
    _rule({CHANNEL}, "channel", POST, "/channels/{platform}/refunds"),
    _rule({CHANNEL}, "channel", READ, "/shops/**"),
)


def normalise(path: str) -> str:
    """'' -> '/', '/tasks/' -> '/tasks' (the services treat both alike)."""
    if not path.startswith("/"):
        path = "/" + path
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def allowed(role: str, service: str, method: str, path: str, rules: tuple[Rule, ...] = RULES) -> bool:
    path = normalise(path)
    method = method.upper()
    return any(r.allows(role, service, method, path) for r in rules)


def denial(role: str, service: str, method: str, path: str) -> str:
    return f"role {role} may not {method.upper()} /api/{service}{normalise(path)}"


def path_problem(path: str) -> str | None:
    """Why a (decoded) path may not be forwarded, or None. Dot segments could climb out of a permitted
    prefix once the upstream normalises them; empty segments make the pattern match ambiguous."""
    inner = path.removeprefix("/").removesuffix("/")
    segments = inner.split("/") if inner else []
    if any(s in (".", "..") for s in segments):
        return "the path must not contain '.' or '..' segments"
    if any(s == "" for s in segments):
        return "the path must not contain empty segments ('//')"
    return None
