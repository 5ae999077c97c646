#!/usr/bin/env bash
# Airflow 3 on this machine: `airflow.sh start|stop|status|password`.
#   start     migrate the metadata DB, start scheduler, dag-processor, triggerer and API server in the
#             background (logs in $SI_LOG_DIR/airflow-<part>.log), wait until the API server is healthy and
#             the project's DAGs are in the DB, then unpause the DAGs that should run. Idempotent.
#   stop      stop every part whatever its state: the scheduler first (its tasks still report to the API
#             server), then the others together; leftover processes of their groups are killed.
#   status    one line per part, then the URL and its health. Exits 3 when a part is down or unhealthy.
#   password  the admin user and the password Airflow generated for it.
# The configuration comes from scripts/airflow_env.sh (derived from salesinsights.settings).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/airflow_env.sh"
cd "$SI_HOME" || exit 1

# The parts, in start order: the API server first, as tasks report to it (stop order: see stop()).
PARTS=(api-server scheduler dag-processor triggerer)
# DAGs unpaused by `start`; every other DAG stays paused until someone unpauses it.
UNPAUSE_DAGS=(file_drop streaming_supervisor delta_maintenance)
ADMIN_USER="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS%%:*}"
PASSWORDS_FILE="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
START_TIMEOUT="${SI_AIRFLOW_START_TIMEOUT:-180}"

part_command() { # PART -> the command line of that part
  case "$1" in
    # --skip-serve-logs: the API server reads task logs from the local log folder; Airflow's log server
    # would listen on every interface.
    scheduler) echo airflow scheduler --skip-serve-logs ;;
    triggerer) echo airflow triggerer --skip-serve-logs ;;
    dag-processor) echo airflow dag-processor ;;
    api-server) echo airflow api-server ;;
  esac
}

# Talks to the API server with the standard library only: health, token, DAG listing and unpausing.
api() { # health | wait-dags TIMEOUT DAG... | token
  "$PY" - "$@" <<'PYTHON'
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE = os.environ["SI_AIRFLOW_URL"]
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    with OPENER.open(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def token():
    user = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
    passwords = json.loads(Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
    return call("POST", "/auth/token", {"username": user, "password": passwords[user]})["access_token"]


def health():
    """Prints `part=status ...`; exit 0 when every part is healthy, 1 when not, 2 when unreachable."""
    try:
        report = call("GET", "/api/v2/monitor/health")
    except (OSError, ValueError) as error:
        print(f"unreachable ({error})")
        return 2
    states = {part: (report.get(part) or {}).get("status") or "absent" for part in
              ("metadatabase", "scheduler", "dag_processor", "triggerer")}
    print(" ".join(f"{part}={state}" for part, state in states.items()))
    return 0 if all(state == "healthy" for state in states.values()) else 1


def might_contain_dag(path):  # Airflow's own safe-mode heuristic
    text = path.read_bytes().lower()
    return b"airflow" in text and b"dag" in text


def wait_dags(timeout, wanted):
    """Waits until the DAGs to unpause are in the DB and every DAG file has been parsed (or failed to),
    reports import errors, then unpauses the wanted DAGs."""
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    files = {p.relative_to(dags_folder).as_posix() for p in dags_folder.rglob("*.py") if might_contain_dag(p)}
    deadline = time.monotonic() + timeout
    bearer = token()
    while True:
        dags = call("GET", "/api/v2/dags?limit=1000", token=bearer)["dags"]
        errors = call("GET", "/api/v2/importErrors?limit=1000", token=bearer)["import_errors"]
        by_id = {dag["dag_id"]: dag for dag in dags}
        seen = {dag["relative_fileloc"] for dag in dags} | {error["filename"] for error in errors}
        missing_dags = [dag_id for dag_id in wanted if dag_id not in by_id]
        unparsed = sorted(files - seen)
        if not missing_dags and not unparsed:
            break
        if time.monotonic() > deadline:
            if missing_dags:
                print(f"error: DAGs not parsed after {timeout}s: {', '.join(missing_dags)}", file=sys.stderr)
                for error in errors:
                    print(f"import error in {error['filename']}:\n{error['stack_trace']}", file=sys.stderr)
                return 1
            print(f"warning: files without a DAG after {timeout}s: {', '.join(unparsed)}", file=sys.stderr)
            break
        time.sleep(2)
    for error in errors:
        print(f"warning: import error in {error['filename']}:\n{error['stack_trace']}", file=sys.stderr)
    for dag_id in wanted:
        if by_id[dag_id]["is_paused"]:
            call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token=bearer)
    listing = ", ".join(
        f"{dag_id} ({'active' if dag_id in wanted or not dag['is_paused'] else 'paused'})"
        for dag_id, dag in sorted(by_id.items())
    )
    print(f"airflow: DAGs {listing}")
    return 0


command = sys.argv[1]
if command == "health":
    sys.exit(health())
elif command == "token":
    print(token())
elif command == "wait-dags":
    sys.exit(wait_dags(float(sys.argv[2]), sys.argv[3:]))
else:
    sys.exit(f"unknown api command {command}")
PYTHON
}

db_label() { # the metadata database's URL without user and password
  sed -E 's#//[^@/]*@#//#' <<<"$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
}

running_parts() { # prints the parts that run
  local part
  for part in "${PARTS[@]}"; do
    if pid_of "airflow-$part" >/dev/null; then echo "$part"; fi
  done
}

print_password() {
  "$PY" - "$ADMIN_USER" "$PASSWORDS_FILE" <<'PYTHON'
import json
import sys
from pathlib import Path

user, path = sys.argv[1], Path(sys.argv[2])
print(f"user:     {user}")
print(f"password: {json.loads(path.read_text())[user]}")
print(f"(generated by Airflow, kept in {path}; git-ignored, readable by you only)")
PYTHON
}

start() {
  local began=$SECONDS part running fresh_password=false
  running="$(running_parts)"
  if [ -z "$running" ]; then
    if port_open "$SI_BIND_HOST" "$SI_AIRFLOW_PORT"; then
      echo "error: $SI_BIND_HOST:$SI_AIRFLOW_PORT is taken by another process" >&2
      exit 1
    fi
    # airflow.cfg (with generated keys) and the password file live here: for this user only.
    mkdir -p "$AIRFLOW_HOME" && chmod 700 "$AIRFLOW_HOME"
    # The URL may hold a password: name the database without it.
    echo "airflow: migrating the metadata database ($(db_label))"
    if ! airflow db migrate >>"$SI_LOG_DIR/airflow-migrate.log" 2>&1; then
      echo "error: 'airflow db migrate' failed; last lines of $SI_LOG_DIR/airflow-migrate.log:" >&2
      tail -n 20 "$SI_LOG_DIR/airflow-migrate.log" >&2
      exit 1
    fi
    echo "airflow: metadata database ready after $((SECONDS - began))s"
  fi
  [ -s "$PASSWORDS_FILE" ] || fresh_password=true
  for part in "${PARTS[@]}"; do
    # shellcheck disable=SC2046  # the command is a plain word list
    start_service "airflow-$part" $(part_command "$part")
  done

  local deadline=$((SECONDS + START_TIMEOUT)) health=""
  until health="$(api health)"; do
    for part in "${PARTS[@]}"; do
      if ! pid_of "airflow-$part" >/dev/null; then
        echo "error: airflow $part exited; last lines of $SI_LOG_DIR/airflow-$part.log:" >&2
        tail -n 30 "$SI_LOG_DIR/airflow-$part.log" >&2
        exit 1
      fi
    done
    if ((SECONDS >= deadline)); then
      echo "error: airflow not healthy after ${START_TIMEOUT}s: $health" >&2
      exit 1
    fi
    sleep 1
  done
  for part in "${PARTS[@]}"; do # a heartbeat of a previous run may look healthy: the processes must run
    pid_of "airflow-$part" >/dev/null || { echo "error: airflow $part exited; see $SI_LOG_DIR/airflow-$part.log" >&2; exit 1; }
  done
  echo "airflow: healthy at $SI_AIRFLOW_URL ($health)"
  # Airflow writes the generated password world-readable; it is for this user only.
  [ ! -f "$PASSWORDS_FILE" ] || chmod 600 "$PASSWORDS_FILE"
  api wait-dags "$((deadline - SECONDS > 30 ? deadline - SECONDS : 30))" "${UNPAUSE_DAGS[@]}"
  if [ "$fresh_password" = true ]; then
    echo "airflow: first start; the admin login that Airflow generated (see it again: $0 password):"
    print_password | sed 's/^/  /'
  else
    echo "airflow: log in as '$ADMIN_USER'; '$0 password' shows the password"
  fi
  echo "airflow: ready in $((SECONDS - began))s"
}

stop_part() { # PART -> stops the part, then whatever is left of its process group (orphaned workers)
  local name="airflow-$1" pgid=""
  pgid="$(pid_of "$name")" || pgid=""
  # The scheduler waits for its running tasks; the others stop within seconds (the triggerer in ~10 s).
  stop_service "$name" 60
  if [ -n "$pgid" ] && pgrep -g "$pgid" >/dev/null; then
    echo "$name: stopping leftover processes of group $pgid"
    kill -TERM -- "-$pgid" 2>/dev/null || true
    sleep 2
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
}

stop() {
  # The scheduler first, while the API server still takes the reports of the tasks it finishes.
  stop_part scheduler
  local part pid pids=() status=0
  for part in triggerer dag-processor api-server; do
    stop_part "$part" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  return $status
}

status() {
  local part pid status=0 health
  for part in "${PARTS[@]}"; do
    if pid="$(pid_of "airflow-$part")"; then
      echo "airflow-$part: running (pid $pid)"
    else
      echo "airflow-$part: stopped"
      status=3
    fi
  done
  if health="$(api health)"; then
    echo "airflow: $SI_AIRFLOW_URL healthy ($health)"
  else
    echo "airflow: $SI_AIRFLOW_URL $health"
    status=3
  fi
  return $status
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  password)
    if [ ! -s "$PASSWORDS_FILE" ]; then
      echo "error: no password yet: Airflow generates it when its API server first starts ($0 start)" >&2
      exit 1
    fi
    print_password
    ;;
  *) echo "usage: $0 start|stop|status|password" >&2; exit 2 ;;
esac
