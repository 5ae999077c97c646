#!/usr/bin/env bash
# `make up`: every service in dependency order; returns once all are healthy.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
"$here/kafka.sh" start
"$here/producer.sh" start
"$here/streaming.sh" start
"$here/dashboard.sh" start
"$here/airflow.sh" start
echo
"$here/status.sh"
