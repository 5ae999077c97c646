#!/usr/bin/env bash
# `make down`: stops the file drop first, then the producer (its file in flight completes), then the broker.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
status=0
"$here/airflow.sh" stop || status=1
"$here/producer.sh" stop || status=1
"$here/kafka.sh" stop || status=1
exit $status
