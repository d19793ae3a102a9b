"""The Spark path of matching (liudong.exchange.spark) gives the pairs the DuckDB path
gives, on small samples, with PySpark in local mode (local[2]). One session for the module:
starting a JVM takes seconds. Skipped, saying why, where there is no Java 17 or no PySpark."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command

from liudong.exchange import matching
from liudong.exchange.tests.test_matching import TODAY, registers  # noqa: F401
from liudong.people.generate import generate_rows, write_file

# Spark's answer is compared with the DuckDB path's; which database holds the registers
# changes neither, so the PostgreSQL pass leaves it out (its Java start-up is the slow part).
pytestmark = pytest.mark.one_database


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    shown = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', shown.stderr + shown.stdout)
    return int(found.group(1)) if found else None


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install -e '.[test]')")
    major = _java_major()
    if major is None:
        pytest.skip("no java on PATH: the Spark path needs a Java 17+ runtime")
    if major < 17:
        pytest.skip(f"java {major} found: PySpark 4 needs Java 17 or newer")
    from liudong.exchange import spark as spark_matching

    session = spark_matching.session("local[2]", partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spoiled(number: str) -> str:
    """Two adjacent digits of the sequence swapped: the first pair that differs."""
    for i in (14, 13, 15, 12):
        if number[i] != number[i + 1]:
            return number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    return number[:14] + str((int(number[14]) + 1) % 10) + number[15:]


def pairs(result) -> list[tuple]:
    return sorted((m.outflow_row, m.inflow_row, m.score, m.method) for m in result.matches)


def test_every_stage_gives_the_same_pairs_on_spark_and_the_command_takes_it(
    spark,
    registers,  # noqa: F811 (the fixture of test_matching)
    tmp_path,
):
    from liudong.exchange.spark import match_spark

    outflow_path, inflow_path, truth = registers
    outflow = matching.read_register(outflow_path, today=TODAY)
    inflow = matching.read_register(inflow_path, today=TODAY)
    on_duckdb = matching.match(outflow, inflow, today=TODAY)
    on_spark = match_spark(outflow, inflow, spark=spark)
    assert pairs(on_spark) == pairs(on_duckdb)
    assert {m.method for m in on_spark.matches} == {
        "id",
        "id_form",
        "transposition",
        "probabilistic",
    }
    assert {m.outflow_row: m.inflow_row for m in on_spark.matches} == truth
    assert on_spark.summary == on_duckdb.summary

    # The report as the national job computes it, a group-by in Spark, on the registers
    # with certificates and verifications (test_match_report's).
    from liudong.exchange import spark as spark_matching
    from liudong.exchange.tests.test_match_report import registers as with_certificates

    (tmp_path / "report").mkdir()
    paths = with_certificates(tmp_path / "report")
    left, right = (matching.read_register(p, today=TODAY) for p in paths)
    frames = spark_matching.records_frame(spark, left), spark_matching.records_frame(spark, right)
    found = spark_matching.match_frames(spark, *frames)
    expected = matching.match(left, right, today=TODAY).summary
    assert spark_matching.summary(*frames, found) == expected
    assert sum(e["certificate_same"] for e in expected) == 1

    printed = {}
    for engine in ("duckdb", "spark"):
        out = io.StringIO()
        call_command(
            "match", str(outflow_path), str(inflow_path), format="json", engine=engine, stdout=out
        )
        printed[engine] = json.loads(out.getvalue())
    assert printed["spark"]["matches"] == printed["duckdb"]["matches"]
    assert printed["spark"]["outflow_unmatched"] == printed["duckdb"]["outflow_unmatched"]


def test_a_generated_sample_with_faults_and_counted_u_matches_alike(spark, tmp_path, monkeypatch):
    """Enough rows for u to be counted from the registers (the bound lowered for the test),
    with transposed, blank and legacy numbers and traditional names; rows written to Parquet
    and read back as a provincial node's export would be."""
    from liudong.exchange import spark as spark_matching

    monkeypatch.setattr(matching, "_ESTIMATE_U_FROM", 50)
    monkeypatch.setattr(spark_matching, "_ESTIMATE_U_FROM", 50)
    rows = list(generate_rows(120, seed=9, fault_share=0, today=TODAY))
    rng = random.Random(3)
    inflow_rows = []
    for row in rows[10:] + list(generate_rows(15, seed=10, fault_share=0, today=TODAY)):
        number = str(row["id_number"])
        fault = rng.random()
        if fault < 0.1:
            row = {**row, "id_number": spoiled(number)}
        elif fault < 0.2:
            row = {**row, "id_number": ""}
        elif fault < 0.25 and number[6:8] == "19":
            row = {**row, "id_number": number[:6] + number[8:17]}
        inflow_rows.append(row)
    rng.shuffle(inflow_rows)
    write_file(tmp_path / "out.csv", rows)
    write_file(tmp_path / "in.csv", inflow_rows)
    outflow = matching.read_register(tmp_path / "out.csv", today=TODAY)
    inflow = matching.read_register(tmp_path / "in.csv", today=TODAY)
    on_duckdb = matching.match(outflow, inflow, today=TODAY)
    assert len(on_duckdb.matches) >= 100

    spark_matching.write_parquet(outflow, tmp_path / "out.parquet")
    spark_matching.write_parquet(inflow, tmp_path / "in.parquet")
    found = spark_matching.match_frames(
        spark,
        spark_matching.read_parquet(spark, tmp_path / "out.parquet"),
        spark_matching.read_parquet(spark, tmp_path / "in.parquet"),
    )
    on_spark = sorted(
        (r["outflow_row"], r["inflow_row"], r["score"], r["method"]) for r in found.collect()
    )
    assert on_spark == pairs(on_duckdb)
    assert spark_matching.estimate_u(
        spark_matching.records_frame(spark, outflow), spark_matching.records_frame(spark, inflow)
    ) == pytest.approx(matching.estimate_u(outflow, inflow))


def test_the_rounds_of_mutual_best_pairs_take_what_the_greedy_sort_takes(spark):
    """Chains of ties and near-ties, where taking a locally best pair early would be wrong
    unless it is the best of both its rows."""
    from liudong.exchange.spark import assign

    rng = random.Random(1)
    candidates = [
        (o, i, rng.choice([0.95, 0.97, 0.99, 1.0]), "probabilistic")
        for o in range(2, 40)
        for i in range(2, 40)
        if rng.random() < 0.15
    ]
    frame = spark.createDataFrame(
        candidates, "outflow_row long, inflow_row long, score double, method string"
    )
    taken = sorted((r[0], r[1]) for r in assign(frame, 0.96).collect())

    greedy, seen_out, seen_in = [], set(), set()
    for o, i, score, _method in sorted(candidates, key=lambda c: (-c[2], c[0], c[1])):
        if score >= 0.96 and o not in seen_out and i not in seen_in:
            seen_out.add(o)
            seen_in.add(i)
            greedy.append((o, i))
    assert taken == sorted(greedy)
