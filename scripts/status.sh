#!/usr/bin/env bash
# `make status`: each service, where it listens, and the backlog. Exits non-zero when something is down.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
status=0
for service in kafka producer streaming dashboard airflow; do
  "$here/$service.sh" status || status=1
done
count_files() { # FOLDER -> visible files in it (0 before the folder exists)
  find "$1" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l || true
}
landing=$(count_files "$SI_DATA/landing")
archived=$(count_files "$SI_DATA/archive")
echo "files: $landing waiting in $SI_DATA/landing, $archived produced (in $SI_DATA/archive)"
exit $status
