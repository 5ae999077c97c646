"""`salesinsights produce` (`python -m salesinsights.producer`, what the supervisor runs): the landing-
folder producer, until SIGTERM. One per data folder: a second start is refused (exit 75) while the first
holds the lock."""

import logging

from salesinsights.ops import Exit, job_parser, run_service
from salesinsights.producer.service import BrokerUnavailableError, LandingProducer, stop_requested_by_signals
from salesinsights.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    job_parser("salesinsights produce", __doc__).parse_args(argv)
    settings = get_settings()
    stopping = stop_requested_by_signals()

    def produce() -> int:
        try:
            LandingProducer(settings, stopping=stopping, wait_for_broker=True).run()
        except BrokerUnavailableError:
            logging.info("stopped while waiting for the broker")
        return Exit.OK

    return run_service(settings, "producer", produce)


if __name__ == "__main__":
    raise SystemExit(main())
