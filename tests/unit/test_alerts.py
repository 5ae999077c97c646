"""Failure alerts reach their target: a line in the log file, a mail through a real SMTP conversation, a JSON
POST to a webhook; the DAGs' notifier builds the alert from a task's Airflow context."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from salesinsights.airflow_notifier import FailureNotifier, failure_of
from salesinsights.alerts import Failure, send
from salesinsights.settings import AlertSettings, Settings, get_settings

FAILURE = Failure(
    "clv_nightly", "audit", "scheduled__2026-12-01", 2, "JobFailedError('exit 1')", "http://x/log"
)


class SmtpSink(socketserver.StreamRequestHandler):
    """Just enough of SMTP (RFC 5321) for smtplib to deliver one message; the messages it got are kept."""

    received: ClassVar[list[bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb == "DATA":
                self.reply("354 go on")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                SmtpSink.received.append(body)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_port() -> Iterator[int]:
    SmtpSink.received = []
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpSink) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server.server_address[1]
        server.shutdown()


def test_by_default_a_line_in_the_failures_log(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    where = send(settings, FAILURE)
    send(settings, FAILURE)
    lines = (tmp_path / "logs" / "failures.log").read_text().splitlines()
    assert where == str(tmp_path / "logs" / "failures.log") and len(lines) == 2
    assert json.loads(lines[0])["task_id"] == "audit" and json.loads(lines[0])["try_number"] == 2


def test_a_mail_over_smtp(tmp_path: Path, smtp_port: int) -> None:
    alerts = AlertSettings(target="smtp", smtp_port=smtp_port, smtp_recipients=["ops@example.com"])
    send(Settings(data_dir=tmp_path, alerts=alerts), FAILURE)
    (mail,) = [message_from_bytes(raw) for raw in SmtpSink.received]
    assert mail["Subject"] == "[salesinsights] clv_nightly.audit failed (scheduled__2026-12-01)"
    assert mail["To"] == "ops@example.com" and "http://x/log" in mail.get_payload()


def test_a_json_post_to_a_webhook(tmp_path: Path) -> None:
    posted: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    with HTTPServer(("127.0.0.1", 0), Hook) as server:
        threading.Thread(target=server.handle_request, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        send(Settings(data_dir=tmp_path, alerts=AlertSettings(target="webhook", webhook_url=url)), FAILURE)
    assert posted[0]["dag_id"] == "clv_nightly" and posted[0]["text"].startswith("[salesinsights]")


def test_a_misconfigured_target_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="smtp_recipients is empty"):
        send(Settings(data_dir=tmp_path, alerts=AlertSettings(target="smtp")), FAILURE)
    with pytest.raises(ValueError, match="not an http"):
        send(
            Settings(data_dir=tmp_path, alerts=AlertSettings(target="webhook", webhook_url="ftp://x")),
            FAILURE,
        )


def test_the_notifier_turns_a_task_context_into_an_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESINSIGHTS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    task_instance = SimpleNamespace(dag_id="dq", task_id="validate", run_id="r1", try_number=3, log_url="")
    context = {"task_instance": task_instance, "run_id": "r1", "exception": RuntimeError("boom")}
    assert failure_of(context) == Failure("dq", "validate", "r1", 3, "RuntimeError('boom')")
    try:
        FailureNotifier()(context)
    finally:
        get_settings.cache_clear()
    entry = json.loads((tmp_path / "logs" / "failures.log").read_text())
    assert (entry["dag_id"], entry["error"]) == ("dq", "RuntimeError('boom')")
