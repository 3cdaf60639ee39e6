"""docker-compose.yml cannot run here (no Docker engine): check it against the code instead."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
SERVICES = sorted(
    p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists() and p.name != "chassis"
)


def _settings_env_names(service: str) -> set[str]:
    settings_cls = importlib.import_module(f"omni_{service}.app").Settings
    names = set(settings_cls.env_names())
    for name, field in settings_cls.model_fields.items():
        names.add((field.alias or name).upper())
    return names


def test_every_service_has_a_container_built_from_its_package():
    assert SERVICES, "no services found"
    for svc in SERVICES:
        assert svc in COMPOSE, f"docker-compose.yml has no container for services/{svc}"
        assert COMPOSE[svc]["build"]["args"]["SERVICE"] == svc
        assert COMPOSE[svc]["build"]["dockerfile"] == "deploy/docker/Dockerfile"


def test_container_env_names_are_settings_the_service_reads():
    for svc in SERVICES:
        env = COMPOSE[svc].get("environment", {})
        known = _settings_env_names(svc)
        unknown = sorted(set(env) - known)
        assert not unknown, f"{svc}: docker-compose sets {unknown}, which its Settings do not read"
        assert "KAFKA_BOOTSTRAP_SERVERS" in env


def test_images_are_the_real_kafka_and_postgres():
    assert COMPOSE["kafka"]["image"].startswith("apache/kafka:")
    assert COMPOSE["postgres"]["image"].startswith("postgres:")


def test_dockerfile_builds_one_package_frozen_without_dev():
    text = (ROOT / "deploy/docker/Dockerfile").read_text()
    assert "uv sync --frozen --package omni-${SERVICE} --no-dev" in text


def test_migrations_cover_every_service_with_a_database():
    command = " ".join(COMPOSE["migrate"]["command"])
    for svc in SERVICES:
        if (ROOT / f"services/{svc}/src/omni_{svc}/migrations").is_dir():
            assert svc in command, f"the migrate container does not migrate {svc}"
