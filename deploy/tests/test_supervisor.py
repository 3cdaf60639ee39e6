"""deploy/local/services.sh under supervisord, on two dummy HTTP services (no Kafka, no PostgreSQL).

A `kill -9` of one brings it back by itself while the other keeps its pid; a service that keeps crashing at
start is retried after supervisord gives up (FATAL); `stop` leaves nothing running.
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    ports = {n: _free_port() for n in ("alpha", "beta", "gamma")}
    env = {
        **os.environ,
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
