"""The order service's buyer data keys (services/order/docs/buyer-data.md): every way of starting it
gives one: a Secret in Kubernetes, the development key only in the local configuration (no code default)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import yaml

from omni_order.app import Settings
from omni_order.domain.buyer_data import parse_key_ring

ROOT = Path(__file__).resolve().parents[2]


def _k8s_helpers():  # test_k8s.py's renderer (the tests are not a package)
    mod = sys.modules.get("test_k8s")
    if mod is None:
        spec = importlib.util.spec_from_file_location("test_k8s", Path(__file__).parent / "test_k8s.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod


k8s = _k8s_helpers()
env_of, main_container, of_kind, rendered = k8s.env_of, k8s.main_container, k8s.of_kind, k8s.rendered
NAME = "ORDER_BUYER_DATA_KEYS"


def _procfile_key() -> str:
    (line,) = [x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("order:")]
    match = re.search(NAME + r'="\$\{' + NAME + r':-([^}]+)\}"', line)
    assert match, "the Procfile's order entry gives no default ORDER_BUYER_DATA_KEYS"
    return match.group(1)


def test_the_code_has_no_default_key():
    assert Settings.model_fields["buyer_data_keys"].default.get_secret_value() == ""
    assert NAME in Settings.env_names()


def test_the_local_stack_and_compose_use_the_development_key_and_it_parses():
    dev = _procfile_key()
    assert dev.startswith("dev-local-only:")
    assert parse_key_ring(dev).kids == ("dev-local-only",)
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["order"]["environment"][NAME] == dev


def test_k8s_reads_the_keys_from_a_secret_and_local_has_the_development_one():
    for overlay in ("base", "overlays/local"):
        order = of_kind(rendered(overlay), "Deployment")["order"]
        (migrate,) = order["spec"]["template"]["spec"]["initContainers"]
        for container in (main_container(order), migrate):
            assert env_of(container)[NAME] == {
                "secretKeyRef": {"name": "omni-order-buyer-data-keys", "key": "keys"}
            }, container["name"]
    assert "omni-order-buyer-data-keys" not in of_kind(rendered("base"), "Secret")
    local = of_kind(rendered("overlays/local"), "Secret")["omni-order-buyer-data-keys"]
    assert local["stringData"]["keys"] == _procfile_key()
    template = yaml.safe_load(
        (ROOT / "deploy/k8s/base/secrets/order-buyer-data-keys.example.yaml").read_text()
    )
    assert template["stringData"]["keys"].startswith("REPLACE-ME")
