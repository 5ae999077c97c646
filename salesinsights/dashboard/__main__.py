"""`python -m salesinsights.dashboard`: the dashboard on the configured address (settings.services)."""

from __future__ import annotations

import logging

import uvicorn

from salesinsights.dashboard.app import create_app
from salesinsights.dashboard.live import LiveWindows
from salesinsights.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    # No access log: every open page polls once a second.
    uvicorn.run(
        create_app(settings, live=LiveWindows(settings.kafka, settings.services.dashboard_live_lookback)),
        host=settings.services.bind_host,
        port=settings.services.dashboard_port,
        access_log=False,
        log_level="info",
    )


if __name__ == "__main__":
    main()
