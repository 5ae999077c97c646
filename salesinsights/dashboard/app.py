"""The dashboard service: the API's routes, the page and its assets, the background refreshes (brands,
input quality), and one format for invalid requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from salesinsights.catalog import SILVER_EVENTS
from salesinsights.dashboard.address import CLV_REPORTS_ROUTE, DATA_DOCS_ROUTE
from salesinsights.dashboard.api import OverviewCache, router
from salesinsights.dashboard.brands import BrandCatalogue
from salesinsights.dashboard.live import LiveWindows
from salesinsights.dashboard.quality import QualityWatch
from salesinsights.dashboard.reader import GoldReader
from salesinsights.dashboard.refresher import Refresher
from salesinsights.settings import Settings, get_settings

STATIC = Path(__file__).parent / "static"
LIVE_RETRY_SECONDS = 0.05


async def invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 with one readable sentence per bad parameter, and the same as a list."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {
            "parameter": ".".join(str(part) for part in problem["loc"][1:]) or str(problem["loc"][0]),
            "location": problem["loc"][0],
            "message": problem["msg"],
            "input": problem.get("input"),
        }
        for problem in error.errors()
    ]
    sentence = "; ".join(f"{p['parameter']}: {p['message']} (got {p['input']!r})" for p in problems)
    return JSONResponse(
        status_code=422,
        content=jsonable_encoder({"detail": f"invalid request: {sentence}", "problems": problems}),
    )


def create_app(
    settings: Settings | None = None,
    brand_refresh_seconds: float = 60.0,
    quality_refresh_seconds: float = 10.0,
    live: LiveWindows | None = None,
) -> FastAPI:
    """The service over the gold tables of `settings`; with `live`, also over the gold topic's newest
    window totals (what the running service does: see __main__)."""
    settings = settings or get_settings()
    reader = GoldReader(settings, live=live)
    catalogue = BrandCatalogue(SILVER_EVENTS.path(settings))
    quality = QualityWatch(settings)
    refreshers = [
        Refresher("brand-refresher", catalogue.refresh, brand_refresh_seconds),
        Refresher("input-quality-refresher", quality.refresh, quality_refresh_seconds),
    ]
    if live is not None:
        # consume() itself waits for records; the pause only spaces out retries while Kafka is away.
        refreshers.append(Refresher("gold-topic-consumer", live.poll, LIVE_RETRY_SECONDS))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for refresher in refreshers:
            refresher.start()
        yield
        for refresher in refreshers:
            refresher.stop()
        quality.close()
        if live is not None:
            live.close()

    # No /docs or /redoc: their pages load scripts from a CDN, and this service must work offline.
    app = FastAPI(
        title="SalesInsights live sales",
        version="1",
        summary="Per-product sales from the gold Delta tables, seconds after the purchase.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.reader = reader
    app.state.catalogue = catalogue
    app.state.quality = quality
    app.state.overviews = OverviewCache()
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Rendered by the nightly data-quality runs; until the first one, the empty folder answers 404.
    settings.data_docs_dir.mkdir(parents=True, exist_ok=True)
    app.mount(DATA_DOCS_ROUTE, StaticFiles(directory=settings.data_docs_dir, html=True), name="data-docs")
    settings.clv_reports_dir.mkdir(parents=True, exist_ok=True)
    app.mount(CLV_REPORTS_ROUTE, StaticFiles(directory=settings.clv_reports_dir), name="clv-reports")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app
