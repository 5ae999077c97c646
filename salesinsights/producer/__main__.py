"""`python -m salesinsights.producer`: run the landing-folder producer until SIGTERM. One per data folder: a
second start is refused (exit 75) while the first holds the lock."""

import logging

from salesinsights.locks import AlreadyRunningError, single_instance
from salesinsights.producer.service import BrokerUnavailableError, LandingProducer, stop_requested_by_signals
from salesinsights.settings import get_settings

ALREADY_RUNNING = 75  # EX_TEMPFAIL


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    stopping = stop_requested_by_signals()
    try:
        with single_instance(settings.run_dir, "producer"):
            producer = LandingProducer(settings, stopping=stopping, wait_for_broker=True)
            producer.run()
    except AlreadyRunningError as refused:
        logging.error("not started: %s", refused)
        return ALREADY_RUNNING
    except BrokerUnavailableError:
        logging.info("stopped while waiting for the broker")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
