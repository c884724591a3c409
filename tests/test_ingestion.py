"""Streaming ingestion of large extracts: HelloAsso participations checked and aggregated with
DuckDB from Parquet (typed) or CSV (copied block by block to Parquet), with the same results
as a plain pandas read-and-groupby, exact data rows for quarantined records whatever the
block boundaries, and bounded memory settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_demo import fixture_communes

from barometre import demo
from barometre.sources import helloasso
from barometre.sources.reading import stream_csv_to_parquet

DATA_YEAR = 2023
STATES = helloasso.DEFAULT_ITEM_STATES


@pytest.fixture(scope="module")
def items() -> pa.Table:
    data = demo.synthesize_demo(fixture_communes(), DATA_YEAR, np.random.default_rng(7), scale=0.3)
    return data.ha_participations


def pandas_oracle(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain pandas: rows per organisation, and those dated in the year in a counted state."""
    dated = pd.to_datetime(frame["date"]).dt.year == DATA_YEAR
    counted = dated & frame["state"].astype(str).isin(STATES)
    out = (
        frame.assign(in_scope=counted)
        .groupby("organization_id")
        .agg(rows=("id", "size"), in_scope=("in_scope", "sum"))
        .reset_index()
    )
    return out.astype("int64")


def test_typed_parquet_and_csv_give_the_pandas_result(items: pa.Table, tmp_path: Path) -> None:
    parquet = tmp_path / "participations.parquet"
    pq.write_table(items, parquet, row_group_size=5_000)
    csv = tmp_path / "participations.csv"
    frame = items.to_pandas()
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%dT%H:%M:%S")).to_csv(csv, index=False)
    expected = pandas_oracle(frame)
    for path in (parquet, csv):
        summary = helloasso.participations_by_organization(
            path, DATA_YEAR, STATES, memory_limit="64MB"
        )
        assert (summary.rows_read, summary.quarantined) == (items.num_rows, 0)
        pd.testing.assert_frame_equal(summary.per_org, expected)
    assert expected["in_scope"].sum() > 0 and (expected["rows"] > expected["in_scope"]).any()


def test_streamed_csv_keeps_exact_data_rows_across_blocks(tmp_path: Path) -> None:
    """Records split across many small blocks, with malformed records (too many or too few
    fields) among them: every copied record keeps its data row, every malformed one is
    reported with its own."""
    rng = np.random.default_rng(3)
    lines = ["id,form_id,organization_id,date,state"]
    malformed = set(rng.choice(np.arange(1, 3_001), size=25, replace=False).tolist())
    for row in range(1, 3_001):
        fields = [str(row), "7", str(100 + row % 13), f"2023-03-{1 + row % 28:02d}", "Processed"]
        if row in malformed:
            fields = fields + ["extra"] if row % 2 else fields[:3]
        lines.append(",".join(fields))
    path = tmp_path / "items.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    streamed = stream_csv_to_parquet(
        path, tmp_path / "copy.parquet", ["id", "form_id", "organization_id", "date", "state"], block_size=4_096
    )  # fmt: skip
    copy = pq.read_table(streamed.parquet).to_pandas()
    assert streamed.rows_read == 3_000
    assert sorted(streamed.malformed["data_row"]) == sorted(malformed)
    assert pq.ParquetFile(streamed.parquet).metadata.num_row_groups > 5  # many blocks
    np.testing.assert_array_equal(copy["_data_row"].to_numpy(), copy["id"].astype(int).to_numpy())
    summary = helloasso.participations_by_organization(
        path, DATA_YEAR, STATES, max_quarantine_share=0.05
    )
    assert (summary.rows_read, summary.quarantined) == (3_000, 25)
    reasons = summary.reasons.set_index("message")["rows"].to_dict()
    assert reasons == {
        "6 fields instead of 5 (row not split into columns)": sum(r % 2 for r in malformed),
        "3 fields instead of 5 (row not split into columns)": sum(1 - r % 2 for r in malformed),
    }


def test_repeated_item_ids_keep_the_first(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 2, 5, 2], pa.int64()),
            "form_id": pa.array([9] * 6, pa.int64()),
            "organization_id": pa.array([100, 100, 200, 200, 200, 100], pa.int64()),
            "date": pa.array([f"2023-01-0{d}" for d in range(1, 7)]).cast(pa.timestamp("s")),
            "state": pa.array(["Processed"] * 6).dictionary_encode(),
        }
    )
    path = tmp_path / "participations.parquet"
    pq.write_table(table, path)
    quarantine = tmp_path / "quarantine.csv"
    summary = helloasso.participations_by_organization(path, DATA_YEAR, STATES, max_quarantine_share=0.5, quarantine_path=quarantine)  # fmt: skip
    assert summary.per_org.to_dict("records") == [
        {"organization_id": 100, "rows": 2, "in_scope": 2},
        {"organization_id": 200, "rows": 2, "in_scope": 2},
    ]
    written = pd.read_csv(quarantine, dtype=str)
    assert written[["data_row", "reason", "organization_id"]].values.tolist() == [
        [
            "4",
            "id '2': duplicated identifier (first at data row 2 of participations.parquet)",
            "200",
        ],
        [
            "6",
            "id '2': duplicated identifier (first at data row 2 of participations.parquet)",
            "100",
        ],
    ]


def test_time_zones_and_float_identifiers(tmp_path: Path) -> None:
    """A time-zone-aware timestamp counts in the year of French local time; identifiers saved
    as floats by pandas (an integer column with a gap) are read as integers."""
    moments = pd.to_datetime(
        [
            "2023-12-31T22:30:00Z",
            "2023-12-31T23:30:00Z",
            "2022-12-31T23:30:00Z",
            "2023-06-01T12:00:00Z",
        ]
    )
    table = pa.table(
        {
            "id": pa.array([1.0, 2.0, 3.0, 4.0]),
            "form_id": pa.array([9.0, 9.0, 9.0, None]),
            "organization_id": pa.array([100.0, 100.0, 100.0, 100.0]),
            "date": pa.array(moments, pa.timestamp("us", tz="UTC")),
            "state": pa.array(["Processed"] * 4),
        }
    )
    path = tmp_path / "participations.parquet"
    pq.write_table(table, path)
    summary = helloasso.participations_by_organization(path, DATA_YEAR, STATES, max_quarantine_share=0.5)  # fmt: skip
    # 22:30Z is 23:30 in Paris (2023); 23:30Z is already 2024; 2022-12-31T23:30Z is 2023.
    assert summary.per_org.to_dict("records") == [
        {"organization_id": 100, "rows": 3, "in_scope": 2}
    ]
    assert summary.reasons[["column", "message", "rows"]].values.tolist() == [
        ["form_id", "missing value", 1]
    ]


def test_memory_settings_are_validated(items: pa.Table, tmp_path: Path) -> None:
    path = tmp_path / "participations.parquet"
    pq.write_table(items, path)
    with pytest.raises(ValueError, match="memory_limit must look like '1GB'"):
        helloasso.participations_by_organization(path, DATA_YEAR, STATES, memory_limit="lots")
    with pytest.raises(ValueError, match="threads"):
        helloasso.participations_by_organization(path, DATA_YEAR, STATES, threads=0)
