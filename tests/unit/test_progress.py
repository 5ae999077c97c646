from __future__ import annotations

from salesinsights.spark.progress import end_offsets, kafka_lag


def test_lag_is_latest_minus_processed_offsets() -> None:
    progress = {
        "sources": [
            {
                "latestOffset": '{"events.raw": {"0": 120, "1": 80}}',
                "endOffset": '{"events.raw": {"0": 100, "1": 80}}',
            }
        ]
    }
    assert kafka_lag(progress) == 20


def test_lag_is_unknown_before_the_first_offsets() -> None:
    assert kafka_lag({"sources": [{"latestOffset": "null", "endOffset": None}]}) is None
    assert kafka_lag({"sources": [{"latestOffset": None, "endOffset": None}]}) is None


def test_a_query_reading_each_partition_as_a_source_has_read_up_to_every_sources_offsets() -> None:
    progress = {
        "sources": [
            {"latestOffset": '{"events.raw": {"0": 120}}', "endOffset": '{"events.raw": {"0": 100}}'},
            {"latestOffset": '{"events.raw": {"1": 90}}', "endOffset": '{"events.raw": {"1": 80}}'},
        ]
    }
    assert end_offsets(progress) == {"events.raw": {"0": 100, "1": 80}}
    assert kafka_lag(progress) == 30
