#!/usr/bin/env bash
# The live sales dashboard (FastAPI on uvicorn): `dashboard.sh start|stop|status`.
source "$(dirname "$0")/lib.sh"
case "$SI_BIND_HOST" in
  *:*) url="http://[$SI_BIND_HOST]:$SI_DASHBOARD_PORT" ;;
  *) url="http://$SI_BIND_HOST:$SI_DASHBOARD_PORT" ;;
esac

health() { # prints the service's health line; fails when it does not answer
  "$PY" - "$url/api/health" <<'PYTHON'
import json
import sys
import urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
try:
    with opener.open(sys.argv[1], timeout=5) as response:
        report = json.load(response)
except (OSError, ValueError) as error:
    print(f"not answering ({error})")
    sys.exit(1)
age = report["freshness"]["gold_age_seconds"]
print(f"{report['status']}: {report['message']}" + ("" if age is None else f", gold updated {age:.1f} s ago"))
PYTHON
}

case "${1:-}" in
  start)
    if pid_of dashboard >/dev/null; then echo "dashboard: already running (pid $(pid_of dashboard))"; exit 0; fi
    if port_open "$SI_BIND_HOST" "$SI_DASHBOARD_PORT"; then
      echo "error: $SI_BIND_HOST:$SI_DASHBOARD_PORT is taken by another process" >&2
      exit 1
    fi
    start_service dashboard "$PY" -m salesinsights.dashboard
    wait_for "dashboard" 60 health
    echo "dashboard: ready at $url ($(health))"
    ;;
  stop)
    stop_service dashboard 20
    ;;
  status)
    if pid=$(pid_of dashboard); then
      answering=0
      report=$(health) || answering=3
      echo "dashboard: running (pid $pid) at $url, $report"
      exit $answering
    else
      echo "dashboard: stopped"; exit 3
    fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
