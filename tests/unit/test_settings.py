from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from salesinsights.settings import ServiceSettings, Settings


def test_defaults_follow_the_project_layout(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.landing_dir == tmp_path / "data" / "landing"
    assert settings.table_path("silver", "events") == f"{tmp_path}/data/lake/silver/events"
    assert settings.checkpoint_path("bronze") == f"{tmp_path}/data/checkpoints/bronze"
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert settings.services.bind_host == "127.0.0.1"
    assert (settings.services.airflow_port, settings.services.dashboard_port) == (8080, 8000)


def test_environment_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SALESINSIGHTS_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SALESINSIGHTS_LAKE_ROOT", "s3a://bucket/lake/")
    monkeypatch.setenv("SALESINSIGHTS_KAFKA__PARTITIONS", "6")
    monkeypatch.setenv("SALESINSIGHTS_SPARK__MASTER", "spark://10.0.0.5:7077")
    monkeypatch.setenv("SALESINSIGHTS_DROP__SLICE", "PT1H")
    monkeypatch.setenv("SALESINSIGHTS_SOURCE__CSV_PATHS", "/a/2019-Oct.csv:/b/*.csv.gz")
    settings = Settings()
    assert settings.produced_dir == tmp_path / "elsewhere" / "archive"
    assert settings.table_path("gold", "product_sales") == "s3a://bucket/lake/gold/product_sales"
    assert settings.kafka.partitions == 6
    assert settings.spark.master == "spark://10.0.0.5:7077"
    assert settings.drop.slice == timedelta(hours=1)
    assert settings.source.csv_paths == ["/a/2019-Oct.csv", "/b/*.csv.gz"]


def test_invalid_values_are_refused_with_the_field_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESINSIGHTS_KAFKA__PARTITIONS", "0")
    with pytest.raises(ValueError, match="partitions"):
        Settings()


def test_service_urls_reach_the_bound_host() -> None:
    assert ServiceSettings().dashboard_url == "http://127.0.0.1:8000"
    assert ServiceSettings(bind_host="0.0.0.0").airflow_url == "http://127.0.0.1:8080"  # every interface
    assert ServiceSettings(bind_host="::").url(9) == "http://127.0.0.1:9"
    assert ServiceSettings(bind_host="::1", dashboard_port=8001).dashboard_url == "http://[::1]:8001"
    assert ServiceSettings(bind_host="10.1.2.3").airflow_url == "http://10.1.2.3:8080"
