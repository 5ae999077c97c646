"""The one configuration source: typed settings with environment overrides.

Every path, topic, address, Spark master, window and watermark comes from here. Override any field with an
environment variable ``SALESINSIGHTS_<SECTION>__<FIELD>`` (for example ``SALESINSIGHTS_KAFKA__PARTITIONS=6``)
or from a ``.env`` file in the project home; the top-level ``SALESINSIGHTS_HOME`` moves everything local.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "SALESINSIGHTS_"


def _default_home() -> Path:
    """The checkout when running from source (where pyproject.toml sits), else the working directory."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


def _split_path_list(value: object) -> object:
    """A list given as one string in the environment: separated by commas or the OS path separator."""
    if isinstance(value, str):
        return [part for part in value.replace(",", os.pathsep).split(os.pathsep) if part]
    return value


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:9092"
    controller_port: int = 9093
    raw_topic: str = "events.raw"
    dead_letter_topic: str = "events.dead_letter"
    gold_sales_topic: str = "sales.product_window"
    # Abandoned and recovered carts (JSON keyed by session), for a win-back consumer.
    cart_abandoned_topic: str = "sales.cart_abandoned"
    # Compacted: one record per landing file that the producer has fully produced, written in the same
    # transaction as the file's events.
    files_done_topic: str = "producer.files_done"
    partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    # A file is one transaction; a full source day (~150k rows) must fit in it comfortably.
    transaction_timeout_ms: int = Field(default=300_000, ge=10_000)
    broker_heap: str = "512m"

    def with_topic_prefix(self, prefix: str) -> KafkaSettings:
        """A copy whose topics carry the prefix: a run of its own on a shared broker (tests, benchmarks)."""
        topics = (
            "raw_topic",
            "dead_letter_topic",
            "gold_sales_topic",
            "cart_abandoned_topic",
            "files_done_topic",
        )
        return self.model_copy(update={name: f"{prefix}.{getattr(self, name)}" for name in topics})


class SourceSettings(BaseModel):
    """Where events come from: the calibrated generator, or the original data set's CSV files."""

    kind: Literal["synthetic", "csv"] = "synthetic"
    # With kind=csv: files or globs (plain or .gz), e.g. /data/kaggle/2019-*.csv.
    csv_paths: Annotated[list[str], NoDecode] = Field(default_factory=list)
    seed: int = 42
    # 1.0 is the full data set (~20 M events over five months); 0.01 is a quick local run.
    scale: float = Field(default=1.0, gt=0, le=10)
    start: date = date(2019, 10, 1)
    end: date = date(2020, 3, 1)

    _split_paths = field_validator("csv_paths", mode="before")(_split_path_list)


class DropSettings(BaseModel):
    """The minute-level file drop. The slice length is the replay speed: a one-day slice per one-minute
    DAG run replays the store 1,440 times faster than it happened."""

    slice: timedelta = timedelta(days=1)
    compress: bool = True


class ProducerSettings(BaseModel):
    """The landing-folder producer."""

    # How often the landing folder is listed: each second of wait is a second of freshness.
    poll_interval: timedelta = timedelta(milliseconds=100)
    # A file is taken once its size and modification time have not changed for this long, so a file copied
    # in place (a `cp` of a large file, a slow writer) is never produced half-written. Writers that write
    # under a dot-name and rename need no wait, but cannot be told apart.
    settle: timedelta = timedelta(milliseconds=500)
    # Events further ahead of the stream's event time than this are quarantined (event_time_ahead_of_stream).
    event_time_lead: timedelta = timedelta(days=1)
    # The Kafka transactional id: a new producer with it fences an older one. A producer of other topics on
    # the same broker (a benchmark's) needs an id of its own, or the two fence each other.
    transactional_id: str = "salesinsights-producer"
    # How long a file's commit may wait for the broker; then the file is produced again once it answers.
    commit_timeout: timedelta = timedelta(seconds=60)
    # While the broker does not answer, the producer retries with this back-off, doubling up to the cap.
    broker_retry: timedelta = timedelta(seconds=1)
    broker_retry_max: timedelta = timedelta(seconds=30)


class SparkSettings(BaseModel):
    master: str = "local[*]"
    # Durations take ISO 8601 (PT45S) or seconds in the environment.
    trigger_interval: timedelta = timedelta(seconds=1)
    window: timedelta = timedelta(minutes=1)
    watermark: timedelta = timedelta(minutes=10)
    shuffle_partitions: int = Field(default=4, ge=1)
    driver_memory: str = "2g"
    # Upper bound of Kafka records per micro-batch, so that a backlog is worked off in bounded steps.
    max_offsets_per_trigger: int = Field(default=200_000, ge=1)
    # The live query (window totals to the gold topic): short triggers, so that a purchase is counted seconds
    # after its file lands even while the archive works off a backlog. Its batches hold a whole landing file
    # (a day is ~150k events): a file cut into batches by Kafka partition could put one partition's events
    # behind the watermark that another's set.
    live_trigger_interval: timedelta = timedelta(milliseconds=250)
    live_max_offsets_per_trigger: int = Field(default=200_000, ge=1)
    # On a stop (SIGTERM, make down) each query finishes its micro-batch in flight, for at most this long
    # (below the supervisor's 120 s before SIGKILL); a batch cut short is run again at the next start.
    stop_grace: timedelta = timedelta(seconds=60)
    # Any further Spark configuration, e.g. for object storage:
    # SALESINSIGHTS_SPARK__EXTRA_CONF='{"spark.hadoop.fs.s3a.endpoint": "http://minio:9000"}'.
    extra_conf: dict[str, str] = Field(default_factory=dict)
    # Extra jars beside the fetched ones (comma-separated paths), e.g. hadoop-aws for s3a://.
    extra_jars: Annotated[list[str], NoDecode] = Field(default_factory=list)
    _split_jars = field_validator("extra_jars", mode="before")(_split_path_list)
    # How long Delta keeps removed files and log entries, i.e. how far back time travel reaches.
    retention: timedelta = timedelta(days=7)


class SqlSettings(BaseModel):
    """The SQL endpoint for BI tools: one Spark application serving JDBC/ODBC (the Spark Thrift Server,
    HiveServer2's protocol) and Spark Connect, over the lake's tables registered by name in a Hive
    metastore: Derby under data/metastore by default, which the endpoint serves to this machine's Spark shells
    too, or Postgres by setting."""

    thrift_port: int = 10000
    connect_port: int = 15002
    # Derby's network server (its standard port), inside the endpoint, on the loopback address only.
    metastore_port: int = 1527
    # Empty: that Derby. A jdbc:postgresql://host:port/database URL puts the metastore in Postgres instead.
    metastore_url: str = ""
    # Derby keeps its tables in the user's schema: APP is where embedded Derby puts them.
    metastore_user: str = "APP"
    # Unset with Derby: generated once into data/metastore/password. Required with Postgres.
    metastore_password: SecretStr | None = None

    @field_validator("metastore_url")
    @classmethod
    def _postgres_or_derby(cls, url: str) -> str:
        if url and not url.startswith("jdbc:postgresql://"):
            raise ValueError(f"not a jdbc:postgresql://host:port/database URL: {url!r} (empty: Derby)")
        return url

    @property
    def serves_derby(self) -> bool:
        """Whether the endpoint serves the metastore (Derby), or it lives in Postgres."""
        return not self.metastore_url

    # How often the server registers tables that have appeared in the lake since (e.g. the CLV tables).
    refresh: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    driver_memory: str = "1g"
    # How long `salesinsights sql` waits for the endpoint's answer to one query.
    client_timeout: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # Required of every client when set (any user name); the endpoint refuses to start without one when the
    # services are bound beyond the loopback address.
    password: SecretStr | None = None


class ServiceSettings(BaseModel):
    bind_host: str = "127.0.0.1"
    airflow_port: int = 8080
    dashboard_port: int = 8000
    # On start, the dashboard reads the gold topic's window totals from this far back; older windows come
    # from Delta, which the archive query has written by then.
    dashboard_live_lookback: timedelta = timedelta(hours=1)
    # Empty: SQLite in the Airflow home. A postgresql+psycopg2:// URL selects Postgres.
    airflow_database_url: str = ""
    # The airflow_db_clean DAG purges Airflow's metadata (runs, task instances, logs of events, XComs) older
    # than this: two every-minute DAGs add about 2,880 runs a day.
    airflow_metadata_retention: timedelta = Field(default=timedelta(days=14), ge=timedelta(hours=1))

    @property
    def client_host(self) -> str:
        """The host that reaches the services from this machine: the loopback address when they are bound
        to every interface."""
        return "127.0.0.1" if self.bind_host in {"", "0.0.0.0", "::"} else self.bind_host

    @property
    def on_loopback(self) -> bool:
        """Whether the services are reachable from this machine only."""
        return self.bind_host in {"localhost", "::1"} or self.bind_host.startswith("127.")

    def url(self, port: int) -> str:
        """The URL that reaches one of the platform's services on `port`, an IPv6 literal in brackets."""
        host = self.client_host
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def airflow_url(self) -> str:
        return self.url(self.airflow_port)

    @property
    def dashboard_url(self) -> str:
        return self.url(self.dashboard_port)


class SupervisorSettings(BaseModel):
    """The process supervisor (supervisord) that runs every service of `make up` and restarts it when it dies,
    and its watchdog."""

    # A service that dies within `start_seconds` of its start counts as a failed start; supervisord retries
    # it `start_retries` times, one second longer between each, then leaves it FATAL. The watchdog starts a
    # FATAL service again after `fatal_retry`, doubling up to `fatal_retry_max`: nothing stays down for good.
    start_seconds: int = Field(default=5, ge=1)
    start_retries: int = Field(default=5, ge=0)
    fatal_retry: timedelta = timedelta(seconds=30)
    fatal_retry_max: timedelta = timedelta(minutes=5)
    # The streaming application is restarted when it is frozen — it has not rewritten its health file (every
    # second, whatever its queries do) for `frozen_after` — or hung: a query has read nothing for
    # `hung_after` while Kafka holds committed records for it. A backlog's longest micro-batch must fit in
    # `hung_after`. From its start to its first health report (JVM start, queries started) it may take
    # `stream_start_timeout`.
    frozen_after: timedelta = timedelta(seconds=60)
    hung_after: timedelta = timedelta(minutes=5)
    stream_start_timeout: timedelta = timedelta(minutes=5)
    watchdog_interval: timedelta = timedelta(seconds=5)
    # Each service's log rotates at this size; this many earlier files are kept.
    log_max_bytes: int = Field(default=20_000_000, ge=100_000)
    log_backups: int = Field(default=5, ge=0)


# CLV (`Settings.clv`).
TimeUnit = Literal["day", "week", "month"]
# A month is 1/12 of the average year, for the time unit as for the monthly discounting steps.
DAYS_PER_MONTH = 365.25 / 12
UNIT_DAYS: dict[TimeUnit, float] = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH}
PurchaseModelName = Literal["bgnbd", "mbgnbd", "pareto_nbd"]
SelectionMetric = Literal["purchases_mae", "purchases_rmse", "spend_mae", "aggregate_purchases_error"]


class ClvSettings(BaseModel):
    horizon_months: int = Field(default=12, ge=1, le=120)
    monthly_discount_rate: float = Field(default=0.01, ge=0, lt=1)
    # Recency and age T are day differences divided by the unit's days; weeks as in the literature.
    time_unit: TimeUnit = "week"
    top_customers: int = Field(default=20, ge=1)
    # A run on a younger lake (days of events up to the as-of date) is skipped, saying why.
    min_history_days: int = Field(default=21, ge=1)
    # The purchase models compared on the holdout; the first is used when no backtest can be run.
    models: Annotated[list[PurchaseModelName], NoDecode] = Field(
        default_factory=lambda: list(get_args(PurchaseModelName)), min_length=1
    )
    # The holdout error by which the nightly run chooses the model it publishes.
    selection_metric: SelectionMetric = "purchases_mae"
    # The backtest fits on the history up to the as-of date less the holdout, and predicts the holdout.
    holdout_days: int = Field(default=56, ge=7)
    # Guards: a snapshot is provisional (with its reasons) when the history it is fitted on is shorter than
    # this share of the horizon, when a fit lies at a parameter boundary, or when the chosen model's aggregate
    # holdout error exceeds max_holdout_error (0.3: predicted purchases 30 % off the actual).
    min_calibration_share_of_horizon: float = Field(default=0.25, gt=0)
    max_holdout_error: float = Field(default=0.3, gt=0)
    # mark: publish a provisional snapshot, flagged; refuse: the audit rejects it.
    on_provisional: Literal["mark", "refuse"] = "mark"
    # A customer's expected purchases over the horizon above one and above this multiple of their own rate
    # (occasions over at least the horizon's length) is flagged as extrapolated.
    extrapolation_factor: float = Field(default=3.0, gt=1)

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.time_unit]

    @property
    def units_per_month(self) -> float:
        return DAYS_PER_MONTH / self.unit_days

    _split_models = field_validator("models", mode="before")(_split_path_list)


class CartSettings(BaseModel):
    """Abandoned carts (`Settings.carts`): the sessions query's rules, written down in the README."""

    # The cart sessions query runs in the streaming application unless turned off (`make bench-stream`
    # measures the application both ways).
    enabled: bool = True
    # A session whose cart holds a unit is abandoned when the stream's event time passes its last event plus
    # this gap.
    idle_gap: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    # An abandoned session stays in state this long after its last event, so that a return and a purchase
    # can be recognised as a recovery; after it, the session's state is gone.
    recovery_window: timedelta = timedelta(hours=24)
    # Records per micro-batch of the sessions query, shared evenly by the raw topic's partitions: a bound on
    # a batch's time under a backlog (a new checkpoint re-reads the whole topic). Where a batch cuts the
    # partitions, the one read least far holds the watermark back (spark/cart_sessions.py), so no event
    # falls behind it for the cut.
    max_offsets_per_trigger: int = Field(default=1_000_000, ge=1)
    trigger_interval: timedelta = timedelta(seconds=5)
    # The daily, hourly and per-product aggregates are recomputed at most this often (three Delta commits
    # each time), so they lag the fact tables by up to this much; abandonment itself waits idle_gap.
    aggregates_interval: timedelta = Field(default=timedelta(seconds=30), ge=timedelta(0))

    @model_validator(mode="after")
    def _recovery_after_the_gap(self) -> CartSettings:
        if self.recovery_window <= self.idle_gap:
            raise ValueError(
                f"carts.recovery_window ({self.recovery_window}) is not longer than carts.idle_gap "
                f"({self.idle_gap}): an abandoned session would leave the state before it could be recovered"
            )
        return self


class AlertSettings(BaseModel):
    """Where a failed Airflow task is reported (every DAG's failure notifier): a log file by default, or
    mail (SMTP) or a webhook (a JSON POST, e.g. a chat's incoming webhook)."""

    target: Literal["log", "smtp", "webhook"] = "log"
    # Empty: data/logs/failures.log.
    log_file: Path | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "salesinsights@localhost"
    smtp_recipients: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_url: str = ""
    timeout: timedelta = timedelta(seconds=10)

    _split_recipients = field_validator("smtp_recipients", mode="before")(_split_path_list)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    home: Path = Field(default_factory=_default_home)
    # Local runtime state; defaults to <home>/data.
    data_dir: Path | None = None
    # Delta tables and checkpoints may live on object storage (s3a://bucket/lake); default under data_dir.
    lake_root: str | None = None
    checkpoint_root: str | None = None
    jars_dir: Path | None = None

    kafka: KafkaSettings = KafkaSettings()
    source: SourceSettings = SourceSettings()
    drop: DropSettings = DropSettings()
    producer: ProducerSettings = ProducerSettings()
    spark: SparkSettings = SparkSettings()
    services: ServiceSettings = ServiceSettings()
    sql: SqlSettings = SqlSettings()
    supervisor: SupervisorSettings = SupervisorSettings()
    clv: ClvSettings = ClvSettings()
    carts: CartSettings = CartSettings()
    alerts: AlertSettings = AlertSettings()

    @property
    def data(self) -> Path:
        return (self.data_dir or self.home / "data").resolve()

    @property
    def landing_dir(self) -> Path:
        return self.data / "landing"

    @property
    def produced_dir(self) -> Path:
        """Landing files once produced, kept for replays and for reconciling with the done topic after a
        crash. The folder keeps its name, data/archive, from the layout users know."""
        return self.data / "archive"

    @property
    def rejected_dir(self) -> Path:
        """Landing files the producer could not take, each with a dead letter saying why."""
        return self.data / "rejected"

    @property
    def kafka_dir(self) -> Path:
        return self.data / "kafka"

    @property
    def airflow_home(self) -> Path:
        return self.data / "airflow"

    @property
    def run_dir(self) -> Path:
        """The supervisor's socket and configuration, the services' locks and health files."""
        return self.data / "run"

    @property
    def log_dir(self) -> Path:
        return self.data / "logs"

    @property
    def dq_dir(self) -> Path:
        """The Great Expectations context (gx/) and the rendered Data Docs site (data_docs/)."""
        return self.data / "dq"

    @property
    def clv_reports_dir(self) -> Path:
        """The CLV runs' HTML reports; the dashboard serves them at /reports/clv/."""
        return self.data / "reports" / "clv"

    @property
    def data_docs_dir(self) -> Path:
        """The Data Docs site that the data-quality runs render; the dashboard serves it at /data-docs/."""
        return self.dq_dir / "data_docs"

    @property
    def lake(self) -> str:
        return (self.lake_root or str(self.data / "lake")).rstrip("/")

    @property
    def checkpoints(self) -> str:
        return (self.checkpoint_root or str(self.data / "checkpoints")).rstrip("/")

    @property
    def jars(self) -> Path:
        return (self.jars_dir or self.home / ".jars").resolve()

    @property
    def metastore_dir(self) -> Path:
        """The SQL endpoint's Hive metastore (Derby's database, its password, derby.log) and Hive's scratch
        folders."""
        return self.data / "metastore"

    @property
    def warehouse_dir(self) -> Path:
        """Spark's warehouse folder (managed tables; the lake's are external, by location)."""
        return self.data / "warehouse"

    def table_path(self, layer: Literal["bronze", "silver", "gold", "audit"], table: str) -> str:
        """``<lake>/<layer>/<table>``, e.g. ``data/lake/silver/events``."""
        return f"{self.lake}/{layer}/{table}"

    def checkpoint_path(self, query: str) -> str:
        return f"{self.checkpoints}/{query}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def child_environment(data_dir: Path, kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    """The environment for a child process (a script, a job, a service) that must use this data folder and
    these Kafka settings, whatever the parent's own configuration: its SALESINSIGHTS_, SI_ and Airflow
    variables are left out."""
    inherited = ("SALESINSIGHTS_", "SI_", "AIRFLOW_", "AIRFLOW__")
    env = {key: value for key, value in os.environ.items() if not key.startswith(inherited)}
    env[f"{ENV_PREFIX}DATA_DIR"] = str(data_dir)
    for name, value in kafka.model_dump().items():
        env[f"{ENV_PREFIX}KAFKA__{name.upper()}"] = str(value)
    return env | extra
