#!/usr/bin/env bash
# `make logs`: the last lines of every service log.
source "$(dirname "$0")/lib.sh"
lines="${1:-40}"
shopt -s nullglob
for log in "$SI_LOG_DIR"/*.log; do
  echo "==> $log <=="
  tail -n "$lines" "$log"
  echo
done
