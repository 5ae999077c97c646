"""The Great Expectations context: a file context under <data>/dq/gx, which keeps every validation result, and
the rendered Data Docs site in <data>/dq/data_docs (open index.html; the nightly DAG logs its address)."""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.store.store import DataDocsSiteConfigTypedDict
from great_expectations.data_context.types.base import ProgressBarsConfig

from salesinsights.settings import Settings

DOCS_SITE = "salesinsights"
# Every context's default site, which would render a second copy inside gx/uncommitted.
_DEFAULT_SITE = "local_site"


def data_docs_index(settings: Settings) -> Path:
    return settings.data_docs_dir / "index.html"


def _quiet(context: AbstractDataContext) -> AbstractDataContext:
    # The per-metric progress bars would fill the task logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def file_context(settings: Settings) -> AbstractDataContext:
    context = gx.get_context(mode="file", project_root_dir=settings.dq_dir)
    site: DataDocsSiteConfigTypedDict = {
        "class_name": "SiteBuilder",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(settings.data_docs_dir),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.list_data_docs_sites()
    if _DEFAULT_SITE in sites:
        context.delete_data_docs_site(_DEFAULT_SITE)
    # Updated every time: the data folder may have moved since the context was created.
    if DOCS_SITE in sites:
        context.update_data_docs_site(DOCS_SITE, site)
    else:
        context.add_data_docs_site(DOCS_SITE, site)
    return _quiet(context)


def ephemeral_context() -> AbstractDataContext:
    """Nothing on disk: for validating frames in tests and checks that keep no history."""
    return _quiet(gx.get_context(mode="ephemeral"))
