"""`python -m salesinsights.producer`: run the landing-folder producer until SIGTERM."""

import logging

from salesinsights.producer.service import LandingProducer
from salesinsights.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    producer = LandingProducer(get_settings())
    producer.stop_on_signals()
    producer.run()


if __name__ == "__main__":
    main()
