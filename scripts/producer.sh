#!/usr/bin/env bash
# The landing-folder producer: `producer.sh start|stop|status`.
source "$(dirname "$0")/lib.sh"
status_file="$SI_RUN_DIR/producer.status.json"

healthy() { # the producer rewrites its status file at least every poll interval
  [ -f "$status_file" ] && [ $(($(date +%s) - $(stat -c %Y "$status_file"))) -lt 30 ]
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
  status)
    if pid=$(pid_of producer); then
      state=$(healthy && echo healthy || echo "not reporting")
      echo "producer: running (pid $pid), $state: $(cat "$status_file" 2>/dev/null)"
    else
      echo "producer: stopped"; exit 3
    fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
