"""The platform's Airflow client against a real HTTP server that answers as Airflow does on SQLite."""

from __future__ import annotations

import json
import threading
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from salesinsights.platform import airflow_api
from salesinsights.platform.airflow_api import AirflowApi
from salesinsights.settings import ServiceSettings, Settings


class LockedThenCreated(BaseHTTPRequestHandler):
    """503 ("Database is locked") for the first `locked` POSTs, then the created backfill."""

    locked = 0
    posts: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        type(self).posts.append(self.rfile.read(int(self.headers["Content-Length"])))
        locked = len(self.posts) <= self.locked
        body = {"detail": "Database is locked."} if locked else {"id": 1}
        payload = json.dumps(body).encode()
        self.send_response(503 if locked else 200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads the requests, not a log."""


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    LockedThenCreated.posts = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), LockedThenCreated)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def api_for(httpd: ThreadingHTTPServer) -> AirflowApi:
    return AirflowApi(Settings(services=ServiceSettings(airflow_port=httpd.server_address[1])))


def test_a_locked_database_is_retried_with_the_same_request(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(airflow_api, "LOCKED_RETRY_DELAYS_S", (0, 0, 0))
    LockedThenCreated.locked = 2
    assert api_for(server).call("POST", "/api/v2/backfills", {"dag_id": "d"}) == {"id": 1}
    assert LockedThenCreated.posts == [b'{"dag_id": "d"}'] * 3


def test_a_lock_that_outlasts_the_retries_is_raised(
    server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(airflow_api, "LOCKED_RETRY_DELAYS_S", (0, 0))
    LockedThenCreated.locked = 10
    with pytest.raises(urllib.error.HTTPError) as raised:
        api_for(server).call("POST", "/api/v2/backfills", {"dag_id": "d"})
    assert raised.value.code == 503
    assert len(LockedThenCreated.posts) == 3
