"""`liudong match` at scale, next to splink's own default DuckDB pipeline on the same files.

Generates N + N/20 synthetic persons (`liudong generate`, no import faults) and writes two
registers in the person template: outflow holds persons 1..N, inflow persons N/20+1..N+N/20
in shuffled order, so each side has N/20 persons the other lacks. The inflow copy carries the
faults clerks make, with known truth: ID digits transposed, the legacy 15-digit form, another
check character, a mistyped digit, the number left out, the name in traditional characters, a
homophone written for the name, the birth-date column left blank.
ours: `matching.match_files` (read both files, ID stages, splink on the rest, one to one);
baseline: a plain splink link_only model on the same csv files as DuckDB reads them (name,
birth date, sex, ID number with splink's library comparisons, trained as splink's tutorial
does: deterministic rules for the prior, random sampling for u, EM for m), pairs at 0.9 or
more. Each runs in its own process: time, peak resident memory, precision and recall.
Results: bench/results/match-N.json. `--spark` also runs the Spark path
(liudong.exchange.matching.spark) in local[2] mode on the same files and checks it finds the
same pairs (time only: its memory is the JVM's, outside this process).
Run: .venv/bin/python bench/match.py [--n 1000000] [--spark]
"""

from __future__ import annotations

import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, argument_parser

TODAY = datetime.date(2026, 10, 31)
THRESHOLD = 0.9
# Share of the inflow rows of shared persons with each fault (a row carries at most one).
FAULTS = {
    "transposed_id": 0.02,
    "legacy_15": 0.01,
    "check_character": 0.01,
    "traditional_name": 0.01,
    "typo_id_traditional_name": 0.005,
    "typo_id": 0.01,
    "homophone_typo_id": 0.005,
    "blank_id": 0.005,
    "homophone_blank_id": 0.0025,
    "blank_birth_date": 0.02,
}


def homophones() -> dict[str, list[str]]:
    """For each given-name character of the generator, others read the same (no tone)."""
    from pypinyin import Style, lazy_pinyin

    from liudong.people import generate

    pool = set(generate._MALE_GIVEN + generate._FEMALE_GIVEN)
    common = [chr(code) for code in range(0x4E00, 0x9FA6)]
    by_sound: dict[str, list[str]] = {}
    for character in common:
        by_sound.setdefault(lazy_pinyin(character, style=Style.NORMAL)[0], []).append(character)
    found = {}
    for character in pool:
        sound = lazy_pinyin(character, style=Style.NORMAL)[0]
        # Characters of the same sound that are also name characters, else any of the sound
        # among the first of the block (the common ones sit early only by chance: good enough).
        others = [c for c in by_sound.get(sound, []) if c != character and c in pool]
        others = others or [c for c in by_sound.get(sound, []) if c != character][:5]
        if others:
            found[character] = others
    return found


def spoil(row: dict, fault: str, rng: random.Random, sounds, to_traditional) -> dict:
    from liudong.people import idnumbers

    row = dict(row)
    number = str(row["id_number"])

    def typo_id() -> str:
        position = 14 + int(rng.random() * 3)  # the sequence digits
        digit = str((int(number[position]) + 1 + int(rng.random() * 9)) % 10)
        return number[:position] + digit + number[position + 1 :]

    def homophone() -> str:
        name = str(row["name"])
        for index in range(len(name) - 1, 0, -1):
            if name[index] in sounds:
                choices = sounds[name[index]]
                return name[:index] + choices[int(rng.random() * len(choices))] + name[index + 1 :]
        return name

    if fault == "transposed_id":
        spots = [i for i in range(6, 16) if number[i] != number[i + 1]]
        i = spots[int(rng.random() * len(spots))]
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 : 17]
        try:
            idnumbers.parse(swapped + number[17], today=TODAY)
        except idnumbers.IdNumberError:
            i = max(s for s in spots if s >= 14) if any(s >= 14 for s in spots) else 14
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 : 17]
        row["id_number"] = swapped + number[17]
    elif fault == "legacy_15":
        if number[6:8] == "19":
            row["id_number"] = number[:6] + number[8:17]
        else:
            row["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    elif fault == "check_character":
        row["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    elif fault == "traditional_name":
        row["name"] = to_traditional(str(row["name"]))
    elif fault == "typo_id_traditional_name":
        row["name"] = to_traditional(str(row["name"]))
        row["id_number"] = typo_id()
    elif fault == "typo_id":
        row["id_number"] = typo_id()
    elif fault == "homophone_typo_id":
        row["name"], row["id_number"] = homophone(), typo_id()
    elif fault == "blank_id":
        row["id_number"] = ""
    elif fault == "homophone_blank_id":
        row["name"], row["id_number"] = homophone(), ""
    elif fault == "blank_birth_date":
        row["birth_date"] = ""
    return row


def make_files(folder: Path, n: int, seed: int = 11) -> tuple[Path, Path, set, dict]:
    import opencc

    from liudong.people.generate import generate_rows, write_file

    extra = max(n // 20, 1)
    persons = list(generate_rows(n + extra, seed=seed, fault_share=0, today=TODAY))
    rng = random.Random(seed)
    sounds = homophones()
    to_traditional = opencc.OpenCC("s2t").convert
    outflow = persons[:n]
    inflow_people = list(range(extra, n + extra))
    rng.shuffle(inflow_people)
    inflow, counts = [], dict.fromkeys(FAULTS, 0)
    truth = set()
    for position, index in enumerate(inflow_people):
        row = persons[index]
        if index < n:  # on both sides
            truth.add((index + 2, position + 2))
            u, cumulative = rng.random(), 0.0
            for fault, share in FAULTS.items():
                cumulative += share
                if u < cumulative:
                    row = spoil(row, fault, rng, sounds, to_traditional)
                    counts[fault] += 1
                    break
        inflow.append(row)
    outflow_path, inflow_path = folder / "outflow.csv", folder / "inflow.csv"
    for path, rows in ((outflow_path, outflow), (inflow_path, inflow)):
        write_file(path, rows, header="english")
        # liudong.tabular probes the first MiB for UTF-8 and counts the cut-character
        # allowance after the BOM is gone, so a file whose MiB boundary cuts a character at
        # the wrong place is read as GB18030 and refused; without the BOM it reads right.
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            path.write_bytes(data[3:])
    return outflow_path, inflow_path, truth, counts


# -- the two pipelines, each in a child process ---------------------------------------------


def child_ours(outflow: str, inflow: str, out: str) -> dict:
    from liudong.exchange.matching import engine as matching

    start = time.perf_counter()
    read_start = time.perf_counter()
    left = matching.read_register(outflow, today=TODAY)
    right = matching.read_register(inflow, today=TODAY)
    read_s = time.perf_counter() - read_start
    result = matching.match(left, right, threshold=THRESHOLD, today=TODAY)
    seconds = time.perf_counter() - start
    Path(out).write_text(json.dumps([[m.outflow_row, m.inflow_row] for m in result.matches]))
    methods: dict[str, int] = {}
    for pair in result.matches:
        methods[pair.method] = methods.get(pair.method, 0) + 1
    return {"seconds": seconds, "read_s": read_s, "methods": methods}


def child_spark(outflow: str, inflow: str, out: str) -> dict:
    """The same matching on PySpark in local mode (`--spark`): what the national path costs
    on this machine, not a contender (a JVM on 2 cores)."""
    from liudong.exchange.matching import engine as matching
    from liudong.exchange.matching import spark

    start = time.perf_counter()
    left = matching.read_register(outflow, today=TODAY)
    right = matching.read_register(inflow, today=TODAY)
    read_s = time.perf_counter() - start
    session = spark.session("local[2]", partitions=8)
    session.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - start - read_s
    result = spark.match_spark(left, right, threshold=THRESHOLD, spark=session)
    seconds = time.perf_counter() - start
    Path(out).write_text(json.dumps([[m.outflow_row, m.inflow_row] for m in result.matches]))
    return {"seconds": seconds, "read_s": read_s, "session_s": session_s}


def child_baseline(outflow: str, inflow: str, out: str) -> dict:
    import logging

    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    connection = duckdb.connect()
    db_api = DuckDBAPI(connection)
    tables = []
    for name, path in (("outflow", outflow), ("inflow", inflow)):
        # The row as the spreadsheet shows it: DuckDB keeps the file's order.
        connection.execute(
            f"CREATE TABLE {name} AS SELECT row_number() OVER () + 1 AS unique_id, name, sex, "
            "id_number, birth_date FROM read_csv(?, all_varchar = true, header = true)",
            [path],
        )
        tables.append(db_api.register(name, table_name=f"{name}_input"))
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("birth_date", "sex"),
        ],
    )
    linker = Linker(tables, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    table = predictions.as_pyarrow_table()
    pairs = []
    for source_l, id_l, id_r in zip(
        table.column("source_dataset_l").to_pylist(),
        table.column("unique_id_l").to_pylist(),
        table.column("unique_id_r").to_pylist(),
        strict=True,
    ):
        pairs.append([id_l, id_r] if source_l.startswith("outflow") else [id_r, id_l])
    seconds = time.perf_counter() - start
    Path(out).write_text(json.dumps(pairs))
    return {"seconds": seconds}


def run_child(kind: str, outflow: Path, inflow: Path, folder: Path) -> tuple[dict, set]:
    out = folder / f"{kind}-pairs.json"
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(outflow), str(inflow), str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT / "bench",
    )
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures, {tuple(pair) for pair in json.loads(out.read_text())}


def quality(found: set, truth: set) -> dict:
    right = len(found & truth)
    return {
        "pairs": len(found),
        "correct": right,
        "precision": round(right / len(found), 4) if found else None,
        "recall": round(right / len(truth), 4) if truth else None,
    }


def main():
    parser = argument_parser(__doc__)
    parser.add_argument(
        "--spark", action="store_true", help="also time the Spark path in local[2] mode"
    )
    args = parser.parse_args()
    n = args.n or 100_000
    sys.path.insert(0, str(ROOT))
    folder = Path(tempfile.mkdtemp(prefix="liudong-bench-match-"))
    start = time.perf_counter()
    outflow, inflow, truth, counts = make_files(folder, n)
    generate_s = time.perf_counter() - start
    ours, ours_pairs = run_child("ours", outflow, inflow, folder)
    baseline, baseline_pairs = run_child("baseline", outflow, inflow, folder)
    result = {
        "benchmark": "match",
        "rows_each_side": n,
        "true_pairs": len(truth),
        "faults": counts,
        "generate_s": round(generate_s, 1),
        "ours": {
            "seconds": round(ours["seconds"], 1),
            "read_s": round(ours["read_s"], 1),
            "peak_mib": round(ours["peak_mib"]),
            "by_stage": ours["methods"],
            **quality(ours_pairs, truth),
        },
        "baseline_splink_default": {
            "seconds": round(baseline["seconds"], 1),
            "peak_mib": round(baseline["peak_mib"]),
            **quality(baseline_pairs, truth),
        },
        "time_ratio_ours_to_baseline": round(ours["seconds"] / baseline["seconds"], 3),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }
    if args.spark:
        figures, spark_pairs = run_child("spark", outflow, inflow, folder)
        result["spark_local_2"] = {
            "seconds": round(figures["seconds"], 1),
            "read_s": round(figures["read_s"], 1),
            "session_s": round(figures["session_s"], 1),
            "same_pairs_as_ours": spark_pairs == ours_pairs,
            **quality(spark_pairs, truth),
        }
    import platform

    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    (RESULTS / f"match-{n}.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        kind, outflow_path, inflow_path, pairs_path = sys.argv[2:]
        child = {"ours": child_ours, "spark": child_spark}.get(kind, child_baseline)
        figures = child(outflow_path, inflow_path, pairs_path)
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
    else:
        main()
