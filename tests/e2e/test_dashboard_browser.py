"""The page in a real browser (Debian's Chromium, driven by Playwright) on a running platform: the producer,
the streaming application and the dashboard under the platform's supervisor, as `make up` starts them, on
the test's own topics on the session's broker. A purchase dropped into the landing folder
while the page is open goes landing file → producer → Kafka → live query → gold topic → dashboard, and
shows up in the per-product view without a reload. The screenshot is kept in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from salesinsights.bench.load import Probe
from salesinsights.lake import processed_records
from salesinsights.landing import TEMP_PREFIX, SourceSlice, drop_slice
from salesinsights.schema import CSV_HEADER
from salesinsights.settings import Settings, SourceSettings
from tests.support import REPO, STREAMING_TEST_ENV, free_port, platform_command, platform_env, wait_until

CHROMIUM = Path("/usr/bin/chromium")
# Known to work offline: no first-run, sync, component or background traffic; a fresh profile per test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "test-artifacts" / "dashboard.png"
DAY = date(2019, 11, 15)
NOW = datetime(2019, 11, 15, 15, 30, tzinfo=UTC)  # the replay is half way through the day
DROPPED_PRODUCT = 9_000_000_777


WINDOW = timedelta(minutes=1)


@pytest.fixture
def running(platform: Settings) -> Iterator[tuple[Settings, str]]:
    """The platform on the day so far: its file produced and streamed, the dashboard serving it."""
    settings = platform.model_copy(update={"source": SourceSettings(scale=0.2)})
    day_so_far = drop_slice(settings, SourceSlice(datetime.combine(DAY, datetime.min.time(), UTC), NOW))
    env = platform_env(
        settings.data,
        settings.kafka,
        SALESINSIGHTS_SERVICES__DASHBOARD_PORT=str(free_port()),
        **STREAMING_TEST_ENV,
    )
    try:
        platform_command(env, "up", "producer", "streaming", "dashboard")
        # The archive too, so that the page shows the whole day (the day's figures, funnel, brands).
        wait_until(lambda: processed_records(settings) >= day_so_far.rows, 300, "the day in the archive")
        yield settings, f"http://127.0.0.1:{env['SALESINSIGHTS_SERVICES__DASHBOARD_PORT']}/"
    finally:
        platform_command(env, "down")


def land_purchase(settings: Settings, probe: Probe) -> None:
    """A landing file with one purchase, written as the file drop writes (temporary name, then rename)."""
    temporary = settings.landing_dir / f"{TEMP_PREFIX}{probe.file_name}"
    temporary.write_text(f"{CSV_HEADER}\n{probe.line()}\n")
    temporary.replace(settings.landing_dir / probe.file_name)


def test_a_purchase_dropped_during_the_test_appears_without_a_reload(running: tuple[Settings, str]) -> None:
    settings, dashboard = running
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            settings.data / "chromium-profile",
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(dashboard)
        per_product = page.locator("#per-product-chart")
        # The day so far through producer, Kafka and Spark (the application's start included).
        expect(per_product.locator(".bar-row").first).to_be_visible(timeout=240_000)
        page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded
        assert page.locator(f'[data-product-id="{DROPPED_PRODUCT}"]').count() == 0

        # A purchase in the window after the newest one, into the landing folder.
        at = NOW + WINDOW + timedelta(seconds=12)
        land_purchase(settings, Probe(DROPPED_PRODUCT, Decimal("987.65"), at, "events_browser_probe.csv"))

        dropped = per_product.locator(f'[data-product-id="{DROPPED_PRODUCT}"]')
        expect(dropped).to_be_visible(timeout=30_000)
        expect(dropped).to_contain_text("$987.65")
        expect(page.locator(f'#latest-window-rows tr[data-product-id="{DROPPED_PRODUCT}"]')).to_be_visible()
        # Fresh gold: "Live" within 5 s of its update, "Behind" within 60 s (how many seconds a loaded machine
        # takes is not this test's business); never "Stale", "Waiting for gold" or "Connection lost".
        expect(page.locator("#freshness-label")).to_have_text(re.compile(r"^(Live|Behind)$"))
        assert page.evaluate("window.loadedOnce") is True, "the page reloaded"
        assert errors == []

        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.wait_for_timeout(500)  # let the bars finish their transition
        page.screenshot(path=SCREENSHOT, full_page=True)
        browser.close()
    assert SCREENSHOT.stat().st_size > 0
