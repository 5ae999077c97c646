#!/usr/bin/env bash
# The container's main process: brings the platform up (`make up`), follows the service logs, and takes it
# down cleanly (`make down`) when the container is stopped.
set -euo pipefail
cd /app
make up
trap 'make down; exit 0' TERM INT
tail -F data/logs/*.log &
wait $!
