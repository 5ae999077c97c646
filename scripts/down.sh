#!/usr/bin/env bash
# `make down`: Airflow first (so neither the file drop nor the stream supervisor acts meanwhile), then the
# stream (its micro-batch in flight completes), the producer (its file in flight completes), the broker.
source "$(dirname "$0")/lib.sh"
here="$(dirname "$0")"
status=0
for service in airflow dashboard streaming producer kafka; do
  "$here/$service.sh" stop || status=1
done
exit $status
