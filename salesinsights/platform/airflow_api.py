"""Talking to Airflow's API server with the standard library: health, a token for the admin, the DAGs that
have been parsed, their busy tasks, unpausing."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from salesinsights.platform.airflow_env import ADMIN_USER, passwords_file
from salesinsights.settings import Settings

# Loopback: never through a proxy that the environment may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# On SQLite, Airflow answers 503 when a write (a backfill's creation) meets the scheduler's lock; it has
# rolled back, so the same request again is safe.
LOCKED_RETRY_DELAYS_S = (1, 2, 3, 5)
PARTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


def _send(request: urllib.request.Request) -> Any:
    with _OPENER.open(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


class AirflowApi:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base = settings.services.airflow_url
        self._token: str | None = None

    def call(self, method: str, path: str, body: object = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        for delay_s in LOCKED_RETRY_DELAYS_S:
            try:
                return _send(request)
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
            time.sleep(delay_s)
        return _send(request)

    def health(self) -> dict[str, str]:
        """Each part's status (healthy, unhealthy or absent); OSError when the server is unreachable."""
        report = self.call("GET", "/api/v2/monitor/health")
        return {part: (report.get(part) or {}).get("status") or "absent" for part in PARTS}

    def log_in(self) -> None:
        password = admin_password(self.settings)
        body = {"username": ADMIN_USER, "password": password}
        self._token = self.call("POST", "/auth/token", body)["access_token"]

    def dags(self) -> dict[str, dict[str, Any]]:
        return {dag["dag_id"]: dag for dag in self.call("GET", "/api/v2/dags?limit=1000")["dags"]}

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/v2/importErrors?limit=1000")["import_errors"])

    def busy_tasks(self, dag_id: str) -> int:
        """The DAG's task instances that are queued or running, in any of its runs: pausing a DAG stops new
        ones, not these."""
        found = self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?state=queued&state=running&limit=1"
        )
        return int(found["total_entries"])

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})


def admin_password(settings: Settings) -> str:
    return str(json.loads(passwords_file(settings).read_text())[ADMIN_USER])


def might_contain_dag(path: Path) -> bool:
    """Airflow's own safe-mode heuristic: which files its DAG processor parses."""
    text = path.read_bytes().lower()
    return b"airflow" in text and b"dag" in text


def wait_for_dags(api: AirflowApi, dags_folder: Path, wanted: list[str], timeout_s: float) -> list[str]:
    """Waits until the wanted DAGs are in the database and every DAG file has been parsed (or failed to),
    then unpauses the wanted ones. Returns warnings (import errors, files without a DAG); raises
    RuntimeError when a wanted DAG is still missing after the timeout."""
    files = {p.relative_to(dags_folder).as_posix() for p in dags_folder.rglob("*.py") if might_contain_dag(p)}
    deadline = time.monotonic() + timeout_s
    api.log_in()
    warnings: list[str] = []
    while True:
        dags, errors = api.dags(), api.import_errors()
        seen = {dag["relative_fileloc"] for dag in dags.values()} | {error["filename"] for error in errors}
        missing = [dag_id for dag_id in wanted if dag_id not in dags]
        unparsed = sorted(files - seen)
        if not missing and not unparsed:
            break
        if time.monotonic() > deadline:
            if missing:
                stacks = "".join(f"\nimport error in {e['filename']}:\n{e['stack_trace']}" for e in errors)
                raise RuntimeError(f"DAGs not parsed after {timeout_s:.0f}s: {', '.join(missing)}{stacks}")
            warnings.append(f"files without a DAG after {timeout_s:.0f}s: {', '.join(unparsed)}")
            break
        time.sleep(2)
    warnings += [f"import error in {error['filename']}:\n{error['stack_trace']}" for error in errors]
    for dag_id in wanted:
        if dags[dag_id]["is_paused"]:
            api.unpause(dag_id)
    return warnings
