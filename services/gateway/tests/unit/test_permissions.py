"""The permission table: default deny, and the decisions each role should get."""

from __future__ import annotations

import pytest

from omni_gateway.domain.permissions import (
    ADMIN,
    CHANNEL,
    FINANCE,
    OPERATIONS,
    ROLES,
    SERVICES,
    STORE_STAFF,
    Rule,
    allowed,
    compile_pattern,
    denial,
    path_problem,
)

ALLOW = [
    (ADMIN, "product", "DELETE", "/materials/M1"),
    (ADMIN, "finance", "POST", "/vouchers/export"),
    (ADMIN, "channel", "GET", "/"),
    (OPERATIONS, "product", "POST", "/materials"),
    (OPERATIONS, "inventory", "PATCH", "/nodes/WH-01"),
    (OPERATIONS, "order", "POST", "/orders/O1/cancel"),
    (OPERATIONS, "fulfillment", "GET", "/tasks"),
    (OPERATIONS, "channel", "GET", "/shops"),
    (OPERATIONS, "channel", "PUT", "/shops/tmall-1/stock-sync"),
    (OPERATIONS, "channel", "GET", "/pull-cursors"),
    (OPERATIONS, "channel", "POST", "/pull-cursors/jd/JD-1/run"),
    (OPERATIONS, "finance", "GET", "/vouchers"),
    (OPERATIONS, "finance", "HEAD", "/vouchers"),
    (FINANCE, "finance", "POST", "/bills/import"),
    (FINANCE, "order", "GET", "/orders/O1"),
    (FINANCE, "order", "POST", "/orders/O1/payment"),  # an order on account was paid
    (FINANCE, "order", "GET", "/credit-accounts"),
    (STORE_STAFF, "fulfillment", "GET", "/tasks"),
    (STORE_STAFF, "fulfillment", "GET", "/tasks/"),
    (STORE_STAFF, "fulfillment", "GET", "/tasks/T-1"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks/T-1/accept"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks/T-1/ship"),
    (STORE_STAFF, "fulfillment", "post", "/tasks/T-1/pickup"),
    *(
        (STORE_STAFF, "fulfillment", "POST", f"/tasks/T-1/{a}")
        for a in ("start-picking", "pick", "pack", "ready", "reject", "resend-code")
    ),
    (STORE_STAFF, "fulfillment", "GET", "/tasks/T-1/actions"),
    (STORE_STAFF, "fulfillment", "GET", "/reject-reasons"),
    (STORE_STAFF, "fulfillment", "GET", "/count-requests"),
    (STORE_STAFF, "order", "GET", "/orders/O-1"),  # the order service shows only its store's
    (CHANNEL, "channel", "POST", "/channels/taobao/orders"),
    (CHANNEL, "channel", "POST", "/channels/jd/refunds"),
    (CHANNEL, "channel", "GET", "/shops/tmall-1"),
    (OPERATIONS, "channel", "GET", "/after-sales"),
    (OPERATIONS, "channel", "GET", "/after-sales/jd/refund/1600000001"),
]

DENY = [
    (OPERATIONS, "finance", "POST", "/vouchers"),
    (OPERATIONS, "channel", "POST", "/channels/taobao/orders"),
    (OPERATIONS, "channel", "POST", "/channels/jd/refunds"),
    (OPERATIONS, "channel", "DELETE", "/after-sales/jd/refund/1"),  # read only
    (OPERATIONS, "channel", "GET", "/shopsX"),  # '/shops/**' is a segment prefix, not a string prefix
    (FINANCE, "order", "POST", "/orders"),
    (FINANCE, "order", "POST", "/orders/O1/cancel"),
    (FINANCE, "product", "GET", "/materials"),
    (FINANCE, "fulfillment", "GET", "/tasks"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks"),
    (STORE_STAFF, "fulfillment", "GET", "/tasks/T-1/accept"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks/T-1/cancel"),
    (STORE_STAFF, "fulfillment", "PUT", "/reject-reasons/too_busy"),  # operations configure the reasons
    (STORE_STAFF, "fulfillment", "DELETE", "/reject-reasons/too_busy"),
    (STORE_STAFF, "fulfillment", "PUT", "/sla-policies/STORE-SH-01/*"),
    (STORE_STAFF, "fulfillment", "POST", "/count-requests/1/done"),
    (STORE_STAFF, "fulfillment", "GET", "/sourcing/O-1/rejections"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks/T-1/reject/all"),
    (STORE_STAFF, "fulfillment", "POST", "/tasks/T-1/accept/extra"),
    (STORE_STAFF, "fulfillment", "GET", "/shipments"),
    (STORE_STAFF, "fulfillment", "GET", "/"),
    (STORE_STAFF, "product", "GET", "/materials"),
    (STORE_STAFF, "inventory", "GET", "/tasks"),
    (STORE_STAFF, "order", "GET", "/orders"),  # no list of every order
    (STORE_STAFF, "order", "POST", "/orders/O-1/cancel"),
    (STORE_STAFF, "order", "GET", "/orders/O-1/trace"),
    (CHANNEL, "order", "GET", "/orders"),
    (CHANNEL, "channel", "PUT", "/shops/tmall-1"),
    ("nobody", "product", "GET", "/materials"),
]


@pytest.mark.parametrize(("role", "service", "method", "path"), ALLOW)
def test_allowed(role, service, method, path):
    assert allowed(role, service, method, path)


@pytest.mark.parametrize(("role", "service", "method", "path"), DENY)
def test_denied(role, service, method, path):
    assert not allowed(role, service, method, path)


def test_admin_may_call_every_service_with_every_method():
    for service in SERVICES:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert allowed(ADMIN, service, method, "/anything/below")


def test_default_deny_with_an_empty_table():
    for role in ROLES:
        assert not allowed(role, "product", "GET", "/materials", rules=())


def test_denial_names_role_method_and_public_path():
    assert (
        denial("store_staff", "product", "post", "/materials")
        == "role store_staff may not POST /api/product/materials"
    )


def test_patterns():
    one = compile_pattern("/tasks/{id}/accept")
    assert one.match("/tasks/T1/accept")
    assert not one.match("/tasks/T1/x/accept")
    assert not one.match("/tasks//accept")
    tree = compile_pattern("/shops/**")
    assert tree.match("/shops") and tree.match("/shops/a/b")
    assert not tree.match("/shopsa")
    assert compile_pattern("/**").match("/")
    with pytest.raises(ValueError, match="last segment"):
        compile_pattern("/a/**/b")
    with pytest.raises(ValueError, match="must start"):
        compile_pattern("tasks")


def test_rules_reject_unknown_roles_and_services():
    with pytest.raises(ValueError, match="unknown roles"):
        Rule(frozenset({"root"}), "product", frozenset({"GET"}), "/**")
    with pytest.raises(ValueError, match="unknown service"):
        Rule(frozenset({ADMIN}), "billing", frozenset({"GET"}), "/**")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/tasks/T1", None),
        ("/tasks/", None),
        ("/", None),
        ("/tasks/../materials", "'..'"),
        ("/tasks/./T1", "'.'"),
        ("/tasks//T1", "empty segments"),
    ],
)
def test_path_problem(path, problem):
    found = path_problem(path)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
