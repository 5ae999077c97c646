"""supervisord for the platform: its configuration (rendered from the settings and the service catalogue),
starting it, and its XML-RPC control interface over a Unix socket in data/run (mode 0700, no TCP port), which
`make up/status/down`, the watchdog and the `streaming` DAG all use, so that nothing else starts or signals
a service.

The supervisor tracks its children itself: no pid files, so a pid that another process has reused never
passes for a service, and `make down` signals only processes that the supervisor started."""

from __future__ import annotations

import http.client
import shlex
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervisor.xmlrpc import SupervisorTransport

from salesinsights.platform.services import SERVICES, Service
from salesinsights.settings import Settings

SOCKET = "supervisor.sock"
CONFIG = "supervisord.conf"
# sockaddr_un holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107
# States (supervisor.states.ProcessStates) in which a service is, or is about to be, up.
UP_STATES = frozenset({"STARTING", "RUNNING", "BACKOFF"})


class SupervisorNotRunningError(RuntimeError):
    """Nothing answers on the supervisor's socket."""


def socket_path(settings: Settings) -> Path:
    path = settings.run_dir / SOCKET
    if len(str(path).encode()) > MAX_SOCKET_PATH:
        raise ValueError(
            f"the supervisor's socket path {path} is longer than a Unix socket allows ({MAX_SOCKET_PATH} "
            "bytes): set SALESINSIGHTS_DATA_DIR to a shorter folder"
        )
    return path


def _value(text: object) -> str:
    """A configuration value. supervisord expands %(name)s in values, some of them twice (log file names),
    so no escaping holds for every field: a % is refused."""
    value = str(text)
    if "%" in value:
        raise ValueError(
            f"{value!r} holds a '%', which supervisord's configuration cannot hold: move the project or "
            "set SALESINSIGHTS_DATA_DIR to a folder without one"
        )
    return value


def _section(title: str, values: dict[str, object]) -> str:
    lines = [f"[{title}]", *(f"{key}={_value(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"


def program_section(settings: Settings, service: Service, priority: int) -> str:
    launcher = [sys.executable, "-m", "salesinsights.platform.launch", service.name]
    options = settings.supervisor
    return _section(
        f"program:{service.name}",
        {
            "command": shlex.join(launcher),
            "directory": settings.home,
            # `make up` starts the services in order, each once the one before is healthy; from then on
            # the supervisor restarts any that exits, whatever its exit status.
            "priority": priority,
            "autostart": "false",
            "autorestart": "true",
            "startsecs": options.start_seconds,
            "startretries": options.start_retries,
            "stopsignal": "TERM",
            "stopwaitsecs": service.stop_wait_s,
            # The JVMs and Airflow's workers are children of the launched process: kill them all.
            "stopasgroup": str(service.stop_group).lower(),
            "killasgroup": "true",
            "redirect_stderr": "true",
            "stdout_logfile": settings.log_dir / f"{service.name}.log",
            "stdout_logfile_maxbytes": options.log_max_bytes,
            "stdout_logfile_backups": options.log_backups,
        },
    )


def render_config(settings: Settings) -> str:
    """supervisord.conf: the control socket, the supervisor's own log and pid file, one program per service
    (priority in catalogue order, so that a shutdown stops them in reverse)."""
    options = settings.supervisor
    sections = [
        _section("unix_http_server", {"file": socket_path(settings), "chmod": "0700"}),
        _section(
            "supervisord",
            {
                "logfile": settings.log_dir / "supervisord.log",
                "logfile_maxbytes": options.log_max_bytes,
                "logfile_backups": options.log_backups,
                "pidfile": settings.run_dir / "supervisord.pid",
                "directory": settings.home,
                # Logs can hold secrets (Airflow prints the admin password it generates).
                "umask": "077",
                "identifier": f"salesinsights:{settings.data}",
            },
        ),
        _section(
            "rpcinterface:supervisor",
            {"supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"},
        ),
        _section("supervisorctl", {"serverurl": f"unix://{socket_path(settings)}"}),
        *(program_section(settings, service, 10 * (i + 1)) for i, service in enumerate(SERVICES)),
    ]
    return "\n".join(sections)


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    state: str
    pid: int
    started_at: float  # epoch seconds; 0 before the first start
    description: str
    exit_status: int

    @property
    def up(self) -> bool:
        return self.state in UP_STATES


class Supervisor:
    """The running supervisord of one data folder, through its socket."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.socket = socket_path(settings)

    def _call(self, method: str, *arguments: object) -> Any:
        # A connection of its own per call: the transport's kept connection is unusable after a failure.
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        proxy: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        try:
            return getattr(proxy.supervisor, method)(*arguments)
        except (OSError, http.client.HTTPException) as error:  # no socket, or nothing (complete) answering
            raise SupervisorNotRunningError(
                f"the supervisor is not running ({self.socket}: {error})"
            ) from None
        finally:
            transport.close()

    def answering(self) -> bool:
        try:
            return self._call("getState")["statename"] == "RUNNING"
        except SupervisorNotRunningError:
            return False

    def processes(self) -> dict[str, ProcessInfo]:
        return {info["name"]: _info(info) for info in self._call("getAllProcessInfo")}

    def process(self, name: str) -> ProcessInfo:
        return _info(self._call("getProcessInfo", name))

    def start(self, name: str) -> None:
        """Starts the service and waits until it has stayed up for its start time; a service already up is
        left alone. Raises xmlrpc.client.Fault when it does not start."""
        if self.process(name).up:
            return
        try:
            self._call("startProcess", name, True)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise

    def stop(self, name: str) -> None:
        """SIGTERM to the service's process group; SIGKILL after its stop time. Waits until it is down."""
        if not self.process(name).up:
            return
        try:
            self._call("stopProcess", name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise

    def shutdown(self, timeout_s: float = 60) -> None:
        """Stops supervisord (and whatever still runs under it) and waits until its socket is gone."""
        self._call("shutdown")
        deadline = time.monotonic() + timeout_s
        while self.answering() or self.socket.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the supervisor did not exit within {timeout_s:.0f}s")
            time.sleep(0.2)


def _info(info: dict[str, Any]) -> ProcessInfo:
    return ProcessInfo(
        name=info["name"],
        state=info["statename"],
        pid=int(info["pid"]),
        started_at=float(info["start"]),
        description=info["description"],
        exit_status=int(info["exitstatus"]),
    )


def start_supervisor(settings: Settings, timeout_s: float = 30) -> Supervisor:
    """Writes the configuration and starts supervisord (it runs in the background) unless it already runs."""
    supervisor = Supervisor(settings)
    if supervisor.answering():
        return supervisor
    for folder in (settings.run_dir, settings.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    config = settings.run_dir / CONFIG
    config.write_text(render_config(settings))
    config.chmod(0o600)
    subprocess.run(
        [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
        cwd=settings.home,
        check=True,
        timeout=timeout_s,
    )
    deadline = time.monotonic() + timeout_s
    while not supervisor.answering():
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"supervisord not answering after {timeout_s:.0f}s; see its log in {settings.log_dir}"
            )
        time.sleep(0.2)
    return supervisor
