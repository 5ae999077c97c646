"""Failure alerts: what an operator is told when a task of a DAG fails for good (after its retries), and
where (`settings.alerts`): a line in a log file by default, a mail over SMTP, or a JSON POST to a webhook.
The DAGs' failure notifier (dags/failure_notifier.py) turns Airflow's context into a `Failure` and calls
`send`; this module knows nothing of Airflow."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from salesinsights.settings import AlertSettings, Settings


@dataclass(frozen=True)
class Failure:
    dag_id: str
    task_id: str
    run_id: str
    try_number: int
    error: str
    log_url: str = ""

    @property
    def subject(self) -> str:
        return f"[salesinsights] {self.dag_id}.{self.task_id} failed ({self.run_id})"

    def text(self) -> str:
        lines = [self.subject, f"try {self.try_number}: {self.error}"]
        return "\n".join(lines + ([f"log: {self.log_url}"] if self.log_url else []))


def send(settings: Settings, failure: Failure, now: datetime | None = None) -> str:
    """Sends the alert to the configured target; says where it went."""
    alerts = settings.alerts
    if alerts.target == "smtp":
        return _mail(alerts, failure)
    if alerts.target == "webhook":
        return _post(alerts, failure)
    log_file = alerts.log_file or settings.log_dir / "failures.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    entry = {"at": (now or datetime.now(UTC)).isoformat(), **asdict(failure)}
    with log_file.open("a") as log:
        log.write(json.dumps(entry) + "\n")
    return str(log_file)


def _mail(alerts: AlertSettings, failure: Failure) -> str:
    if not alerts.smtp_recipients:
        raise ValueError("alerts.target is smtp but alerts.smtp_recipients is empty")
    message = EmailMessage()
    message["Subject"] = failure.subject
    message["From"] = alerts.smtp_sender
    message["To"] = ", ".join(alerts.smtp_recipients)
    message.set_content(failure.text())
    timeout_s = alerts.timeout.total_seconds()
    with smtplib.SMTP(alerts.smtp_host, alerts.smtp_port, timeout=timeout_s) as smtp:
        smtp.send_message(message)
    return f"smtp://{alerts.smtp_host}:{alerts.smtp_port} to {message['To']}"


def _post(alerts: AlertSettings, failure: Failure) -> str:
    if not alerts.webhook_url.startswith(("http://", "https://")):
        raise ValueError(f"alerts.webhook_url is not an http(s) URL: {alerts.webhook_url!r}")
    body = json.dumps({"text": failure.text(), **asdict(failure)}).encode()
    request = urllib.request.Request(
        alerts.webhook_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=alerts.timeout.total_seconds()) as response:
        response.read()
    return alerts.webhook_url
