#!/usr/bin/env bash
# The landing-folder producer: `producer.sh start|stop|status`.
source "$(dirname "$0")/lib.sh"
status_file="$SI_RUN_DIR/producer.status.json"

healthy() { # the producer rewrites its status file at least every poll interval
  fresh_file "$status_file" 30
}

case "${1:-}" in
  start)
    if pid_of producer >/dev/null; then echo "producer: already running (pid $(pid_of producer))"; exit 0; fi
    rm -f "$status_file"
    start_service producer "$PY" -m salesinsights.producer
    wait_for "producer" 60 healthy
    ;;
  stop)
    # SIGTERM lets the file in flight finish its transaction.
    stop_service producer 120
    ;;
  status) report_status producer "$status_file" healthy ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
