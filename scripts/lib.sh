# Shared by the service scripts: settings, background processes with pid files, health waits.
# shellcheck shell=bash
set -euo pipefail

SI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$SI_ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY is missing; run 'make setup' first" >&2; exit 1; }
eval "$(cd "$SI_ROOT" && "$PY" -m salesinsights.settings)"
# Logs can hold secrets (Airflow prints the admin password it generates): everything the services write is
# for this user only.
umask 077
mkdir -p "$SI_RUN_DIR" "$SI_LOG_DIR"
chmod 700 "$SI_RUN_DIR" "$SI_LOG_DIR"

started_at() { # PID -> the process's start time (clock ticks since boot), which a reused pid does not share
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # after "pid (command) ": fields 3 on; the start time is field 22
  read -r -a fields <<<"$stat"
  echo "${fields[19]}"
}

pid_of() { # NAME -> prints the pid of a running service, fails if it is not running
  # The pid file holds the pid and its start time: a stale pid that another process now has is not alive.
  local pidfile="$SI_RUN_DIR/$1.pid" pid started alive=false
  [ -f "$pidfile" ] || return 1
  read -r pid started <"$pidfile"
  if [ -n "$started" ]; then
    [ "$(started_at "$pid")" = "$started" ] && alive=true
  else # written by an earlier release, the pid alone: being alive is all it can tell
    kill -0 "$pid" 2>/dev/null && alive=true
  fi
  if [ "$alive" = true ]; then echo "$pid"; else rm -f "$pidfile"; return 1; fi
}

start_service() { # NAME COMMAND... -> runs COMMAND in its own process group, logging to $SI_LOG_DIR/NAME.log
  local name="$1"; shift
  if pid_of "$name" >/dev/null; then echo "$name: already running (pid $(pid_of "$name"))"; return 0; fi
  setsid "$@" >>"$SI_LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo "$! $(started_at $!)" >"$SI_RUN_DIR/$name.pid"
  echo "$name: started (pid $!, log $SI_LOG_DIR/$name.log)"
}

stop_service() { # NAME [GRACE_SECONDS] -> SIGTERM to the process group, SIGKILL after the grace period
  local name="$1" grace="${2:-30}" pid
  pid="$(pid_of "$name")" || { echo "$name: not running"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 5))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name: still running after ${grace}s, killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SI_RUN_DIR/$name.pid"
  echo "$name: stopped"
}

port_open() { # HOST PORT
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() { # DESCRIPTION TIMEOUT_SECONDS COMMAND... -> polls COMMAND until it succeeds
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "error: $what not ready after ${timeout}s" >&2; return 1; fi
    sleep 1
  done
}

fresh_file() { # FILE MAX_AGE_SECONDS -> whether FILE exists and was rewritten within MAX_AGE_SECONDS
  [ -f "$1" ] && [ $(($(date +%s) - $(stat -c %Y "$1"))) -lt "$2" ]
}

report_status() { # NAME STATUS_FILE HEALTH_COMMAND... -> one status line; exits 3 when the service is down
  local name="$1" status_file="$2" pid state; shift 2
  if pid=$(pid_of "$name"); then
    state=$("$@" && echo healthy || echo "not reporting")
    echo "$name: running (pid $pid), $state: $(cat "$status_file" 2>/dev/null)"
  else
    echo "$name: stopped"
    exit 3
  fi
}
