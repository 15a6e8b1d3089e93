#!/usr/bin/env python3
"""Reads a cachelens report's dataset with real engines and checks it.

Usage: dataset.py REPORT_DIR [--weekly] [ENGINE...]   (engines: pyarrow duckdb spark
athena-sql; all when none is named). With --weekly the dataset may hold fewer weeks
than the report (a dataset grown by weekly reports, beside a report of all of them):
only the weekly hit rates of its weeks are compared. For each engine: the files' schema is the one
`dataset/schema.json` declares (pyarrow merges every file's schema strictly),
and the weekly and per-project hit rates it computes (SQL for DuckDB and
Spark, Acero group-bys for pyarrow) equal the report's own tables
`tables/hit_rate_by_week.csv` and `tables/hit_rate_by_project.csv`. The
athena-sql check parses `dataset/athena.sql` (sqlglot, Athena dialect) and
finds exactly the declared columns and partition. Exit 0 when all hold;
prints what differs otherwise.
"""

import csv
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

REPORT = Path(sys.argv[1])
WEEKLY_ONLY = "--weekly" in sys.argv[2:]
ENGINES = [a for a in sys.argv[2:] if a != "--weekly"] or ["pyarrow", "duckdb", "spark", "athena-sql"]
SCHEMA = json.loads((REPORT / "dataset/schema.json").read_text())
STEPS = REPORT / "dataset/steps"
COLUMNS = SCHEMA["columns"]
PARTITION = SCHEMA["partition_columns"]
FILES = sorted(STEPS.glob("*/*.parquet"))


def fail(msg):
    print(f"dataset.py: {msg}", file=sys.stderr)
    sys.exit(1)


def iso_week(day):
    """`2026-W41` of a Monday (a date), as cachelens's tables write it."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02}"


def expected(name, key):
    """A hit-rate table of the report: key -> (cacheable, cached, builds, hit_rate)."""
    with open(REPORT / "tables" / f"{name}.csv", newline="") as f:
        return {
            r[key]: (int(r["cacheable"]), int(r["cached"]), int(r["builds"]), float(r["hit_rate"]))
            for r in csv.DictReader(f)
        }


WEEKLY = expected("hit_rate_by_week", "week")
PROJECTS = expected("hit_rate_by_project", "project")


def compare(engine, what, got, want):
    if set(got) != set(want):
        fail(f"{engine}: {what}: keys {sorted(got)} != report's {sorted(want)}")
    for k, (cacheable, cached, builds, rate) in want.items():
        g = got[k]
        if g[:3] != (cacheable, cached, builds) or not math.isclose(g[3], rate, rel_tol=1e-12):
            fail(f"{engine}: {what} {k}: {g} != report's {(cacheable, cached, builds, rate)}")


def check_rows(engine, weekly, projects):
    """Rows (key, cacheable, cached, builds, hit_rate) from an engine, weeks as dates."""
    got = {iso_week(w): tuple(r) for w, *r in weekly}
    if WEEKLY_ONLY:
        if not got or not set(got) <= set(WEEKLY):
            fail(f"{engine}: weeks {sorted(got)} not among the report's {sorted(WEEKLY)}")
        compare(engine, "weekly hit rate", got, {k: v for k, v in WEEKLY.items() if k in got})
        return
    compare(engine, "weekly hit rate", got, WEEKLY)
    compare(engine, "per-project hit rate", {p: tuple(r) for p, *r in projects}, PROJECTS)


def check_pyarrow():
    import pyarrow as pa
    import pyarrow.compute  # noqa: F401 (pa.compute)
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    types = {
        "string": (pa.string(), pa.large_string(), pa.string_view()),
        "int": (pa.int32(),),
        "bigint": (pa.int64(),),
        "double": (pa.float64(),),
        "boolean": (pa.bool_(),),
        "date": (pa.date32(),),
        "timestamp": (pa.timestamp("us", tz="UTC"),),
    }
    schemas = [pq.read_schema(f) for f in FILES]
    # strict merge: no promotion, every file has the same columns of the same types
    merged = pa.unify_schemas(schemas, promote_options="default")
    for f, s in zip(FILES, schemas):
        if not s.equals(merged):
            fail(f"pyarrow: {f} has schema {s}, not {merged}")
    if merged.names != [c["name"] for c in COLUMNS]:
        fail(f"pyarrow: columns {merged.names} != schema.json's")
    for c in COLUMNS:
        if merged.field(c["name"]).type not in types[c["type"]]:
            fail(f"pyarrow: {c['name']} is {merged.field(c['name']).type}, schema.json says {c['type']}")
    # what pandas users do: the folder, partitions discovered, no type clash
    pq.read_table(STEPS)
    part = ds.partitioning(
        pa.schema([(p["name"], types[p["type"]][0]) for p in PARTITION]), flavor="hive"
    )
    table = ds.dataset(STEPS, format="parquet", partitioning=part).to_table()
    for c in COLUMNS:
        if not c["nullable"] and table.column(c["name"]).null_count:
            fail(f"pyarrow: {c['name']} has nulls, schema.json says it has none")
    cacheable = table.filter(pa.compute.field("cacheable"))
    cacheable = cacheable.append_column(
        "cached_n", pa.compute.cast(cacheable.column("cached"), pa.int64())
    ).append_column(
        "build_key",
        pa.compute.binary_join_element_wise(
            pa.compute.cast(cacheable.column("build_id"), pa.string()),
            pa.compute.cast(cacheable.column("build_index"), pa.string()),
            "#",
        ),
    )

    def rates(by):
        g = cacheable.group_by(by).aggregate(
            [("cached_n", "count"), ("cached_n", "sum"), ("build_key", "count_distinct")]
        )
        return [
            (k, n, s, b, s / n)
            for k, n, s, b in zip(
                g.column(by).to_pylist(),
                g.column("cached_n_count").to_pylist(),
                g.column("cached_n_sum").to_pylist(),
                g.column("build_key_count_distinct").to_pylist(),
            )
        ]

    check_rows("pyarrow", rates("week"), rates("project"))


def sql(dialect_cast):
    """The weekly and per-project hit rate queries over a table `steps`."""
    rate = f"""count(*) AS cacheable,
               sum(CASE WHEN cached THEN 1 ELSE 0 END) AS cached_n,
               count(DISTINCT {dialect_cast}) AS builds,
               sum(CASE WHEN cached THEN 1 ELSE 0 END) / CAST(count(*) AS DOUBLE) AS hit_rate"""
    return [
        f"SELECT week, {rate} FROM steps WHERE cacheable GROUP BY week ORDER BY week",
        f"SELECT project, {rate} FROM steps WHERE cacheable GROUP BY project ORDER BY project",
    ]


def check_duckdb():
    import duckdb

    con = duckdb.connect()
    files = str(STEPS / "*/*.parquet").replace("'", "''")
    con.execute(
        f"CREATE VIEW steps AS SELECT * FROM read_parquet('{files}', hive_partitioning = true, union_by_name = false)"
    )
    got = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE steps)").fetchall())
    types = {
        "string": "VARCHAR",
        "int": "INTEGER",
        "bigint": "BIGINT",
        "double": "DOUBLE",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
    }
    want = {c["name"]: types[c["type"]] for c in COLUMNS + PARTITION}
    if got != want:
        fail(f"duckdb: schema {got} != schema.json's {want}")
    for c in COLUMNS:
        if not c["nullable"]:
            n = con.execute(f'SELECT count(*) FROM steps WHERE "{c["name"]}" IS NULL').fetchone()[0]
            if n:
                fail(f"duckdb: {c['name']} has {n} nulls, schema.json says none")
    weekly, projects = (
        con.execute(q).fetchall() for q in sql("build_id || '#' || CAST(build_index AS VARCHAR)")
    )
    check_rows("duckdb", weekly, projects)


def check_spark():
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("cachelens-dataset")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        df = spark.read.option("mergeSchema", "true").parquet(str(STEPS))
        types = {
            "string": "string",
            "int": "int",
            "bigint": "bigint",
            "double": "double",
            "boolean": "boolean",
            "date": "date",
            "timestamp": "timestamp",
        }
        got = {f.name: f.dataType.simpleString() for f in df.schema.fields}
        want = {c["name"]: types[c["type"]] for c in COLUMNS + PARTITION}
        if got != want:
            fail(f"spark: schema {got} != schema.json's {want}")
        df.createOrReplaceTempView("steps")
        weekly, projects = (
            [tuple(r) for r in spark.sql(q).collect()]
            for q in sql("build_id, build_index")
        )
        check_rows("spark", weekly, projects)
    finally:
        spark.stop()


def check_athena_sql():
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one((REPORT / "dataset/athena.sql").read_text(), read="athena")
    if not isinstance(tree, exp.Create) or tree.args.get("kind") != "TABLE":
        fail(f"athena.sql: not a CREATE TABLE: {tree.sql()[:80]}")
    schema = tree.this
    if schema.this.name != SCHEMA["table"]:
        fail(f"athena.sql: table {schema.this.name} != {SCHEMA['table']}")
    defs = [(c.name, c.args["kind"].sql(dialect="hive").lower()) for c in schema.expressions]
    props = tree.args["properties"].expressions
    parts = [
        (c.name, c.args["kind"].sql(dialect="hive").lower())
        for p in props
        if isinstance(p, exp.PartitionedByProperty)
        for c in p.this.expressions
    ]
    if defs != [(c["name"], c["type"]) for c in COLUMNS]:
        fail(f"athena.sql: columns {defs} != schema.json's")
    if parts != [(c["name"], c["type"]) for c in PARTITION]:
        fail(f"athena.sql: partition {parts} != schema.json's")
    text = tree.sql(dialect="athena")
    for p in ["projection.enabled", "projection.week.type", "storage.location.template"]:
        if p not in text:
            fail(f"athena.sql: no {p}")


if not FILES:
    fail(f"no Parquet files under {STEPS}")
for engine in ENGINES:
    start = time.monotonic()
    {
        "pyarrow": check_pyarrow,
        "duckdb": check_duckdb,
        "spark": check_spark,
        "athena-sql": check_athena_sql,
    }[engine]()
    print(f"{engine}: {len(FILES)} files, the report's hit rates ({time.monotonic() - start:.1f} s)")
