"""The Python half of deploy/local/services.sh: supervisord's config, status, readiness, FATAL retries.

    supervise.py plan PROCFILE                     programs the env asks for: name service replica port
    supervise.py conf RUN_DIR PROCFILE ROOT        write RUN_DIR/supervisord.conf (+ one script per program),
                                                   and RUN_DIR/programs: the plan it was written from
    supervise.py status RUN_DIR [--json] svc=port... each program's pid, state, uptime, port, ready
    supervise.py wait RUN_DIR TIMEOUT svc=port...    until each answers /health/ready (non-zero on timeout)
    supervise.py listen                              event listener run by supervisord (see below)

supervisord restarts a program that dies (`autorestart`). A program that dies within `startsecs` of its start
is retried `startretries` times with a backoff that grows by a second each time, then supervisord gives up
(FATAL). The listener turns that into "never give up": FATAL_RETRY_SECONDS (default 30) after a FATAL it
starts the program again, so a service that cannot start while its database is down comes back by itself.

Replicas: `SCALE_<SERVICE>=N` (1..MAX_SCALE) runs N copies of a Procfile entry. Replica 1 is the program
`<service>` as without SCALE; replica k >= 2 is the program `<service>-k` with its own log, on port
`<SERVICE>_<k>_HTTP_PORT` (default: the service's port + SCALE_PORT_STEP * (k - 1); step 100), and otherwise
the same command and environment, so the same consumer groups (Kafka spreads the partitions over them) and the
same database (the outbox relay's advisory lock keeps one relay active). Ports must all differ.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
import urllib.request
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STARTSECS = int(os.environ.get("SERVICES_START_SECS", "10"))  # up this long = started
STARTRETRIES = int(os.environ.get("SERVICES_START_RETRIES", "10"))  # failed starts in a row before FATAL
# Each service's own default (the chassis's `http_port` of its Settings); `<SERVICE>_HTTP_PORT` moves it.
DEFAULT_PORTS = {
    "gateway": 8000,
    "product": 8001,
    "inventory": 8002,
    "order": 8003,
    "fulfillment": 8004,
    "finance": 8005,
    "channel": 8006,
}
# More replicas than a topic has partitions (6) would sit idle; a handful is what a local stack needs.
MAX_SCALE = 8
DEFAULT_PORT_STEP = 100
_SCALE_SETTINGS = {"SCALE_PORT_STEP"}
_WHY_MAX = " (a topic has 6 partitions: replicas past the 6th would only stand by)"


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


class PlanError(Exception):
    """A SCALE_* or port setting that cannot work; the message says which and why."""


@dataclass(frozen=True)
class Program:
    """One supervisord program: replica `replica` (1-based) of the Procfile entry `service`."""

    name: str
    service: str
    replica: int
    port: int

    def line(self) -> str:
        return f"{self.name} {self.service} {self.replica} {self.port}"

    @property
    def port_var(self) -> str:
        """The variable that sets this program's port."""
        prefix = env_name(self.service)
        return f"{prefix}_HTTP_PORT" if self.replica == 1 else f"{prefix}_{self.replica}_HTTP_PORT"


def env_name(service: str) -> str:
    """The environment-variable spelling of a service name: `order` -> `ORDER`, `my-svc` -> `MY_SVC`."""
    return service.upper().replace("-", "_")


def _int_setting(
    env: Mapping[str, str], var: str, default: int, low: int, high: int, what: str, why: str = ""
) -> int:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
        raise PlanError(f"{var}={env[var]!r}: {what} must be a whole number from {low} to {high}{why}")
    return int(raw)


def plan(services: list[str], env: Mapping[str, str] = os.environ) -> list[Program]:
    """Every program to run, from the Procfile's entries and the environment (SCALE_*, *_HTTP_PORT)."""
    by_env = {env_name(s): s for s in services}
    unknown = sorted(
        v for v in env if v.startswith("SCALE_") and v not in _SCALE_SETTINGS and v[6:] not in by_env
    )
    if unknown:
        known = ", ".join(f"SCALE_{n}" for n in by_env)
        raise PlanError(f"{', '.join(unknown)}: no such service in the Procfile (known: {known})")
    step = _int_setting(env, "SCALE_PORT_STEP", DEFAULT_PORT_STEP, 1, 10000, "the port distance of replicas")
    wanted: list[Program] = []
    for service in services:
        prefix = env_name(service)
        scale = _int_setting(env, f"SCALE_{prefix}", 1, 1, MAX_SCALE, f"the replicas of {service}", _WHY_MAX)
        base = _int_setting(env, f"{prefix}_HTTP_PORT", DEFAULT_PORTS.get(service, 0), 0, 65535, "a port")
        wanted.append(Program(service, service, 1, base))
        for k in range(2, scale + 1):
            var = f"{prefix}_{k}_HTTP_PORT"
            if not base and not env.get(var, "").strip():
                raise PlanError(f"SCALE_{prefix}={scale}: {service} has no port to count from; set {var}")
            port = _int_setting(env, var, base + step * (k - 1), 1, 65535, f"{service} replica {k}'s port")
            wanted.append(Program(f"{service}-{k}", service, k, port))
    by_name: dict[str, Program] = {}
    by_port: dict[int, Program] = {}
    for p in wanted:
        if p.name in by_name:
            raise PlanError(f"replica {p.replica} of {p.service} would be {p.name}, a Procfile entry's name")
        by_name[p.name] = p
        other = by_port.get(p.port)
        if p.port and other is not None:
            raise PlanError(
                f"port {p.port} would serve both {other.name} and {p.name}: "
                f"set {p.port_var} (or {other.port_var}, or SCALE_PORT_STEP)"
            )
        by_port[p.port] = p
    return wanted


def _value(text: str | Path) -> str:
    """A value for supervisord's ini file: `%` is its interpolation character."""
    return str(text).replace("%", "%%")


def write_conf(run_dir: Path, procfile_path: Path, root: Path, env: Mapping[str, str] = os.environ) -> Path:
    entries = dict(procfile(procfile_path))
    wanted = plan(list(entries), env)
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
    for program in wanted:
        name, command = program.name, entries[program.service]
        script = commands / f"{name}.sh"
        # A script, not an inline command: the Procfile's shell syntax needs no escaping for the ini file.
        head = f"# {name}, from {procfile_path}\n"
        if program.replica > 1:  # the only difference from replica 1: its port
            head += f"# replica {program.replica} of {program.service}\n"
            head += f"export {env_name(program.service)}_HTTP_PORT={program.port}\n"
        script.write_text(f"{head}cd {shlex.quote(str(root))}\n{command}\n")
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
    # What status/wait/restart/stop act on while this supervisord runs, whatever their own environment says.
    (run_dir / "programs").write_text("".join(p.line() + "\n" for p in wanted))
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


def saved_plan(run_dir: Path) -> dict[str, Program]:
    """The programs the running supervisord's config was written for (RUN_DIR/programs)."""
    try:
        text = (run_dir / "programs").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        name, service, replica, port = line.split()
        out[name] = Program(name, service, int(replica), int(port))
    return out


def programs(run_dir: Path, ports: dict[str, int]) -> list[dict]:
    rows = []
    saved = saved_plan(run_dir)
    for info in rpc(run_dir).getAllProcessInfo():
        if info["group"] != info["name"] or info["name"] not in ports:
            continue  # the event listener
        port = ports[info["name"]]
        program = saved.get(info["name"])
        rows.append(
            {
                "service": info["name"],  # the program: `order`, `order-2`, …
                "of": program.service if program else info["name"],  # its Procfile entry
                "replica": program.replica if program else 1,
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
    print(f"  {'service':<14} {'pid':>7}  {'state':<9} {'uptime':>8}  {'port':>5}  ready")
    for r in rows:
        pid_text = str(r["pid"] or "-")
        ready_text = "yes" if r["ready"] else "no"
        print(
            f"  {r['service']:<14} {pid_text:>7}  {r['state']:<9} {r['uptime']:>8}  {r['port']:>5}",
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
    try:
        if cmd == "plan":
            for p in plan([name for name, _ in procfile(Path(args[0]))]):
                print(p.line())
            return 0
        if cmd == "conf":
            print(write_conf(Path(args[0]), Path(args[1]), Path(args[2])))
            return 0
    except PlanError as e:
        print(f"services.sh: ERROR: {e}", file=sys.stderr)
        return 2
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
