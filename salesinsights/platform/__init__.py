"""The platform's long-running services under one process supervisor (supervisord): what runs, how each is
launched, how `make up/status/logs/down` drive them, and the watchdog that restarts a hung stream."""
