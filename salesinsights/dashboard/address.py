"""Where the dashboard listens and the URL that reaches it, from the settings alone."""

from __future__ import annotations

from salesinsights.settings import Settings

# Where the dashboard serves the Data Docs site of the nightly data-quality runs.
DATA_DOCS_ROUTE = "/data-docs"
# Bound to every interface, the service is still reachable on the loopback address.
_WILDCARDS = {"", "0.0.0.0", "::"}


def dashboard_url(settings: Settings) -> str:
    host = settings.services.bind_host
    host = "127.0.0.1" if host in _WILDCARDS else host
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{settings.services.dashboard_port}"
