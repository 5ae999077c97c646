"""The page in a real browser (Debian's Chromium, driven by Playwright): the dashboard runs as `make up`
starts it (scripts/dashboard.sh) on gold tables in a temporary folder; a purchase appended to gold while the
page is open shows up in the per-product view without a reload. The screenshot is kept in test-artifacts/."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from salesinsights.settings import Settings
from tests.support import REPO, free_port
from tests.test_dashboard_gold import WINDOW, GoldLake, generated_events, purchase

pytestmark = pytest.mark.e2e

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


@pytest.fixture
def lake(tmp_path: Path) -> GoldLake:
    lake = GoldLake(Settings(data_dir=tmp_path / "data"))
    lake.add(event for event in generated_events(DAY, scale=0.2) if event.event_time < NOW)
    return lake


@pytest.fixture
def dashboard(lake: GoldLake, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SALESINSIGHTS_", "SI_"))}
    env |= {
        "SALESINSIGHTS_DATA_DIR": str(lake.settings.data),
        "SALESINSIGHTS_SERVICES__DASHBOARD_PORT": str(port),
    }
    script = REPO / "scripts" / "dashboard.sh"
    subprocess.run([script, "start"], env=env, check=True, timeout=90)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        subprocess.run([script, "stop"], env=env, check=False, timeout=60)


def test_a_purchase_dropped_during_the_test_appears_without_a_reload(dashboard: str, lake: GoldLake) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            lake.settings.data / "chromium-profile",
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(dashboard)
        per_product = page.locator("#per-product-chart")
        expect(per_product.locator(".bar-row").first).to_be_visible(timeout=20_000)
        page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded
        assert page.locator(f'[data-product-id="{DROPPED_PRODUCT}"]').count() == 0

        # The stream's next micro-batch: a purchase in the window after the newest one.
        lake.add(
            [purchase(NOW + WINDOW + timedelta(seconds=12), DROPPED_PRODUCT, "987.65", brand="test-brand")]
        )

        dropped = per_product.locator(f'[data-product-id="{DROPPED_PRODUCT}"]')
        expect(dropped).to_be_visible(timeout=15_000)
        expect(dropped).to_contain_text("$987.65")
        expect(page.locator(f'#latest-window-rows tr[data-product-id="{DROPPED_PRODUCT}"]')).to_be_visible()
        expect(page.locator("#freshness-label")).to_have_text("Live")
        assert page.evaluate("window.loadedOnce") is True, "the page reloaded"
        assert errors == []

        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.wait_for_timeout(500)  # let the bars finish their transition
        page.screenshot(path=SCREENSHOT, full_page=True)
        browser.close()
    assert SCREENSHOT.stat().st_size > 0
