"""`make up`, `make status`, `make logs`, `make down` (and `salesinsights platform …`): the services under the
supervisor, started in dependency order, each once the one before it is healthy."""

from __future__ import annotations

import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from salesinsights.kafka_admin import ensure_topics
from salesinsights.platform import health
from salesinsights.platform.airflow_api import AirflowApi, admin_password, wait_for_dags
from salesinsights.platform.airflow_env import ADMIN_USER, passwords_file
from salesinsights.platform.kafka_server import port_taken, wait_until_answering
from salesinsights.platform.services import AIRFLOW, NAMES, service
from salesinsights.platform.supervisor import Supervisor, SupervisorNotRunningError, start_supervisor
from salesinsights.settings import Settings
from salesinsights.spark.metastore import DERBY_HOST

# DAGs that `make up` unpauses: all of them, so the nightly gate and CLV refresh happen without anyone
# having to find them (on an empty or young lake they skip, saying why); a DAG added later stays paused
# until it is named here.
UNPAUSED_DAGS = [
    "file_drop",
    "streaming",
    "data_quality_nightly",
    "clv_nightly",
    "delta_maintenance",
    "airflow_db_clean",
]
# How long `make up` waits for each service to be healthy.
START_TIMEOUT_S = {
    "kafka": 120,
    "producer": 60,
    "streaming": 300,
    "dashboard": 60,
    "sql": 300,
    "airflow": 240,
}


class StartError(RuntimeError):
    """A service did not become healthy."""


def _say(line: str) -> None:
    print(line, flush=True)


def _log_tail(settings: Settings, name: str, lines: int = 30) -> str:
    path = settings.log_dir / f"{name}.log"
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(settings: Settings, supervisor: Supervisor, name: str, probe: Callable[[], bool]) -> None:
    """Polls the probe until it holds; fails at once when the service has gone FATAL, or at the timeout."""
    timeout_s = START_TIMEOUT_S["airflow" if name in AIRFLOW else name]
    deadline = time.monotonic() + timeout_s
    while not probe():
        state = supervisor.process(name).state
        if state == "FATAL" or time.monotonic() > deadline:
            raise StartError(
                f"{name} not healthy ({state}) after {timeout_s}s; last lines of "
                f"{settings.log_dir / name}.log:\n{_log_tail(settings, name)}"
            )
        time.sleep(1)


def _refuse_taken_port(supervisor: Supervisor, name: str, host: str, port: int) -> None:
    if not supervisor.process(name).up and port_taken(host, port):
        raise StartError(f"{host}:{port} is taken by another process; {name} cannot start")


def _start(settings: Settings, supervisor: Supervisor, name: str) -> None:
    try:
        supervisor.start(name)
    except xmlrpc.client.Fault as fault:
        raise StartError(
            f"{name} did not start ({fault.faultString}):\n{_log_tail(settings, name)}"
        ) from None


def start_kafka(settings: Settings, supervisor: Supervisor) -> None:
    host, port = settings.kafka.bootstrap_servers.rsplit(":", 1)
    _refuse_taken_port(supervisor, "kafka", host, int(port))
    _start(settings, supervisor, "kafka")
    try:
        wait_until_answering(settings, START_TIMEOUT_S["kafka"])
    except TimeoutError as slow:
        raise StartError(f"{slow}; last lines of its log:\n{_log_tail(settings, 'kafka')}") from None
    for change in ensure_topics(settings.kafka):
        _say(f"kafka: {change}")
    # A topic just created has no leader for its partitions for a moment: its offsets cannot be read yet.
    _wait_healthy(settings, supervisor, "kafka", lambda: health.kafka(settings)[0])


def start_probed(settings: Settings, supervisor: Supervisor, name: str) -> None:
    _start(settings, supervisor, name)
    probe = health.PROBES[name]
    _wait_healthy(settings, supervisor, name, lambda: probe(settings)[0])


def start_dashboard(settings: Settings, supervisor: Supervisor) -> None:
    services = settings.services
    _refuse_taken_port(supervisor, "dashboard", services.bind_host, services.dashboard_port)
    start_probed(settings, supervisor, "dashboard")


def start_sql(settings: Settings, supervisor: Supervisor) -> None:
    host, sql = settings.services.bind_host, settings.sql
    for port in (sql.thrift_port, sql.connect_port):
        _refuse_taken_port(supervisor, "sql", host, port)
    if sql.serves_derby:
        _refuse_taken_port(supervisor, "sql", DERBY_HOST, sql.metastore_port)
    start_probed(settings, supervisor, "sql")


def start_airflow(settings: Settings, supervisor: Supervisor) -> None:
    services = settings.services
    _refuse_taken_port(supervisor, AIRFLOW[0], services.bind_host, services.airflow_port)
    began = time.monotonic()
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    settings.airflow_home.chmod(0o700)  # airflow.cfg (generated keys) and the password file live here
    _say("airflow: migrating the metadata database")
    with (settings.log_dir / "airflow-migrate.log").open("ab") as log:
        migrate = [sys.executable, "-m", "salesinsights.platform.launch", "airflow", "db", "migrate"]
        if subprocess.run(migrate, stdout=log, stderr=subprocess.STDOUT, check=False).returncode:
            raise StartError(f"'airflow db migrate' failed:\n{_log_tail(settings, 'airflow-migrate', 20)}")
    first_start = not passwords_file(settings).is_file()
    for name in AIRFLOW:
        _start(settings, supervisor, name)
    _wait_healthy(settings, supervisor, AIRFLOW[0], lambda: health.airflow(settings)[0])
    # Airflow writes the generated password world-readable; it is for this user only.
    passwords_file(settings).chmod(0o600)
    remaining_s = max(START_TIMEOUT_S["airflow"] - (time.monotonic() - began), 30)
    try:
        warnings = wait_for_dags(AirflowApi(settings), settings.home / "dags", UNPAUSED_DAGS, remaining_s)
    except RuntimeError as missing:
        raise StartError(str(missing)) from None
    for warning in warnings:
        _say(f"airflow: warning: {warning}")
    _say(f"airflow: unpaused {', '.join(UNPAUSED_DAGS)}")
    if first_start:
        _say(f"airflow: first start; log in as '{ADMIN_USER}' with the password Airflow generated:")
        _say(f"  {admin_password(settings)}  (again: make password; kept in {passwords_file(settings)})")
    else:
        _say(f"airflow: log in as '{ADMIN_USER}'; 'make password' shows the password")


STARTERS: dict[str, Callable[[Settings, Supervisor], None]] = {
    "kafka": start_kafka,
    "producer": lambda settings, supervisor: start_probed(settings, supervisor, "producer"),
    "streaming": lambda settings, supervisor: start_probed(settings, supervisor, "streaming"),
    "dashboard": start_dashboard,
    "sql": start_sql,
    "airflow": start_airflow,
    "watchdog": lambda settings, supervisor: _start(settings, supervisor, "watchdog"),
}
# What `make up` starts, in order; "airflow" stands for its four parts.
UP_ORDER = ("kafka", "producer", "streaming", "dashboard", "sql", "airflow", "watchdog")


def up(settings: Settings, only: Iterable[str] = UP_ORDER) -> int:
    wanted = set(only)
    unknown = wanted - set(UP_ORDER)
    if unknown:
        _say(f"error: unknown services {', '.join(sorted(unknown))}; choose from {', '.join(UP_ORDER)}")
        return 2
    # The venv's shells follow the settings the platform starts with (its data folder, its jars). Imported
    # here: it loads pyspark, which the other commands (status, logs) do without.
    from salesinsights.spark.shell_defaults import write_spark_defaults

    write_spark_defaults(settings)
    supervisor = start_supervisor(settings)
    _say(f"supervisor: running (socket {supervisor.socket}, logs in {settings.log_dir})")
    for name in UP_ORDER:
        if name not in wanted:
            continue
        began = time.monotonic()
        try:
            STARTERS[name](settings, supervisor)
        except StartError as failed:
            _say(f"error: {failed}")
            return 1
        _say(f"{name}: up in {time.monotonic() - began:.0f}s")
    _say("")
    started = [
        part for name in UP_ORDER if name in wanted for part in (AIRFLOW if name == "airflow" else [name])
    ]
    return status(settings, started)


# Stop order: the watchdog first (it would start again what is being stopped), then Airflow's scheduler
# (while the API server still takes the reports of the tasks it finishes), the rest of Airflow, the SQL
# endpoint, the dashboard, the stream (its micro-batch in flight completes), the producer (its file in
# flight completes), and the broker last.
DOWN_ORDER = (
    "watchdog",
    "airflow-scheduler",
    "airflow-triggerer",
    "airflow-dag-processor",
    "airflow-api-server",
    "sql",
    "dashboard",
    "streaming",
    "producer",
    "kafka",
)


def down(settings: Settings) -> int:
    supervisor = Supervisor(settings)
    if not supervisor.answering():
        _say("supervisor: not running; nothing to stop")
        return 0
    for name in DOWN_ORDER:
        if supervisor.process(name).up:
            supervisor.stop(name)
            _say(f"{name}: stopped")
    supervisor.shutdown()
    _say("supervisor: stopped")
    return 0


def _uptime(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def status(settings: Settings, names: Iterable[str] = NAMES) -> int:
    """One line per service; exits 3 when one is not running or not healthy."""
    supervisor = Supervisor(settings)
    code = 0
    try:
        processes = supervisor.processes()
    except SupervisorNotRunningError:
        _say("supervisor: not running")
        for name in names:
            _say(f"{name}: stopped")
        return 3
    for name in names:
        process = processes[name]
        if process.state != "RUNNING":
            _say(f"{name}: {process.state.lower()} ({process.description})")
            code = 3
            continue
        line = f"{name}: running (pid {process.pid}, up {_uptime(time.time() - process.started_at)})"
        probe = health.PROBES.get(name)
        if probe is not None:
            healthy, detail = probe(settings)
            line += f", {detail}"
            code = code if healthy else 3
        _say(line)
    landing = _visible_files(settings.landing_dir)
    produced = _visible_files(settings.produced_dir)
    _say(f"files: {landing} waiting in {settings.landing_dir}, {produced} produced ({settings.produced_dir})")
    return code


def _visible_files(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for entry in folder.iterdir() if entry.is_file() and not entry.name.startswith("."))


def logs(settings: Settings, lines: int) -> int:
    for path in sorted(settings.log_dir.glob("*.log")):
        _say(f"==> {path} <==")
        _say("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        _say("")
    return 0


def start_one(settings: Settings, name: str) -> int:
    service(name)
    supervisor = Supervisor(settings)
    try:
        starter = "airflow" if name in AIRFLOW else name
        if starter == "airflow":
            _start(settings, supervisor, name)
        else:
            STARTERS[starter](settings, supervisor)
    except (StartError, SupervisorNotRunningError) as failed:
        _say(f"error: {failed} (is the platform up? make up)")
        return 1
    _say(f"{name}: running")
    return 0


def stop_one(settings: Settings, name: str) -> int:
    service(name)
    try:
        Supervisor(settings).stop(name)
    except SupervisorNotRunningError:
        _say(f"{name}: not running (the supervisor is not running)")
        return 0
    _say(f"{name}: stopped")
    return 0


def password(settings: Settings) -> int:
    if not passwords_file(settings).is_file():
        _say("error: no password yet: Airflow generates it when its API server first starts (make up)")
        return 1
    _say(f"user:     {ADMIN_USER}")
    _say(f"password: {admin_password(settings)}")
    _say(f"(generated by Airflow, kept in {passwords_file(settings)}; git-ignored, readable by you only)")
    return 0
