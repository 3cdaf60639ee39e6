"""SCALE_<SERVICE>: the supervisord config services.sh writes for replicas, without starting anything.

`supervise.py conf` writes the config and the programs' command scripts; running a script by hand shows the
environment its service would get. A bad SCALE value stops `services.sh start` before supervisord starts.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES_SH = ROOT / "deploy/local/services.sh"
SUPERVISE = ROOT / "deploy/local/supervise.py"
SERVICES = ["product", "inventory", "order", "fulfillment", "finance", "channel", "gateway"]
# each program prints its environment as JSON instead of serving
PRINT_ENV = f"exec {sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))'"


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its SCALE_* and port settings (the defaults apply), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALE_") and not k.endswith("_HTTP_PORT")}
    return {**env, **extra}


@pytest.fixture
def procfile(tmp_path: Path) -> Path:
    """The real Procfile's entries, each printing its environment."""
    names = [line.partition(":")[0] for line in (ROOT / "Procfile").read_text().splitlines() if ":" in line]
    assert set(names) == set(SERVICES)
    path = tmp_path / "Procfile"
    path.write_text("".join(f"{n}: {PRINT_ENV}\n" for n in names))
    return path


def _conf(run_dir: Path, procfile: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SUPERVISE), "conf", str(run_dir), str(procfile), str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _programs(conf: Path) -> dict[str, configparser.SectionProxy]:
    ini = configparser.RawConfigParser()
    ini.read(conf)
    return {s.removeprefix("program:"): ini[s] for s in ini.sections() if s.startswith("program:")}


def _service_env(run_dir: Path, program: str, env: dict[str, str]) -> dict[str, str]:
    script = run_dir / "commands" / f"{program}.sh"
    out = subprocess.run(["/bin/bash", str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_scale_order_2_gives_two_order_programs_with_their_own_ports_and_logs_and_the_same_env(
    tmp_path, procfile
):
    run_dir = tmp_path / "run"
    env = _clean_env(SCALE_ORDER="2", OMNI_CONSUMER_GROUP_PREFIX="scale.", OMNI_TOPIC_PREFIX="scale.")
    r = _conf(run_dir, procfile, env)
    assert r.returncode == 0, r.stderr
    programs = _programs(run_dir / "supervisord.conf")
    assert sorted(programs) == sorted([*SERVICES, "order-2"])
    order, order2 = programs["order"], programs["order-2"]
    assert order["stdout_logfile"] != order2["stdout_logfile"]
    assert order2["stdout_logfile"].endswith("/logs/order-2.log")
    for key in ("directory", "autorestart", "startsecs", "startretries", "stopasgroup", "killasgroup"):
        assert order[key] == order2[key], key

    plan = {line.split()[0]: line.split() for line in (run_dir / "programs").read_text().splitlines()}
    assert plan["order"] == ["order", "order", "1", "8003"]
    assert plan["order-2"] == ["order-2", "order", "2", "8103"]  # the service's port + 100
    ports = [int(p[3]) for p in plan.values()]
    assert len(set(ports)) == len(ports), plan

    one, two = _service_env(run_dir, "order", env), _service_env(run_dir, "order-2", env)
    assert two["ORDER_HTTP_PORT"] == "8103" and "ORDER_HTTP_PORT" not in one  # replica 1: its default, 8003
    differ = {k for k in one.keys() | two.keys() if one.get(k) != two.get(k)}
    assert differ == {"ORDER_HTTP_PORT"}, "only the port differs: same consumer groups, topics, database"
    assert two["OMNI_CONSUMER_GROUP_PREFIX"] == "scale." and two["OMNI_TOPIC_PREFIX"] == "scale."


def test_replica_ports_follow_the_service_port_the_step_and_their_own_setting(tmp_path, procfile):
    env = _clean_env(
        SCALE_ORDER="3",
        SCALE_FULFILLMENT="2",
        SCALE_INVENTORY="2",
        ORDER_HTTP_PORT="29003",
        SCALE_PORT_STEP="10",
        ORDER_3_HTTP_PORT="29500",
    )
    r = _conf(tmp_path / "run", procfile, env)
    assert r.returncode == 0, r.stderr
    plan = {
        line.split()[0]: int(line.split()[3]) for line in (tmp_path / "run/programs").read_text().splitlines()
    }
    assert plan["order"] == 29003 and plan["order-2"] == 29013 and plan["order-3"] == 29500
    assert plan["fulfillment-2"] == 8014 and plan["inventory-2"] == 8012
    assert _service_env(tmp_path / "run", "order-3", env)["ORDER_HTTP_PORT"] == "29500"


def test_no_scale_writes_the_config_as_before(tmp_path, procfile):
    r = _conf(tmp_path / "run", procfile, _clean_env())
    assert r.returncode == 0, r.stderr
    assert sorted(_programs(tmp_path / "run/supervisord.conf")) == sorted(SERVICES)
    assert "HTTP_PORT" not in (tmp_path / "run/commands/order.sh").read_text()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SCALE_ORDER": "0"}, "SCALE_ORDER='0': the replicas of order must be a whole number from 1 to 8"),
        ({"SCALE_ORDER": "-1"}, "SCALE_ORDER='-1': the replicas of order must be a whole number from 1 to 8"),
        ({"SCALE_ORDER": "two"}, "SCALE_ORDER='two': the replicas of order must be a whole number"),
        ({"SCALE_ORDER": "2.5"}, "SCALE_ORDER='2.5': the replicas of order must be a whole number"),
        ({"SCALE_ORDER": "9"}, "SCALE_ORDER='9': the replicas of order must be a whole number from 1 to 8"),
        ({"SCALE_ORDERS": "2"}, "SCALE_ORDERS: no such service in the Procfile (known: SCALE_PRODUCT"),
        ({"SCALE_ORDER": "2", "SCALE_PORT_STEP": "0"}, "SCALE_PORT_STEP='0': the port distance of replicas"),
        (
            {"SCALE_ORDER": "2", "ORDER_2_HTTP_PORT": "70000"},
            "ORDER_2_HTTP_PORT='70000': order replica 2's port",
        ),
        (
            {"SCALE_ORDER": "2", "FULFILLMENT_HTTP_PORT": "8103"},
            "port 8103 would serve both order-2 and fulfillment: "
            "set FULFILLMENT_HTTP_PORT (or ORDER_2_HTTP_PORT",
        ),
        (
            {"SCALE_ORDER": "2", "SCALE_INVENTORY": "2", "SCALE_PORT_STEP": "1"},
            "port 8003 would serve both inventory-2 and order",
        ),
    ],
    ids=[
        "zero",
        "negative",
        "word",
        "fraction",
        "too-many",
        "unknown-service",
        "step",
        "port",
        "clash",
        "step-clash",
    ],
)
def test_a_bad_setting_stops_start_before_anything_runs(tmp_path, procfile, settings, message):
    run_dir = tmp_path / "run"
    env = _clean_env(OMNI_RUN_DIR=str(run_dir), OMNI_PROCFILE=str(procfile), **settings)
    r = subprocess.run([str(SERVICES_SH), "start"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"services.sh: ERROR: {message}" in r.stderr, r.stderr
    assert not (run_dir / "supervisord.conf").exists() and not (run_dir / "supervisord.pid").exists()
    assert _conf(run_dir, procfile, env).returncode == 2, "supervise.py conf refuses it as well"
