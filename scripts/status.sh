#!/usr/bin/env bash
# `make status`: each service, where it listens, and the backlog. Exits non-zero when something is down.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
status=0
"$here/kafka.sh" status || status=1
"$here/producer.sh" status || status=1
"$here/airflow.sh" status || status=1
landing=$(find "$SI_DATA/landing" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l)
archived=$(find "$SI_DATA/archive" -maxdepth 1 -type f 2>/dev/null | wc -l)
echo "files: $landing waiting in $SI_DATA/landing, $archived produced (in $SI_DATA/archive)"
exit $status
