"""The Python half of deploy/local/services.sh: supervisord's config, status, readiness, FATAL retries.

    supervise.py conf RUN_DIR PROCFILE ROOT        write RUN_DIR/supervisord.conf (+ one script per program)
    supervise.py status RUN_DIR [--json] svc=port... each program's pid, state, uptime, port, ready
    supervise.py wait RUN_DIR TIMEOUT svc=port...    until each answers /health/ready (non-zero on timeout)
    supervise.py listen                              event listener run by supervisord (see below)

supervisord restarts a program that dies (`autorestart`). A program that dies within `startsecs` of its start
is retried `startretries` times with a backoff that grows by a second each time, then supervisord gives up
(FATAL). The listener turns that into "never give up": FATAL_RETRY_SECONDS (default 30) after a FATAL it
starts the program again, so a service that cannot start while its database is down comes back by itself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

STARTSECS = int(os.environ.get("SERVICES_START_SECS", "10"))  # up this long = started
STARTRETRIES = int(os.environ.get("SERVICES_START_RETRIES", "10"))  # failed starts in a row before FATAL


def procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"supervise.py: {path}: not 'name: command': {line!r}")
        entries.append((name.strip(), command.strip()))
    return entries


def _value(text: str | Path) -> str:
    """A value for supervisord's ini file: `%` is its interpolation character."""
    return str(text).replace("%", "%%")


def write_conf(run_dir: Path, procfile_path: Path, root: Path) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    commands = run_dir / "commands"
    commands.mkdir(exist_ok=True)
    sock = run_dir / "supervisor.sock"
    lines = [
        "; written by deploy/local/supervise.py from the Procfile on every `services.sh start`",
        "[unix_http_server]",
        f"file={_value(sock)}",
        "chmod=0700",
        "[supervisord]",
        f"pidfile={_value(run_dir / 'supervisord.pid')}",
        f"logfile={_value(run_dir / 'supervisord.log')}",
        "logfile_maxbytes=10MB",
        "logfile_backups=1",
        f"childlogdir={_value(run_dir / 'logs')}",
        f"directory={_value(root)}",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]",
        f"serverurl=unix://{_value(sock)}",
    ]
    for name, command in procfile(procfile_path):
        script = commands / f"{name}.sh"
        # A script, not an inline command: the Procfile's shell syntax needs no escaping for the ini file.
        script.write_text(f"# {name}, from {procfile_path}\ncd {shlex.quote(str(root))}\n{command}\n")
        lines += [
            f"[program:{name}]",
            f"command=/bin/bash {_value(script)}",
            f"directory={_value(root)}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={STARTSECS}",
            f"startretries={STARTRETRIES}",
            "stopsignal=TERM",
            "stopwaitsecs=20",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_value(run_dir / 'logs' / f'{name}.log')}",
            "stdout_logfile_maxbytes=50MB",
            "stdout_logfile_backups=1",
        ]
    lines += [
        "[eventlistener:fatal-restarter]",
        f"command={_value(sys.executable)} {_value(Path(__file__).resolve())} listen",
        "events=PROCESS_STATE_FATAL,TICK_5",
        "autorestart=true",
        "buffer_size=100",
        "stdout_logfile=NONE",
        f"stderr_logfile={_value(run_dir / 'logs' / 'fatal-restarter.log')}",
        "stderr_logfile_maxbytes=5MB",
    ]
    conf = run_dir / "supervisord.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def rpc(run_dir: Path):
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{run_dir / 'supervisor.sock'}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _ports(pairs: list[str]) -> dict[str, int]:
    return {name: int(port) for name, _, port in (p.partition("=") for p in pairs)}


def _uptime(info: dict) -> str:
    if info["statename"] != "RUNNING" or not info["start"]:
        return "-"
    s = int(info["now"] - info["start"])
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def programs(run_dir: Path, ports: dict[str, int]) -> list[dict]:
    rows = []
    for info in rpc(run_dir).getAllProcessInfo():
        if info["group"] != info["name"] or info["name"] not in ports:
            continue  # the event listener
        port = ports[info["name"]]
        rows.append(
            {
                "service": info["name"],
                "pid": info["pid"] or None,
                "state": info["statename"],
                "uptime": _uptime(info),
                "port": port,
                "ready": info["statename"] == "RUNNING" and ready(port),
                "log": info["stdout_logfile"],
            }
        )
    return rows


def status(run_dir: Path, ports: dict[str, int], as_json: bool) -> int:
    try:
        rows = programs(run_dir, ports)
    except OSError:
        print("not running" if not as_json else "[]")
        return 1
    if as_json:
        print(json.dumps(rows))
        return 0
    pid = (run_dir / "supervisord.pid").read_text().strip()
    print(f"supervisord pid {pid} (config {run_dir / 'supervisord.conf'})")
    print(f"  {'service':<12} {'pid':>7}  {'state':<9} {'uptime':>8}  {'port':>5}  ready")
    for r in rows:
        pid_text = str(r["pid"] or "-")
        ready_text = "yes" if r["ready"] else "no"
        print(
            f"  {r['service']:<12} {pid_text:>7}  {r['state']:<9} {r['uptime']:>8}  {r['port']:>5}",
            ready_text,
        )
    return 0 if all(r["ready"] for r in rows) else 3


def _tail(path: str, n: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def wait(run_dir: Path, timeout: float, ports: dict[str, int]) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            rows = [r for r in programs(run_dir, ports) if not r["ready"]]
        except OSError as e:
            print(f"services.sh: ERROR: supervisord does not answer ({e})", file=sys.stderr)
            return 1
        if not rows:
            return 0
        if time.monotonic() > deadline:
            for r in rows:
                print(f"--- {r['service']} ({r['state']}), last lines of {r['log']}:", file=sys.stderr)
                print(_tail(r["log"]), file=sys.stderr)
            names = ", ".join(f"{r['service']} ({r['state']})" for r in rows)
            print(f"services.sh: ERROR: not ready after {timeout:.0f}s: {names}", file=sys.stderr)
            return 1
        time.sleep(0.5)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def listen() -> None:
    """supervisord event listener: start a FATAL program again after FATAL_RETRY_SECONDS."""
    from supervisor import childutils

    delay = float(os.environ.get("FATAL_RETRY_SECONDS", "30"))
    due: dict[str, float] = {}
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"] == "PROCESS_STATE_FATAL":
            name = dict(t.split(":", 1) for t in payload.split())["processname"]
            due[name] = time.monotonic() + delay
            print(f"{_now()} {name} FATAL: start again in {delay:.0f}s", file=sys.stderr)
        for name, at in list(due.items()):
            if time.monotonic() >= at:
                del due[name]
                try:
                    childutils.getRPCInterface(os.environ).supervisor.startProcess(name, False)
                    print(f"{_now()} {name} started again", file=sys.stderr)
                except Exception as e:  # a failed attempt is retried after the next FATAL
                    print(f"{name}: start failed: {e!r}", file=sys.stderr)
        sys.stderr.flush()
        childutils.listener.ok(sys.stdout)


def main(argv: list[str]) -> int:
    cmd, *args = argv or ["help"]
    if cmd == "conf":
        print(write_conf(Path(args[0]), Path(args[1]), Path(args[2])))
        return 0
    if cmd == "status":
        as_json = "--json" in args
        args = [a for a in args if a != "--json"]
        return status(Path(args[0]), _ports(args[1:]), as_json)
    if cmd == "wait":
        return wait(Path(args[0]), float(args[1]), _ports(args[2:]))
    if cmd == "listen":
        listen()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
