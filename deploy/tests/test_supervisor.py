"""deploy/local/services.sh under supervisord, on two dummy HTTP services (no Kafka, no PostgreSQL).

A `kill -9` of one brings it back by itself while the other keeps its pid; a service that keeps crashing at
start is retried after supervisord gives up (FATAL); `stop` leaves nothing running; SCALE_<SERVICE> runs
replicas that status, restart and stop all know about.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES_SH = ROOT / "deploy/local/services.sh"

DUMMY = textwrap.dedent(
    """
    import os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from pathlib import Path

    name = sys.argv[1]
    fail_first = int(os.environ.get(name.upper() + "_FAIL_FIRST", "0"))
    if fail_first:  # crash at start this many times (counted in a file), then run
        counter = Path(os.environ["OMNI_RUN_DIR"]) / (name + ".starts")
        starts = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(starts + 1))
        if starts < fail_first:
            sys.exit(3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            marker = os.environ.get("DUMMY_MARKER", "").encode()
            body = {"/health/ready": b"ok", "/env": marker}.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(os.environ[name.upper() + "_HTTP_PORT"])), Handler).serve_forever()
    """
)


def _free_port(exclude: set[int] | frozenset[int] = frozenset()) -> int:
    """A port nobody listens on now, and not one of `exclude` (ports chosen but not bound yet)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port


def _get(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
            return r.read().decode()
    except OSError:
        return None


@pytest.fixture
def stack(tmp_path: Path):
    run_dir = tmp_path / "run"
    (tmp_path / "dummy.py").write_text(DUMMY)
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "".join(
            f"{n}: exec {sys.executable} {tmp_path / 'dummy.py'} {n}\n" for n in ("alpha", "beta", "gamma")
        )
    )
    ports: dict[str, int] = {}
    for n in ("alpha", "beta", "gamma"):  # distinct: none is bound until the stack starts
        ports[n] = _free_port(exclude=set(ports.values()))
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith("SCALE_") and not k.endswith("_HTTP_PORT")
        },
        "OMNI_RUN_DIR": str(run_dir),
        "OMNI_PROCFILE": str(procfile),
        "SERVICES_START_TIMEOUT": "60",
        "SERVICES_START_SECS": "1",
        "SERVICES_START_RETRIES": "2",
        "FATAL_RETRY_SECONDS": "1",
        "GAMMA_FAIL_FIRST": "5",  # 3 failed starts -> FATAL -> started again by the listener -> 2 more -> up
        "DUMMY_MARKER": "reached-the-service",
        **{f"{n.upper()}_HTTP_PORT": str(p) for n, p in ports.items()},
    }

    def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([str(SERVICES_SH), *args], env=env, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"services.sh {' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    sh.env = env  # type: ignore[attr-defined]  # a test may add settings before `start`
    try:
        yield sh, ports, run_dir
    finally:
        sh("stop", check=False)


def _pids(sh) -> dict[str, int | None]:
    return {r["service"]: r["pid"] for r in json.loads(sh("status", "--json").stdout)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_service_comes_back_and_the_others_keep_running(stack):
    sh, ports, run_dir = stack
    out = sh("start").stdout
    assert "services ready" in out
    assert _get(ports["alpha"], "/env") == "reached-the-service"  # the caller's environment reaches services
    status = sh("status").stdout
    assert all(f"{n}" in status for n in ports) and " no" not in status, status
    before = _pids(sh)
    assert all(before.values()), before

    os.kill(before["alpha"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        now = _pids(sh)
        assert now["beta"] == before["beta"], "beta was restarted when alpha died"
        if now["alpha"] not in (None, before["alpha"]) and _get(ports["alpha"], "/health/ready") == "ok":
            break
        assert time.monotonic() < deadline, f"alpha did not come back in 30 s: {sh('status').stdout}"
        time.sleep(0.2)
    assert _alive(before["beta"]) and not _alive(before["alpha"])
    assert (run_dir / "logs" / "alpha.log").exists()

    sh("restart", "beta")
    after = _pids(sh)
    assert after["beta"] != before["beta"] and _get(ports["beta"], "/health/ready") == "ok"

    sh("stop")
    for pid in after.values():
        assert pid is not None and not _alive(pid)
    for port in ports.values():
        assert _get(port, "/health/ready") is None
    assert sh("status", check=False).returncode == 1


def test_a_service_that_keeps_crashing_at_start_is_retried_past_fatal(stack):
    sh, ports, run_dir = stack
    sh("start")  # waits for gamma too: it crashes 5 times, goes FATAL once, and is started again
    assert _get(ports["gamma"], "/health/ready") == "ok"
    assert int((run_dir / "gamma.starts").read_text()) == 6
    assert "gamma started again" in (run_dir / "logs" / "fatal-restarter.log").read_text()


def test_start_fails_clearly_when_a_port_is_taken(stack):
    sh, ports, _ = stack
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", ports["beta"]))
        s.listen()
        r = sh("start", check=False)
    assert r.returncode != 0 and f"port {ports['beta']} for 'beta' is taken" in r.stderr


def test_replicas_run_side_by_side_and_status_restart_and_stop_know_them(stack):
    sh, ports, run_dir = stack
    taken = set(ports.values())  # the stack's ports are chosen but not listened on yet: never pick them again
    alpha2 = _free_port(exclude=taken)
    alpha3 = _free_port(exclude=taken | {alpha2})
    sh.env.update(SCALE_ALPHA="3", ALPHA_2_HTTP_PORT=str(alpha2), ALPHA_3_HTTP_PORT=str(alpha3))
    sh.env.pop("GAMMA_FAIL_FIRST")
    out = sh("start").stdout  # waits for every replica's /health/ready
    assert "alpha-2" in out and "alpha-3" in out and "replica 3 of alpha" in out, out
    rows = {r["service"]: r for r in json.loads(sh("status", "--json").stdout)}
    assert sorted(rows) == ["alpha", "alpha-2", "alpha-3", "beta", "gamma"]
    assert (
        rows["alpha-3"]["port"] == alpha3
        and rows["alpha-3"]["of"] == "alpha"
        and rows["alpha-3"]["replica"] == 3
    )
    assert all(r["ready"] and r["state"] == "RUNNING" for r in rows.values()), rows
    assert len({r["port"] for r in rows.values()}) == 5 and len({r["pid"] for r in rows.values()}) == 5
    for name in ("alpha", "alpha-2", "alpha-3"):
        assert _get(rows[name]["port"], "/env") == "reached-the-service", name  # the same environment
        assert (run_dir / "logs" / f"{name}.log").exists()
    text = sh("status").stdout
    assert all(f"  {name} " in text for name in rows), text

    # the caller's SCALE no longer matters: the programs are the ones started
    sh.env.pop("SCALE_ALPHA")
    noted = sh("start")
    assert "already running" in noted.stdout and "take effect after" in noted.stderr, noted.stderr
    sh("restart", "alpha-2")  # one replica
    after = _pids(sh)
    assert after["alpha-2"] != rows["alpha-2"]["pid"]
    assert all(after[n] == rows[n]["pid"] for n in ("alpha", "alpha-3", "beta", "gamma"))

    r = sh("restart", "alpha")  # every replica, one after the other
    assert [line for line in r.stdout.splitlines() if line.endswith(" ready")] == [
        "alpha ready",
        "alpha-2 ready",
        "alpha-3 ready",
    ]
    again = _pids(sh)
    assert (
        all(again[n] != after[n] for n in ("alpha", "alpha-2", "alpha-3")) and again["beta"] == after["beta"]
    )

    sh("stop", "alpha")
    states = {r["service"]: r["state"] for r in json.loads(sh("status", "--json").stdout)}
    assert states == {"alpha": "STOPPED", "alpha-2": "STOPPED", "alpha-3": "STOPPED", "beta": "RUNNING",
                      "gamma": "RUNNING"}  # fmt: skip
    sh("start", "alpha")
    assert all(p for p in _pids(sh).values())

    final = _pids(sh)
    sh("stop")  # as `make down` runs it: without SCALE_ALPHA
    for name, pid in final.items():
        assert pid is not None and not _alive(pid), name
    assert _get(alpha3, "/health/ready") is None
