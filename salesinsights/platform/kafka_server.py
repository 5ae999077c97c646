"""The single-node KRaft broker: its configuration (from the settings), its storage formatted once, and the
Java command line. Listens on the configured loopback address only; its data lives in data/kafka/logs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from salesinsights.kafka_admin import ensure_topics, ping
from salesinsights.settings import KafkaSettings, Settings, child_environment

LOG4J = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
"""


def server_properties(settings: Settings) -> str:
    """One node that is broker and controller; single-replica internal topics; no auto-created topics."""
    host, port = settings.kafka.bootstrap_servers.rsplit(":", 1)
    controller = f"{host}:{settings.kafka.controller_port}"
    properties = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{controller}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(settings.kafka_dir / "logs"),
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # The producer's transactions (one per file) may take up to its configured timeout.
        "transaction.max.timeout.ms": "900000",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.num.partitions": "4",
    }
    return "".join(f"{key}={value}\n" for key, value in properties.items())


def java_command(settings: Settings, main_class: str, *arguments: str) -> list[str]:
    heap = settings.kafka.broker_heap
    config_dir = settings.kafka_dir / "config"
    return [
        "java",
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={config_dir / 'log4j2.properties'}",
        "-cp",
        str(settings.jars / "broker" / "*"),
        main_class,
        *arguments,
    ]


def prepare(settings: Settings) -> Path:
    """Writes the configuration and formats the storage on first use; returns the properties file."""
    if not (settings.jars / "broker").is_dir():
        raise SystemExit(f"error: broker jars missing in {settings.jars}; run 'make setup'")
    config_dir = settings.kafka_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (settings.kafka_dir / "logs").mkdir(exist_ok=True)
    properties = config_dir / "server.properties"
    properties.write_text(server_properties(settings))
    (config_dir / "log4j2.properties").write_text(LOG4J)
    if not (settings.kafka_dir / "logs" / "meta.properties").is_file():
        tool = java_command(settings, "kafka.tools.StorageTool")
        cluster_id = subprocess.run([*tool, "random-uuid"], capture_output=True, text=True, check=True)
        subprocess.run(
            [*tool, "format", "-t", cluster_id.stdout.strip(), "-c", str(properties)],
            capture_output=True,
            text=True,
            check=True,
        )
    return properties


def server_command(settings: Settings) -> list[str]:
    """The broker's command line, its configuration written and storage formatted first."""
    return java_command(settings, "kafka.Kafka", str(prepare(settings)))


def port_taken(host: str, port: int) -> bool:
    """Whether something takes connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def broker_listening(kafka: KafkaSettings) -> bool:
    """Whether the broker's port takes connections: checked before a Kafka client is made, so that the client
    does not log a failed connection for every try while the broker is down or starting."""
    host, port = kafka.bootstrap_servers.rsplit(":", 1)
    return port_taken(host, int(port))


def wait_until_answering(settings: Settings, timeout_s: float) -> None:
    """Polls the broker until it answers (raises TimeoutError after timeout_s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if broker_listening(settings.kafka):
                ping(settings.kafka, timeout_s=5)
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"kafka on {settings.kafka.bootstrap_servers} not answering")
        time.sleep(0.5)


class ForegroundBroker:
    """A broker of its own for a test or a benchmark, launched as the supervisor launches it, that can be
    stopped (SIGTERM, then SIGKILL) and started again on the same data; `with` starts and stops it."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = child_environment(self.settings.data, self.settings.kafka)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "salesinsights.platform.launch", "kafka"],
                cwd=self.settings.home,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_answering(self.settings, 120)
        ensure_topics(self.settings.kafka)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process, grace_s=60)
            self.process = None

    def __enter__(self) -> ForegroundBroker:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def stop_process_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the process's group (it leads one), SIGKILL after the grace period."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
