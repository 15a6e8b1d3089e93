//! The steps as a dataset query engines read (Athena, Trino, Spark, DuckDB,
//! pyarrow): Hive-partitioned Parquet `dataset/steps/week=YYYY-MM-DD/00000000.parquet`
//! written a week at a time by polars' partitioned sink, one type per column, the partition
//! column only in the path; beside it `schema.json` (the columns, their SQL
//! types and meaning) and `athena.sql` (the table with partition projection).
//!
//! Every row is keyed by `build_id`, `build_index` and `vertex`: a dataset
//! made of many weekly reports never mixes two builds up.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::analyze::aggregate::STEP_SAVINGS;
use crate::analyze::billing::RUN;
use crate::analyze::rows::{BUILD, STEP, day_week};

/// The dataset's folder under the report: `dataset/steps`.
pub const STEPS: &str = "dataset/steps";
/// The table name in `athena.sql`.
pub const TABLE: &str = "cachelens_steps";
/// Where `athena.sql` points when the report is not written to S3.
pub const PLACEHOLDER_LOCATION: &str = "s3://YOUR-BUCKET/cachelens/";

/// A column of the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Its name.
    pub name: &'static str,
    /// Its type in Athena's (Hive) DDL: `string`, `int`, `bigint`, `double`,
    /// `boolean`, `date`, `timestamp`.
    #[serde(rename = "type")]
    pub sql: &'static str,
    /// Whether it can be null.
    pub nullable: bool,
    /// What it holds.
    pub description: &'static str,
}

const fn field(
    name: &'static str,
    sql: &'static str,
    nullable: bool,
    description: &'static str,
) -> Field {
    Field {
        name,
        sql,
        nullable,
        description,
    }
}

/// The columns inside the files, in order.
pub const COLUMNS: &[Field] = &[
    field(
        "build_id",
        "string",
        false,
        "The CodeBuild build id (`project:uuid`), else `<source>#<build_index>`",
    ),
    field("source", "string", false, "Where the log was read"),
    field(
        "build_index",
        "int",
        false,
        "The index of the BuildKit build in its log (a CI run can build several images)",
    ),
    field(
        "vertex",
        "int",
        false,
        "The vertex number BuildKit gave the step",
    ),
    field(
        "project",
        "string",
        false,
        "The CodeBuild project (`-` when unknown)",
    ),
    field("branch", "string", true, "The branch built, when known"),
    field(
        "started_at",
        "timestamp",
        true,
        "When the run of the log started (UTC, microseconds)",
    ),
    field("day", "date", true, "Its day (UTC)"),
    field(
        "step_key",
        "string",
        false,
        "The identity of the step across builds: instruction and arguments, without stage prefix",
    ),
    field(
        "name",
        "string",
        true,
        "The vertex name as BuildKit printed it",
    ),
    field(
        "status",
        "string",
        false,
        "`cached`, `done`, `error`, `canceled` or `incomplete`",
    ),
    field(
        "seconds",
        "double",
        true,
        "Its `DONE` time, when BuildKit printed one",
    ),
    field(
        "cacheable",
        "boolean",
        false,
        "Whether the cache could have served it (a Dockerfile instruction other than FROM)",
    ),
    field(
        "cached",
        "boolean",
        false,
        "Cacheable and served by the cache",
    ),
    field(
        "median_seconds",
        "double",
        true,
        "The median executed time of its step key in the project",
    ),
    field(
        "samples",
        "bigint",
        true,
        "How many executed runs that median is of",
    ),
    field(
        "saved_seconds",
        "double",
        true,
        "When cached, the time it saved (its median)",
    ),
    field(
        "saved_unknown",
        "boolean",
        false,
        "Cached, but its key never executed: time saved unknown",
    ),
];

/// The partition column, in the path only.
pub const PARTITION: Field = field(
    "week",
    "date",
    true,
    "The Monday of the ISO week the run started in (UTC): the folder `week=YYYY-MM-DD` (`__HIVE_DEFAULT_PARTITION__` when unknown)",
);

/// The first Monday Athena's partition projection enumerates (unless the data starts earlier).
const PROJECTION_START: NaiveDate = NaiveDate::from_ymd_opt(2020, 1, 6).expect("a date");

/// `schema.json`: the dataset's columns and partition.
#[derive(Debug, Serialize)]
pub struct Schema {
    /// The table's name in `athena.sql`.
    pub table: &'static str,
    /// The files' format.
    pub format: &'static str,
    /// The columns inside the files.
    pub columns: &'static [Field],
    /// The Hive partition columns (in the path, not in the files).
    pub partition_columns: [Field; 1],
    /// Which columns identify a row.
    pub key: [&'static str; 3],
}

/// The dataset's schema.
pub const SCHEMA: Schema = Schema {
    table: TABLE,
    format: "parquet",
    columns: COLUMNS,
    partition_columns: [PARTITION],
    key: ["build_id", "build_index", "vertex"],
};

/// The steps as the dataset's rows, [`COLUMNS`] then [`PARTITION`]: the
/// builds' ids and the runs' times made once, for each week of steps joined.
pub struct Dataset {
    builds: DataFrame,
    runs: DataFrame,
}

impl Dataset {
    /// The dataset of the `builds` and `runs` tables' steps.
    pub fn new(builds: &DataFrame, runs: &DataFrame) -> PolarsResult<Self> {
        let mut builds = builds.select([BUILD.build, BUILD.source, BUILD.index, BUILD.build_id])?;
        // made once a build, not once a step (100,000 builds have 900,000 steps)
        let ids = build_ids(&builds)?;
        builds.with_column(ids.with_name(BUILD.build_id.into()).into_column())?;
        let runs = runs.select([RUN.run, RUN.started_ms])?;
        Ok(Self { builds, runs })
    }

    /// Writes the rows of `steps` under `dir` as `week=YYYY-MM-DD/00000000.parquet`,
    /// one week's rows in memory at a time (all weeks at once held the steps
    /// twice over: 900,000 rows of text at 100,000 runs); returns the Mondays written.
    pub fn write(&self, steps: &DataFrame, dir: &Path) -> PolarsResult<Vec<NaiveDate>> {
        let week = steps.column(STEP.week)?.str()?;
        let mut keys: Vec<Option<&str>> = week.iter().collect();
        keys.sort_unstable();
        keys.dedup();
        let mut mondays: Vec<NaiveDate> = Vec::new();
        for key in keys {
            let mask = match key {
                Some(key) => week.equal(key),
                None => week.is_null(),
            };
            let rows = self.rows(&steps.filter(&mask)?)?;
            let written = weeks(&rows)?;
            // a step's week and its run's are the same time's: no file is written twice
            if let Some(twice) = written.iter().find(|w| mondays.contains(w)) {
                polars_bail!(ComputeError: "the week of {twice} came in two parts of the steps");
            }
            mondays.extend(written);
            write_parquet(rows, dir)?;
        }
        if steps.height() == 0 {
            write_parquet(self.rows(steps)?, dir)?;
        }
        // unique (checked above); in order, whatever the weeks' text
        mondays.sort_unstable();
        Ok(mondays)
    }

    /// The rows of `steps` (the `steps` table, or some of its rows).
    pub fn rows(&self, steps: &DataFrame) -> PolarsResult<DataFrame> {
        let joined = steps
            .clone()
            .lazy()
            .join(
                self.builds.clone().lazy(),
                [col(STEP.build)],
                [col(BUILD.build)],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                self.runs.clone().lazy(),
                [col(STEP.run)],
                [col(RUN.run)],
                JoinArgs::new(JoinType::Left),
            )
            .collect()?;

        let started: Vec<Option<i64>> = joined.column(RUN.started_ms)?.i64()?.iter().collect();
        let days: Vec<_> = started.iter().map(|ms| day_week(*ms)).collect();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
        let since_epoch = |d: NaiveDate| (d - epoch).num_days() as i32;
        let day: Int32Chunked = days.iter().map(|(d, _)| d.map(since_epoch)).collect();
        let week: Int32Chunked = days
            .iter()
            .map(|(_, w)| w.and_then(|w| w.monday()).map(since_epoch))
            .collect();
        let mut df = joined;
        df.with_column(day.with_name("day".into()).into_date().into_column())?;
        df.with_column(
            week.with_name(PARTITION.name.into())
                .into_date()
                .into_column(),
        )?;
        df.lazy()
            .select([
                col("build_id"),
                col(BUILD.source),
                col(BUILD.index).cast(DataType::Int32).alias("build_index"),
                col(STEP.vertex).cast(DataType::Int32),
                col(STEP.project),
                col(STEP.branch),
                col(RUN.started_ms)
                    .cast(DataType::Datetime(
                        TimeUnit::Milliseconds,
                        Some(TimeZone::UTC),
                    ))
                    .cast(DataType::Datetime(
                        TimeUnit::Microseconds,
                        Some(TimeZone::UTC),
                    ))
                    .alias("started_at"),
                col("day"),
                col(STEP.step_key),
                col(STEP.name),
                col(STEP.status),
                col(STEP.seconds),
                col(STEP.cacheable),
                col(STEP.cached),
                col(STEP_SAVINGS.median_seconds),
                col(STEP_SAVINGS.samples).cast(DataType::Int64),
                col(STEP_SAVINGS.saved_seconds),
                col(STEP_SAVINGS.saved_unknown),
                col(PARTITION.name),
            ])
            .collect()
    }
}

/// Each build's `build_id`: CodeBuild's, else `<source>#<index>`.
fn build_ids(builds: &DataFrame) -> PolarsResult<StringChunked> {
    let ids = builds.column(BUILD.build_id)?.str()?;
    let sources = builds.column(BUILD.source)?.str()?;
    let indexes = builds.column(BUILD.index)?.u32()?;
    Ok(ids
        .iter()
        .zip(sources.iter().zip(indexes.iter()))
        .map(|(id, (source, index))| {
            id.map(str::to_owned)
                .or_else(|| Some(format!("{}#{}", source?, index?)))
        })
        .collect())
}

/// Writes `rows` (see [`frame`]) under `dir` as `week=YYYY-MM-DD/00000000.parquet`.
fn write_parquet(rows: DataFrame, dir: &Path) -> PolarsResult<()> {
    let base = dir.to_str().ok_or_else(
        || polars_err!(ComputeError: "{} is not UTF-8: polars cannot write there", dir.display()),
    )?;
    rows.lazy()
        .sink(
            SinkDestination::Partitioned {
                base_path: PlRefPath::new(base),
                file_path_provider: None,
                partition_strategy: PartitionStrategy::Keyed {
                    keys: vec![col(PARTITION.name)],
                    include_keys: false,
                    keys_pre_grouped: false,
                },
                max_rows_per_file: IdxSize::MAX,
                approximate_bytes_per_file: u64::MAX,
            },
            parquet(),
            UnifiedSinkArgs {
                mkdir: true,
                ..UnifiedSinkArgs::default()
            },
        )?
        .collect()?;
    Ok(())
}

/// One partition's file from an earlier report (`previous`) and this
/// report's (`new`) as one: the earlier rows of builds this report also holds
/// are dropped (a re-run replaces them), the others kept; sorted by
/// `started_at`, `build_id`, `build_index`, `vertex`.
pub fn merge(previous: &[u8], new: &Path) -> PolarsResult<Vec<u8>> {
    let old = ParquetReader::new(std::io::Cursor::new(previous)).finish()?;
    let new = ParquetReader::new(std::fs::File::open(new)?).finish()?;
    let ids = new.column("build_id")?.as_materialized_series().clone();
    let merged = concat(
        [
            old.lazy()
                .filter(col("build_id").is_in(lit(ids).implode(false), false).not()),
            new.lazy(),
        ],
        UnionArgs::default(),
    )?
    .sort(
        ["started_at", "build_id", "build_index", "vertex"],
        SortMultipleOptions::default().with_nulls_last(true),
    );
    // written by the same sink as the other partitions: the same Arrow types in every file
    let file = tempfile::Builder::new().suffix(".parquet").tempfile()?;
    let path = file.path().to_str().ok_or_else(|| {
        polars_err!(ComputeError: "{} is not UTF-8: polars cannot write there", file.path().display())
    })?;
    merged
        .sink(
            SinkDestination::File {
                target: SinkTarget::Path(PlRefPath::new(path)),
            },
            parquet(),
            UnifiedSinkArgs::default(),
        )?
        .collect()?;
    Ok(std::fs::read(file.path())?)
}

fn parquet() -> FileWriteFormat {
    FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default()))
}

/// The Mondays of the weeks in `rows`, in order.
fn weeks(rows: &DataFrame) -> PolarsResult<Vec<NaiveDate>> {
    let mut weeks: Vec<NaiveDate> = rows
        .column(PARTITION.name)?
        .date()?
        .as_date_iter()
        .flatten()
        .collect();
    weeks.sort_unstable();
    weeks.dedup();
    Ok(weeks)
}

/// `athena.sql`: `CREATE EXTERNAL TABLE` over the dataset at `location`
/// (the report's S3 prefix, ending in `/`), with weekly partition projection
/// from 2020-01-06 (or the first of `weeks`, when earlier) to now.
pub fn athena_sql(location: &str, weeks: &[NaiveDate]) -> String {
    let start = weeks
        .first()
        .map_or(PROJECTION_START, |w| (*w).min(PROJECTION_START));
    let steps = format!("{location}{STEPS}/");
    let mut sql = String::new();
    if location == PLACEHOLDER_LOCATION {
        sql.push_str(
            "-- Replace s3://YOUR-BUCKET/cachelens/ with where the report lives\n\
             -- (cachelens report --out s3://… writes it filled in).\n",
        );
    }
    let _ = writeln!(sql, "CREATE EXTERNAL TABLE IF NOT EXISTS {TABLE} (");
    for (i, f) in COLUMNS.iter().enumerate() {
        let comma = if i + 1 < COLUMNS.len() { "," } else { "" };
        let _ = writeln!(
            sql,
            "  `{}` {} COMMENT '{}'{comma}",
            f.name,
            f.sql,
            hive_string(f.description)
        );
    }
    let _ = write!(
        sql,
        ")\n\
         PARTITIONED BY (`{week}` {week_type} COMMENT '{week_comment}')\n\
         STORED AS PARQUET\n\
         LOCATION '{steps}'\n\
         TBLPROPERTIES (\n  \
           'projection.enabled' = 'true',\n  \
           'projection.{week}.type' = 'date',\n  \
           'projection.{week}.format' = 'yyyy-MM-dd',\n  \
           'projection.{week}.range' = '{start},NOW',\n  \
           'projection.{week}.interval' = '7',\n  \
           'projection.{week}.interval.unit' = 'DAYS',\n  \
           'storage.location.template' = '{steps}{week}=${{{week}}}/'\n\
         );\n",
        week = PARTITION.name,
        week_type = PARTITION.sql,
        week_comment = hive_string(PARTITION.description),
    );
    sql
}

/// Text for a Hive DDL string literal (backslash escapes).
fn hive_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The README's table of the dataset's columns (Markdown).
pub fn markdown_table() -> String {
    let mut md = String::from("| column | type | null | meaning |\n|---|---|---|---|\n");
    for (f, part) in COLUMNS
        .iter()
        .map(|f| (f, ""))
        .chain([(&PARTITION, " (partition)")])
    {
        let _ = writeln!(
            md,
            "| `{}` | {}{part} | {} | {} |",
            f.name,
            f.sql,
            if f.nullable { "yes" } else { "no" },
            f.description.replace('|', "\\|")
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::frames::{Options, analyze};
    use crate::cost::Pricing;
    use crate::parse::parse_log;

    /// Two builds in one log without a CodeBuild id or a time.
    fn two_builds() -> DataFrame {
        let real = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs/real/");
        let mut text = std::fs::read(format!("{real}multistage-cold.log")).unwrap();
        text.extend(std::fs::read(format!("{real}multistage-warm.log")).unwrap());
        let pricing = Pricing::embedded();
        let options = Options::new(&pricing);
        let a = analyze(&[parse_log(&text, "ci/job.log")], &[], &options).unwrap();
        Dataset::new(&a.builds, &a.runs)
            .unwrap()
            .rows(&a.steps)
            .unwrap()
    }

    #[test]
    fn rows_have_the_declared_columns_and_types() {
        let rows = two_builds();
        let sql = |d: &DataType| match d {
            DataType::String => "string",
            DataType::Int32 => "int",
            DataType::Int64 => "bigint",
            DataType::Float64 => "double",
            DataType::Boolean => "boolean",
            DataType::Date => "date",
            DataType::Datetime(TimeUnit::Microseconds, Some(tz)) if *tz == TimeZone::UTC => {
                "timestamp"
            }
            other => panic!("{other} has no declared SQL type"),
        };
        let got: Vec<(&str, &str)> = rows
            .columns()
            .iter()
            .map(|c| (c.name().as_str(), sql(c.dtype())))
            .collect();
        let want: Vec<(&str, &str)> = COLUMNS
            .iter()
            .chain([&PARTITION])
            .map(|f| (f.name, f.sql))
            .collect();
        assert_eq!(got, want);
        for f in COLUMNS.iter().filter(|f| !f.nullable) {
            assert_eq!(rows.column(f.name).unwrap().null_count(), 0, "{}", f.name);
        }
    }

    #[test]
    fn without_a_codebuild_id_a_build_is_its_source_and_index() {
        let rows = two_builds();
        let ids = rows.column("build_id").unwrap().str().unwrap();
        let mut ids: Vec<&str> = ids.iter().flatten().collect();
        ids.dedup();
        assert_eq!(ids, ["ci/job.log#0", "ci/job.log#1"]);
        // no time: the week is unknown, Hive's default partition
        assert_eq!(
            rows.column(PARTITION.name).unwrap().null_count(),
            rows.height()
        );
        let dir = tempfile::tempdir().unwrap();
        write_parquet(rows, dir.path()).unwrap();
        assert!(
            dir.path()
                .join("week=__HIVE_DEFAULT_PARTITION__/00000000.parquet")
                .is_file()
        );
    }

    #[test]
    fn the_readme_shows_the_schema() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md: paste report::dataset::markdown_table() into the dataset section:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn athena_sql_names_every_column_once() {
        let sql = athena_sql("s3://b/p/", &[]);
        for f in COLUMNS.iter().chain([&PARTITION]) {
            assert_eq!(
                sql.matches(&format!("`{}` ", f.name)).count(),
                1,
                "{}",
                f.name
            );
        }
        assert!(sql.contains("LOCATION 's3://b/p/dataset/steps/'"), "{sql}");
        assert!(sql.contains("'projection.week.range' = '2020-01-06,NOW'"));
        assert!(!sql.starts_with("--"));
        let early = NaiveDate::from_ymd_opt(2019, 12, 30).unwrap();
        assert!(athena_sql(PLACEHOLDER_LOCATION, &[early]).contains("'2019-12-30,NOW'"));
    }
}
