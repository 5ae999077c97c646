"""One line of health per service, as `make status` prints it and `make up` waits for it: each probe returns
(healthy, detail). Probes never raise."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from salesinsights.kafka_admin import topic_record_counts
from salesinsights.platform.airflow_api import AirflowApi
from salesinsights.platform.services import AIRFLOW
from salesinsights.platform.supervisor import Supervisor, SupervisorNotRunningError
from salesinsights.platform.watchdog import own_report, read_actions
from salesinsights.producer.service import STATUS_FILE as PRODUCER_STATUS
from salesinsights.settings import Settings
from salesinsights.spark.metastore import DERBY_HOST
from salesinsights.spark.progress import STATUS_FILE as STREAMING_STATUS
from salesinsights.spark.sql_health import STATUS_FILE as SQL_STATUS

Probe = tuple[bool, str]
# The producer and the streaming application rewrite their files every poll interval and every second.
FRESH_S = 30
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def status_file(settings: Settings, name: str) -> tuple[dict[str, Any] | None, float]:
    """A service's health file and its age in seconds (None, inf when there is none)."""
    path = settings.run_dir / name
    try:
        return json.loads(path.read_text()), time.time() - path.stat().st_mtime
    except (OSError, ValueError):
        return None, float("inf")


def supervised_report(settings: Settings, service: str, name: str) -> tuple[dict[str, Any] | None, float]:
    """The health file of `service` and its age, only when the process the supervisor runs for it wrote
    the file: a report its previous run left behind must not make a dead or restarting service look healthy
    for the FRESH_S it stays fresh."""
    status, age = status_file(settings, name)
    try:
        pid = Supervisor(settings).process(service).pid
    except SupervisorNotRunningError:
        return None, float("inf")
    status = own_report(status, pid)
    return (status, age) if status is not None else (None, float("inf"))


def kafka(settings: Settings) -> Probe:
    try:
        counts = topic_record_counts(settings.kafka)
    except Exception as error:  # any client error means: not answering
        return False, f"not answering on {settings.kafka.bootstrap_servers} ({error})"
    topics = ", ".join(f"{name} {count}" for name, count in counts.items())
    return True, f"on {settings.kafka.bootstrap_servers}; offsets per topic: {topics}"


def producer(settings: Settings) -> Probe:
    status, age = supervised_report(settings, "producer", PRODUCER_STATUS)
    if status is None or age > FRESH_S:
        return False, "not reporting"
    if status.get("waiting_for_broker"):
        return True, "waiting for the broker"
    return True, (
        f"healthy: {status['files_produced_since_start']} files produced since start, "
        f"{status['pending_files']} pending, last {status['last_file']}"
    )


def streaming(settings: Settings) -> Probe:
    status, age = supervised_report(settings, "streaming", STREAMING_STATUS)
    if status is None or age > FRESH_S:
        return False, "not reporting"
    if not status.get("active"):
        return False, f"a query is not active: {status.get('queries')}"
    queries = "; ".join(
        f"{name} batch {query.get('last_batch_id')}, lag {query.get('kafka_lag')}{_state(query)}"
        for name, query in status["queries"].items()
    )
    return True, f"healthy: {queries}"


def _state(query: dict[str, object]) -> str:
    """A stateful query's state rows and the late rows it dropped, when it reports them."""
    rows, dropped = query.get("state_rows"), query.get("state_rows_dropped_by_watermark")
    return "" if rows is None else f", state {rows} rows, {dropped} dropped as late"


def dashboard(settings: Settings) -> Probe:
    url = settings.services.dashboard_url
    try:
        with _OPENER.open(f"{url}/api/health", timeout=5) as response:
            report = json.load(response)
    except (OSError, ValueError) as error:
        return False, f"not answering at {url} ({error})"
    age = report["freshness"]["gold_age_seconds"]
    updated = "" if age is None else f", gold updated {age:.1f} s ago"
    return True, f"at {url}, {report['status']}: {report['message']}{updated}"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def sql(settings: Settings) -> Probe:
    status, age = supervised_report(settings, "sql", SQL_STATUS)
    host, ports = settings.services.bind_host, settings.sql
    if status is None or age > settings.sql.refresh.total_seconds() + FRESH_S:
        return False, "not reporting"
    addresses = [(host, ports.thrift_port), (host, ports.connect_port)]
    if ports.serves_derby:
        addresses.append((DERBY_HOST, ports.metastore_port))
    closed = [f"{address}:{port}" for address, port in addresses if not _listening(address, port)]
    if closed:
        return False, f"not listening on {', '.join(closed)}"
    metastore = f"Derby on {DERBY_HOST}:{ports.metastore_port}" if ports.serves_derby else "Postgres"
    return True, (
        f"JDBC jdbc:hive2://{host}:{ports.thrift_port}, Spark Connect sc://{host}:{ports.connect_port}, "
        f"metastore {metastore}; {len(status['tables'])} tables"
    )


def airflow(settings: Settings) -> Probe:
    api = AirflowApi(settings)
    try:
        parts = api.health()
    except (OSError, ValueError) as error:
        return False, f"{api.base} unreachable ({error})"
    summary = " ".join(f"{part}={state}" for part, state in parts.items())
    return all(state == "healthy" for state in parts.values()), f"{api.base} {summary}"


def watchdog(settings: Settings) -> Probe:
    actions = read_actions(settings.run_dir)
    if not actions:
        return True, "no action taken"
    last = actions[-1]
    return True, f"{len(actions)} recent actions; last at {last['at']}: {last['service']} {last['action']}"


PROBES: dict[str, Callable[[Settings], Probe]] = {
    "kafka": kafka,
    "producer": producer,
    "streaming": streaming,
    "dashboard": dashboard,
    "sql": sql,
    # Airflow's API server reports on all its parts; each part's own line shows only its process.
    AIRFLOW[0]: airflow,
    "watchdog": watchdog,
}
