"""The matching of liudong.exchange.matching.engine on Apache Spark, for registers too large for
one machine (the national ones: hundreds of millions of rows, exported by each provincial
node as Parquet). The same stages, the same model, the same one-to-one rule, so a sample
gives the same pairs on both engines (tests/test_spark_matching.py):

1. same ID: an equi-join on the first 17 digits (a legacy or another check character scores
   0.99), and on the number as written for numbers that do not parse;
2. one transposition: each outflow number exploded into its 16 adjacent swaps, equi-joined
   on the inflow's first 17 digits, kept when the names (or their pinyin) agree. A swap that
   gives an impossible birth date joins nothing: an inflow number only has first 17 digits
   when its birth date is real;
3. the Fellegi-Sunter model in splink's SparkAPI over the rows left, with u counted exactly
   from the whole registers (group-by counts joined on the value, as estimate_u does in
   Python) and the same blocking rules.
One to one: the Python path sorts all pairs of a stage by (score, outflow row, inflow row)
and takes them greedily. On a cluster that sort is one partition; instead, rounds take every
pair that is the best of both its rows under that same order (two window functions) and drop
the rows taken, until no pair is left. With a strict total order on pairs, the pairs taken
that way are exactly the greedy ones (a greedy matching is the unique locally-dominant one),
and most rows have a single candidate, so a handful of rounds do.

Input rows carry the fields of matching.Record (normalised where they were read, on each
node: simplified name, pinyin, ID facts), see SCHEMA; ``row`` must be unique in a register.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import (
    _ESTIMATE_U_FROM,
    _PRIOR_REGISTER_SIZE,
    DEFAULT_THRESHOLD,
    SCORE_SAME_ID,
    SCORE_SAME_ID_OTHER_FORM,
    SCORE_TRANSPOSED_HOMOPHONE,
    SCORE_TRANSPOSED_SAME_NAME,
    U_FIELDS,
    Match,
    MatchResult,
    Record,
    _quietly,
    splink_settings,
    summarise,
    u_from_agreement,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


logger = logging.getLogger(__name__)

FIELDS = (
    ("row", "long"),
    ("name", "string"),
    ("pinyin", "string"),
    ("sex", "string"),
    ("id_number", "string"),
    ("id17", "string"),
    ("legacy", "boolean"),
    ("birth_date", "string"),
    ("household_county", "string"),
    ("residence_county", "string"),
    ("certificate_no", "string"),
    ("verified_on", "string"),
)
SCHEMA = ", ".join(f"{name} {kind}" for name, kind in FIELDS)
PAIR_COLUMNS = ("outflow_row", "inflow_row", "score", "method")
MAX_ROUNDS = 50  # of the one-to-one assignment; a stage needing more is a data problem


def session(master: str | None = None, *, partitions: int | None = None) -> SparkSession:
    """A Spark session with splink's similarity UDF jar. ``master``: SPARK_MASTER or
    local[*]; shuffle partitions: SPARK_SHUFFLE_PARTITIONS or Spark's default."""
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    # A local session binds to the loopback, not to whatever the host name resolves to.
    if not master or master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master or os.environ.get("SPARK_MASTER", "local[*]"))
        .appName("liudong-match")
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    shuffle = partitions or os.environ.get("SPARK_SHUFFLE_PARTITIONS")
    if shuffle:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle))
    spark = builder.getOrCreate()
    # splink breaks the lineage of its intermediate tables with checkpoints (on a cluster:
    # SPARK_CHECKPOINT_DIR on shared storage, e.g. HDFS).
    spark.sparkContext.setCheckpointDir(
        os.environ.get("SPARK_CHECKPOINT_DIR") or tempfile.mkdtemp(prefix="liudong-spark-")
    )
    return spark


def records_frame(spark: SparkSession, records: Sequence[Record]) -> DataFrame:
    """A register already read (matching.read_register) as a Spark DataFrame."""
    rows = [tuple(getattr(r, name) for name, _kind in FIELDS) for r in records]
    return spark.createDataFrame(rows, schema=SCHEMA)


def write_parquet(records: Sequence[Record], path: str | Path) -> None:
    """A node's export for the national match: its register, read and normalised, as one
    Parquet file of SCHEMA (pyarrow, no Spark needed on the node)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"long": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}
    table = pa.table(
        {name: [getattr(r, name) for r in records] for name, _kind in FIELDS},
        schema=pa.schema([(name, types[kind]) for name, kind in FIELDS]),
    )
    pq.write_table(table, path)


def read_parquet(spark: SparkSession, path: str | Path) -> DataFrame:
    return spark.read.schema(SCHEMA).parquet(str(path))


# -- the stages -------------------------------------------------------------------------------


def same_id_pairs(outflow: DataFrame, inflow: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    left = outflow.filter(F.col("id17") != "").select(
        F.col("row").alias("outflow_row"), "id17", "id_number", "legacy"
    )
    right = inflow.filter(F.col("id17") != "").select(
        F.col("row").alias("inflow_row"),
        "id17",
        F.col("id_number").alias("in_number"),
        F.col("legacy").alias("in_legacy"),
    )
    same = F.col("id_number") == F.col("in_number")
    same &= ~F.col("legacy") & ~F.col("in_legacy")
    by_first17 = left.join(right, "id17").select(
        "outflow_row",
        "inflow_row",
        F.when(same, F.lit(SCORE_SAME_ID))
        .otherwise(F.lit(SCORE_SAME_ID_OTHER_FORM))
        .alias("score"),
        F.when(same, F.lit("id")).otherwise(F.lit("id_form")).alias("method"),
    )
    # Numbers that do not parse, joined as written (only among themselves, as in Python).
    unread_left = outflow.filter((F.col("id17") == "") & (F.col("id_number") != ""))
    unread_right = inflow.filter((F.col("id17") == "") & (F.col("id_number") != ""))
    as_written = (
        unread_left.select(F.col("row").alias("outflow_row"), "id_number")
        .join(unread_right.select(F.col("row").alias("inflow_row"), "id_number"), "id_number")
        .select(
            "outflow_row",
            "inflow_row",
            F.lit(SCORE_SAME_ID).alias("score"),
            F.lit("id").alias("method"),
        )
    )
    return by_first17.unionByName(as_written)


def transposed_pairs(outflow: DataFrame, inflow: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    def swap(i: int) -> Column:
        first17 = F.col("id17")
        return F.when(
            F.substring(first17, i + 1, 1) != F.substring(first17, i + 2, 1),
            F.concat(
                F.substring(first17, 1, i),
                F.substring(first17, i + 2, 1),
                F.substring(first17, i + 1, 1),
                F.substring(first17, i + 3, 17),
            ),
        )

    candidates = (
        outflow.filter(F.col("id17") != "")
        .select(
            F.col("row").alias("outflow_row"),
            "name",
            "pinyin",
            F.explode(F.array(*(swap(i) for i in range(16)))).alias("candidate"),
        )
        .filter(F.col("candidate").isNotNull())
        .distinct()  # two swaps giving one number are one candidate, as in the Python set
    )
    right = inflow.filter(F.col("id17") != "").select(
        F.col("row").alias("inflow_row"),
        F.col("id17").alias("candidate"),
        F.col("name").alias("in_name"),
        F.col("pinyin").alias("in_pinyin"),
    )
    same_name = (F.col("name") != "") & (F.col("in_name") == F.col("name"))
    homophone = (F.col("pinyin") != "") & (F.col("in_pinyin") == F.col("pinyin"))
    return (
        candidates.join(right, "candidate")
        .select(
            "outflow_row",
            "inflow_row",
            F.when(same_name, F.lit(SCORE_TRANSPOSED_SAME_NAME))
            .when(homophone, F.lit(SCORE_TRANSPOSED_HOMOPHONE))
            .alias("score"),
            F.lit("transposition").alias("method"),
        )
        .filter(F.col("score").isNotNull())
    )


def _only_value(frame: DataFrame) -> Any:
    """The one value of a one-row aggregate (None for an empty frame)."""
    row = frame.first()
    return None if row is None else row[0]


def estimate_u(outflow: DataFrame, inflow: DataFrame) -> dict[tuple[str, str], float]:
    """engine.estimate_u with the value counts done by Spark."""
    from pyspark.sql import functions as F

    def column(name: str) -> float | None:
        left = outflow.filter(F.col(name) != "").groupBy(name).agg(F.count("*").alias("l"))
        right = inflow.filter(F.col(name) != "").groupBy(name).agg(F.count("*").alias("r"))
        n_left = _only_value(left.agg(F.sum("l"))) or 0
        n_right = _only_value(right.agg(F.sum("r"))) or 0
        if not n_left or not n_right:
            return None
        shared = _only_value(left.join(right, name).agg(F.sum(F.col("l") * F.col("r")))) or 0
        return shared / (n_left * n_right)

    values = {name: column(name) for name in U_FIELDS}
    return u_from_agreement(values.get)


def _splink_columns(frame: DataFrame) -> DataFrame:
    """The columns of engine._columns, blanks as nulls (splink's null levels)."""
    from pyspark.sql import functions as F

    def blank(column: Column) -> Column:
        return F.when(column == "", None).otherwise(column)

    return frame.select(
        "row",
        blank(F.col("name")).alias("name"),
        blank(F.col("pinyin")).alias("pinyin"),
        blank(F.col("sex")).alias("sex"),
        blank(F.col("birth_date")).alias("birth_date"),
        blank(F.substring("birth_date", 1, 4)).alias("birth_year"),
        blank(F.col("id_number")).alias("id_number"),
        blank(F.col("id17")).alias("id17"),
        blank(F.substring("id17", 1, 6)).alias("id_head"),
        blank(F.col("household_county")).alias("household_county"),
    )


def probabilistic_pairs(
    spark: SparkSession,
    outflow: DataFrame,
    inflow: DataFrame,
    *,
    threshold: float,
    u: dict[tuple[str, str], float] | None,
    register_size: int,
) -> DataFrame:
    from pyspark.sql import functions as F
    from splink import Linker, SparkAPI

    size = max(register_size, outflow.count(), inflow.count(), _PRIOR_REGISTER_SIZE)
    db_api = SparkAPI(spark_session=spark)
    # Views of their own name per run (a session runs many matches); splink knows them as
    # "outflow" and "inflow", the source_dataset values read below.
    token = uuid.uuid4().hex[:12]
    tables = []
    for name, frame in (("outflow", outflow), ("inflow", inflow)):
        _splink_columns(frame).createOrReplaceTempView(f"liudong_{name}_{token}")
        tables.append(db_api.register(f"liudong_{name}_{token}", table_name=name))
    settings = splink_settings(1 / size, u, dialect="spark")
    linker = Linker(tables, settings, log_level=logging.WARNING)
    predictions = _quietly(linker.inference.predict, threshold_match_probability=threshold)
    frame = predictions.as_spark_dataframe()
    from_outflow = F.col("source_dataset_l") == "outflow"
    return frame.select(
        F.when(from_outflow, F.col("row_l")).otherwise(F.col("row_r")).alias("outflow_row"),
        F.when(from_outflow, F.col("row_r")).otherwise(F.col("row_l")).alias("inflow_row"),
        F.round(F.col("match_probability").cast("double"), 4).alias("score"),
        F.lit("probabilistic").alias("method"),
    )


def assign(pairs: DataFrame, threshold: float) -> DataFrame:
    """One to one, as matching.match's greedy assign (see the module docstring): rounds of
    pairs that are the best of both their rows; returns the pairs taken."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    left = pairs.filter(F.col("score") >= threshold).localCheckpoint()
    taken = None
    for _round in range(MAX_ROUNDS):
        by_out = Window.partitionBy("outflow_row").orderBy(F.desc("score"), "inflow_row")
        by_in = Window.partitionBy("inflow_row").orderBy(F.desc("score"), "outflow_row")
        best = (
            left.withColumn("rank_out", F.row_number().over(by_out))
            .withColumn("rank_in", F.row_number().over(by_in))
            .filter((F.col("rank_out") == 1) & (F.col("rank_in") == 1))
            .select(*PAIR_COLUMNS)
            .localCheckpoint()
        )
        if best.isEmpty():
            break
        taken = best if taken is None else taken.unionByName(best)
        left = (
            left.join(best.select("outflow_row"), "outflow_row", "left_anti")
            .join(best.select("inflow_row"), "inflow_row", "left_anti")
            .select(*PAIR_COLUMNS)
            .localCheckpoint()
        )
        if left.isEmpty():
            break
    else:
        raise RuntimeError(f"one-to-one assignment did not settle in {MAX_ROUNDS} rounds")
    if taken is None:
        return pairs.limit(0).select(*PAIR_COLUMNS)
    return taken.localCheckpoint()


def match_frames(
    spark: SparkSession,
    outflow: DataFrame,
    inflow: DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    probabilistic: bool = True,
) -> DataFrame:
    """The matches of two registers (DataFrames of SCHEMA) as a DataFrame of PAIR_COLUMNS."""
    outflow, inflow = outflow.localCheckpoint(), inflow.localCheckpoint()
    n_out, n_in = outflow.count(), inflow.count()

    def rest(frame: DataFrame, matched: DataFrame, column: str) -> DataFrame:
        return frame.join(
            matched.select(matched[column].alias("row")), "row", "left_anti"
        ).localCheckpoint()

    found = assign(same_id_pairs(outflow, inflow), threshold)
    rest_out, rest_in = rest(outflow, found, "outflow_row"), rest(inflow, found, "inflow_row")
    second = assign(transposed_pairs(rest_out, rest_in), threshold)
    found = found.unionByName(second).localCheckpoint()
    if probabilistic:
        rest_out, rest_in = rest(outflow, found, "outflow_row"), rest(inflow, found, "inflow_row")
        if not rest_out.isEmpty() and not rest_in.isEmpty():
            u = estimate_u(outflow, inflow) if min(n_out, n_in) >= _ESTIMATE_U_FROM else None
            third = probabilistic_pairs(
                spark,
                rest_out,
                rest_in,
                threshold=threshold,
                u=u,
                register_size=max(n_out, n_in),
            )
            found = found.unionByName(assign(third, threshold)).localCheckpoint()
    return found


def summary(outflow: DataFrame, inflow: DataFrame, found: DataFrame) -> list[dict]:
    """matching.summarise as one group-by on (household county, residence county): the
    national report is collected (under a million county pairs), never the rows."""
    from pyspark.sql import functions as F

    from .county_report import COUNTS, entry

    def certificate(column: str) -> Column:
        return F.upper(F.regexp_replace(F.col(column), r"[\s\-－—_/]", ""))

    def flag(condition: Column) -> Column:
        return F.when(condition, 1).otherwise(0)

    left = outflow.select(
        F.col("row").alias("outflow_row"),
        F.col("household_county").alias("origin"),
        F.col("certificate_no").alias("out_certificate"),
        F.col("verified_on").alias("out_verified"),
    )
    right = inflow.select(
        F.col("row").alias("inflow_row"),
        F.col("residence_county").alias("destination"),
        F.col("certificate_no").alias("in_certificate"),
        F.col("verified_on").alias("in_verified"),
    )
    has_out, has_in = F.col("out_certificate") != "", F.col("in_certificate") != ""
    same = certificate("out_certificate") == certificate("in_certificate")
    out_v, in_v = F.col("out_verified") != "", F.col("in_verified") != ""
    zero = {key: F.lit(0) for key in COUNTS}
    matched = (
        found.select("outflow_row", "inflow_row")
        .join(left, "outflow_row")
        .join(right, "inflow_row")
        .select(
            "origin",
            "destination",
            *(
                column.alias(key)
                for key, column in {
                    **zero,
                    "matched": F.lit(1),
                    "certificate_same": flag(has_out & has_in & same),
                    "certificate_different": flag(has_out & has_in & ~same),
                    "certificate_only_outflow": flag(has_out & ~has_in),
                    "certificate_only_inflow": flag(~has_out & has_in),
                    "verified_both": flag(out_v & in_v),
                    "verified_only_outflow": flag(out_v & ~in_v),
                    "verified_only_inflow": flag(~out_v & in_v),
                }.items()
            ),
        )
    )

    def alone(frame: DataFrame, column: str, key: str) -> DataFrame:
        rest = frame.join(found.select(F.col(column).alias("row")), "row", "left_anti")
        return rest.select(
            F.col("household_county").alias("origin"),
            F.col("residence_county").alias("destination"),
            *(column.alias(name) for name, column in {**zero, key: F.lit(1)}.items()),
        )

    rows = (
        matched.unionByName(alone(outflow, "outflow_row", "only_outflow"))
        .unionByName(alone(inflow, "inflow_row", "only_inflow"))
        .groupBy("origin", "destination")
        .agg(*(F.sum(key).alias(key) for key in COUNTS))
        .collect()
    )
    return [
        entry(r["origin"], r["destination"], {key: r[key] for key in COUNTS})
        for r in sorted(rows, key=lambda r: (r["origin"], r["destination"]))
    ]


def match_spark(
    outflow: Sequence[Record],
    inflow: Sequence[Record],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    spark: Any = None,
) -> MatchResult:
    """matching.match on Spark, for registers read in Python (the command's
    ``--engine spark``, the tests); a national run calls match_frames on Parquet instead."""
    spark = spark or session()
    found = match_frames(
        spark, records_frame(spark, outflow), records_frame(spark, inflow), threshold=threshold
    )
    matches = sorted(
        (
            Match(int(r["outflow_row"]), int(r["inflow_row"]), float(r["score"]), r["method"])
            for r in found.collect()
        ),
        key=lambda m: m.outflow_row,
    )
    taken_out = {m.outflow_row for m in matches}
    taken_in = {m.inflow_row for m in matches}
    result = MatchResult(
        matches=matches,
        outflow_unmatched=sorted(r.row for r in outflow if r.row not in taken_out),
        inflow_unmatched=sorted(r.row for r in inflow if r.row not in taken_in),
    )
    result.summary = summarise(outflow, inflow, result)
    return result
