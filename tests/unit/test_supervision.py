"""The supervisor's configuration as supervisord itself reads it, the services' launch commands, and the
watchdog's rules for a hung stream."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from salesinsights.platform.control import DOWN_ORDER, UP_ORDER
from salesinsights.platform.kafka_server import server_properties
from salesinsights.platform.quiet import queries_caught_up
from salesinsights.platform.services import AIRFLOW, NAMES, SERVICES, launch_command
from salesinsights.platform.supervisor import render_config, socket_path
from salesinsights.platform.watchdog import (
    Waiting,
    hung_reason,
    own_report,
    unread_records,
    waiting_queries,
)
from salesinsights.settings import KafkaSettings, Settings, SupervisorSettings


def parsed(settings: Settings) -> ServerOptions:
    """The configuration rendered and read back by supervisord's own parser."""
    settings.log_dir.mkdir(parents=True)
    settings.run_dir.mkdir(parents=True)
    config = settings.run_dir / "supervisord.conf"
    config.write_text(render_config(settings))
    options = ServerOptions()
    options.realize(args=["-c", str(config)])
    return options


def test_every_service_is_restarted_logged_with_rotation_and_stopped_as_a_group(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        supervisor=SupervisorSettings(log_max_bytes=1_000_000, log_backups=3, start_retries=7),
    )
    options = parsed(settings)
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert list(programs) == list(NAMES)  # in start order: priority follows the catalogue
    priorities = [programs[name].priority for name in NAMES]
    assert priorities == sorted(priorities)
    for service in SERVICES:
        program = programs[service.name]
        assert program.command.split()[-1] == service.name
        assert not program.autostart, "make up starts the services, each once the one before is healthy"
        assert program.autorestart is RestartUnconditionally  # whatever the exit status
        assert program.startretries == 7
        assert program.killasgroup, "the JVMs and workers below it go too"
        assert program.stopasgroup == (service.name != "streaming"), (
            "the stream's driver stops its JVM itself"
        )
        assert program.stopwaitsecs == service.stop_wait_s
        assert program.redirect_stderr
        assert program.stdout_logfile == str(settings.log_dir / f"{service.name}.log")
        assert (program.stdout_logfile_maxbytes, program.stdout_logfile_backups) == (1_000_000, 3)
    assert options.umask == 0o077
    [server] = options.server_configs
    assert server["family"].name == "AF_UNIX"  # no TCP port: the socket's file mode is the access control
    assert server["file"] == str(socket_path(settings))
    assert server["chmod"] == 0o700


def test_folders_supervisord_cannot_hold_are_refused_with_the_cure(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"longer than a Unix socket allows.*SALESINSIGHTS_DATA_DIR"):
        socket_path(Settings(data_dir=tmp_path / ("x" * 120)))
    with pytest.raises(ValueError, match=r"holds a '%'.*SALESINSIGHTS_DATA_DIR"):
        render_config(Settings(data_dir=tmp_path / "100%"))


def test_each_service_launches_in_the_foreground_with_what_it_needs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", jars_dir=tmp_path / "jars")
    (tmp_path / "jars" / "broker").mkdir(parents=True)
    commands = {name: launch_command(settings, name) for name in NAMES if name != "kafka"}
    assert commands["producer"][0][1:] == ["-m", "salesinsights.producer"]
    assert commands["streaming"][0][-1] == str(settings.home / "jobs" / "streaming_medallion.py")
    assert "PYSPARK_PYTHON" in commands["streaming"][1]
    scheduler, environment = commands["airflow-scheduler"]
    assert scheduler[1:] == ["scheduler", "--skip-serve-logs"], "Airflow's log server would listen everywhere"
    assert environment["AIRFLOW_HOME"] == str(settings.airflow_home)
    assert environment["AIRFLOW__API__HOST"] == "127.0.0.1"
    with pytest.raises(KeyError, match="unknown service"):
        launch_command(settings, "zookeeper")


def test_the_broker_listens_on_the_configured_loopback_ports_only(tmp_path: Path) -> None:
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:19092", controller_port=19093)
    properties = dict(
        line.split("=", 1)
        for line in server_properties(Settings(data_dir=tmp_path, kafka=kafka)).splitlines()
    )
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.dirs"] == str(tmp_path / "kafka" / "logs")


AVAILABLE = {"events.raw": {"0": 100, "1": 50}}


def report(read: dict[str, dict[str, int]]) -> dict[str, object]:
    return {"queries": {"medallion": {"end_offsets": read}, "live_sales": {"end_offsets": AVAILABLE}}}


def test_unread_records_count_only_the_topics_a_query_reads() -> None:
    assert unread_records(AVAILABLE, {"events.raw": {"0": 90, "1": 50}}) == 10
    assert unread_records(AVAILABLE, {"events.raw": {"0": 100}}) == 50  # a partition never read
    assert unread_records(AVAILABLE, {}) == 0  # before its first batch: nothing known


def test_queries_are_caught_up_once_they_have_read_every_committed_record() -> None:
    both = report({"events.raw": {"0": 90, "1": 50}})
    assert queries_caught_up(both, AVAILABLE) == {"medallion": False, "live_sales": True}
    # A query before its first batch knows no offsets: not caught up.
    assert queries_caught_up({"queries": {"medallion": {}}}, AVAILABLE) == {"medallion": False}
    assert queries_caught_up(None, AVAILABLE) == {}


def test_a_query_waits_from_when_records_were_first_seen_unread_until_it_reads() -> None:
    behind = report({"events.raw": {"0": 90, "1": 50}})
    first = waiting_queries({}, 100.0, behind, AVAILABLE)
    assert first == {"medallion": Waiting(100.0, {"events.raw": {"0": 90, "1": 50}})}
    assert waiting_queries(first, 160.0, behind, AVAILABLE) == first  # still nothing read: since 100
    moved = waiting_queries(first, 170.0, report({"events.raw": {"0": 95, "1": 50}}), AVAILABLE)
    assert moved["medallion"].since == 170.0
    assert waiting_queries(moved, 180.0, report(AVAILABLE), AVAILABLE) == {}  # caught up
    assert waiting_queries(first, 190.0, behind, None) == first  # broker away: nothing learnt


def test_a_stream_is_hung_when_frozen_or_stalled_with_records_to_read_never_while_starting() -> None:
    limits = SupervisorSettings(
        frozen_after=timedelta(seconds=60),
        hung_after=timedelta(seconds=300),
        stream_start_timeout=timedelta(seconds=600),  # a JVM starting on a busy machine
    )
    stalled = {"medallion": Waiting(1_000.0, {})}
    assert hung_reason(1_500.0, 1_000.0, None, {}, limits) is None  # not yet reporting: starting
    assert "no health report in the 601 s" in str(hung_reason(1_601.0, 1_000.0, None, {}, limits))
    # The report of the run that died a moment before this one started (in the same second: the supervisor's
    # start times are whole seconds) is not this run's.
    earlier_run = {"pid": 41, "active": True}
    assert own_report(earlier_run, 42) is None and own_report(None, 42) is None
    assert own_report(earlier_run, 41) == earlier_run
    assert hung_reason(1_060.0, 1_000.0, 1_001.0, {}, limits) is None
    assert "not changed for 61 s" in str(hung_reason(1_062.0, 1_000.0, 1_001.0, {}, limits))
    assert hung_reason(1_290.0, 900.0, 1_289.0, stalled, limits) is None  # waiting 290 s only
    hung = hung_reason(1_301.0, 900.0, 1_300.0, stalled, limits)
    assert "medallion has read nothing for 301 s" in str(hung)
    # A query that waited before a restart counts from the restart.
    assert hung_reason(1_301.0, 1_200.0, 1_300.0, stalled, limits) is None


def test_make_up_starts_and_make_down_stops_every_service() -> None:
    started = [name for step in UP_ORDER for name in (AIRFLOW if step == "airflow" else [step])]
    assert sorted(started) == sorted(NAMES)
    assert sorted(DOWN_ORDER) == sorted(NAMES)
    assert DOWN_ORDER[0] == "watchdog", "the watchdog would start again what is being stopped"
    assert DOWN_ORDER[-1] == "kafka", "the producer and the stream finish their work on the broker"
