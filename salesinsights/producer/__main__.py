"""`salesinsights produce` (`python -m salesinsights.producer`, what the supervisor runs): the landing-
folder producer, until SIGTERM. One per data folder: a second start is refused (exit 75) while the first
holds the lock."""

import logging

from salesinsights.locks import AlreadyRunningError, single_instance
from salesinsights.ops import Exit, job_parser
from salesinsights.producer.service import BrokerUnavailableError, LandingProducer, stop_requested_by_signals
from salesinsights.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    job_parser("salesinsights produce", __doc__).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    stopping = stop_requested_by_signals()
    try:
        with single_instance(settings.run_dir, "producer"):
            producer = LandingProducer(settings, stopping=stopping, wait_for_broker=True)
            producer.run()
    except AlreadyRunningError as refused:
        logging.error("not started: %s", refused)
        return Exit.ALREADY_RUNNING
    except BrokerUnavailableError:
        logging.info("stopped while waiting for the broker")
    return Exit.OK


if __name__ == "__main__":
    raise SystemExit(main())
