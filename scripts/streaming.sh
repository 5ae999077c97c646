#!/usr/bin/env bash
# The streaming medallion (one Spark application): `streaming.sh start|stop|status|ensure`.
# `ensure` starts it when it is not running (what the streaming_supervisor DAG calls every minute).
source "$(dirname "$0")/lib.sh"
status_file="$SI_RUN_DIR/streaming.status.json"
export PYSPARK_PYTHON="$PY"

reporting() { # the application rewrites its status file every second while its query is active
  fresh_file "$status_file" 30 \
    && grep -q '"active": true' "$status_file"
}

start() {
  if pid_of streaming >/dev/null; then echo "streaming: already running (pid $(pid_of streaming))"; return 0; fi
  rm -f "$status_file"
  start_service streaming "$PY" "$SI_HOME/jobs/streaming_medallion.py"
  wait_for "streaming query" 300 reporting
}

case "${1:-}" in
  start | ensure) start ;;
  stop)
    # SIGTERM: the application lets the micro-batch in flight finish, then stops its query.
    stop_service streaming 120
    ;;
  status) report_status streaming "$status_file" reporting ;;
  *) echo "usage: $0 start|stop|status|ensure" >&2; exit 2 ;;
esac
