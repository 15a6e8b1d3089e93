//! The tables of an analysis on disk: every table as CSV, Parquet and JSON,
//! the headline figures as `totals.json`, and the steps as a Parquet dataset
//! partitioned by week for Athena, Trino, Spark or DuckDB ([`dataset`]);
//! the charts (`charts/*.svg|png`, their figures in `charts/data.json`) and
//! the pages `index.html` and `report.md`.
//!
//! The folder is written whole beside its destination and renamed into place
//! (a failed or killed run leaves the previous report as it was), and only
//! where [`OutDir`] allows: never over an input or a folder cachelens did not write.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::charts::{self, ChartData, ChartError};
use super::dataset;
use super::escape::csv_cell;
use super::page::Page;
use crate::analyze::frames::{ASSUMPTIONS, Analysis, Totals};
use crate::analyze::hygiene::Hygiene;
use crate::analyze::miss_causes::MissCause;
use crate::cost::Pricing;
use crate::safe_write::{OutDir, WriteGuardError};

/// A failure to write a report.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A table could not be written.
    #[error("{path}: {source}")]
    Table {
        /// The file.
        path: String,
        /// Why.
        source: PolarsError,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] ChartError),
    /// The folder may not be written, or could not be put in place.
    #[error(transparent)]
    Guard(#[from] WriteGuardError),
    /// A page could not be rendered.
    #[error("{path}: {source}")]
    Page {
        /// The file.
        path: String,
        /// Why.
        source: minijinja::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// `totals.json`: the figures, the prices they used and how they were made.
#[derive(Debug, Serialize)]
pub struct TotalsFile<'a> {
    /// The headline figures.
    pub totals: &'a Totals,
    /// The price table used.
    pub pricing: &'a Pricing,
    /// Where the logs came from.
    pub sources: &'a [String],
    /// How the figures are made.
    pub assumptions: &'static [&'static str],
    /// The cache repository's hygiene (with `--cache-repo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_repository: Option<&'a Hygiene>,
}

/// Writes the analysis into `out` (replaced whole, with the report marker);
/// `location` is where the report will live for `dataset/athena.sql`
/// ([`dataset::PLACEHOLDER_LOCATION`] when not in S3).
pub fn write(
    analysis: &Analysis,
    pricing: &Pricing,
    sources: &[String],
    hygiene: Option<&Hygiene>,
    out: &OutDir,
    location: &str,
) -> Result<(), WriteError> {
    let report = Report {
        analysis,
        pricing,
        sources,
        hygiene,
        location,
    };
    out.write(|dir| report.write_into(dir))
}

/// What [`write`] writes.
#[derive(Clone, Copy)]
struct Report<'a> {
    analysis: &'a Analysis,
    pricing: &'a Pricing,
    sources: &'a [String],
    hygiene: Option<&'a Hygiene>,
    location: &'a str,
}

impl Report<'_> {
    fn write_into(self, dir: &Path) -> Result<(), WriteError> {
        let analysis = self.analysis;
        let tables = dir.join("tables");
        fs::create_dir_all(&tables).map_err(io_err(&tables))?;
        let miss_causes =
            MissCause::frame(&analysis.miss_causes).map_err(|source| WriteError::Table {
                path: tables.join("miss_causes").display().to_string(),
                source,
            })?;
        let named: [(&str, &DataFrame); 11] = [
            ("steps", &analysis.steps),
            ("builds", &analysis.builds),
            ("runs", &analysis.runs),
            ("weekly", &analysis.weekly),
            ("hit_rate_by_week", &analysis.by_week),
            ("hit_rate_by_day", &analysis.by_day),
            ("hit_rate_by_project", &analysis.by_project),
            ("hit_rate_by_branch", &analysis.by_branch),
            ("step_keys", &analysis.step_keys),
            ("miss_causes", &miss_causes),
            ("hits_by_origin", &analysis.hits_by_origin),
        ];
        // the tables beside the rest: polars' JSON and CSV writers take one
        // thread, and so do the charts and pages
        let (written, rest) = rayon::join(
            || {
                named
                    .iter()
                    .try_for_each(|(name, df)| write_table(df, &tables.join(name)))
            },
            || self.write_rest(dir),
        );
        written.and(rest)
    }

    /// All but the tables: the dataset, `totals.json`, the charts and the pages.
    fn write_rest(self, dir: &Path) -> Result<(), WriteError> {
        let Report {
            analysis,
            pricing,
            sources,
            hygiene,
            location,
        } = self;
        write_dataset(analysis, dir, location)?;
        let totals = TotalsFile {
            totals: &analysis.totals,
            pricing,
            sources,
            assumptions: ASSUMPTIONS,
            cache_repository: hygiene,
        };
        write_json(&dir.join("totals.json"), &totals)?;

        let data = ChartData::new(analysis).map_err(ChartError::from)?;
        let drawn = charts::draw_all(&data)?;
        let folder = dir.join("charts");
        fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        write_json(&folder.join("data.json"), &data)?;
        for chart in &drawn {
            write_file(
                &folder.join(format!("{}.svg", chart.name)),
                chart.svg.as_bytes(),
            )?;
            write_file(&folder.join(format!("{}.png", chart.name)), &chart.png)?;
        }
        let page = Page::new(analysis, pricing, sources, hygiene, &data, &drawn);
        for (name, text) in [("index.html", page.html()), ("report.md", page.markdown())] {
            let path = dir.join(name);
            let text = text.map_err(|source| WriteError::Page {
                path: path.display().to_string(),
                source,
            })?;
            write_file(&path, text.as_bytes())?;
        }
        Ok(())
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    fs::write(path, bytes).map_err(io_err(path))
}

/// Pretty JSON with a final newline.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), WriteError> {
    let mut w = BufWriter::new(File::create(path).map_err(io_err(path))?);
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| io_err(path)(e.into()))?;
    w.write_all(b"\n")
        .and_then(|()| w.flush())
        .map_err(io_err(path))
}

/// `<stem>.csv`, `<stem>.parquet` and `<stem>.json` of one table.
pub fn write_table(df: &DataFrame, stem: &Path) -> Result<(), WriteError> {
    let mut df = df.clone();
    let with = |ext: &str| -> PathBuf { stem.with_extension(ext) };
    let table_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| WriteError::Table { path, source }
    };

    let csv = with("csv");
    let mut f = File::create(&csv).map_err(io_err(&csv))?;
    CsvWriter::new(&mut f)
        .finish(&mut csv_safe(&df).map_err(table_err(&csv))?)
        .map_err(table_err(&csv))?;

    let parquet = with("parquet");
    let f = File::create(&parquet).map_err(io_err(&parquet))?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map_err(table_err(&parquet))?;

    let json = with("json");
    let f = File::create(&json).map_err(io_err(&json))?;
    let mut w = BufWriter::new(f);
    json_in_chunks(&df, JSON_CHUNK_ROWS, &mut w)
        .and_then(|()| Ok(w.flush()?))
        .map_err(table_err(&json))?;
    Ok(())
}

/// Rows polars' JSON writer turns into text at a time ([`json_in_chunks`]).
const JSON_CHUNK_ROWS: usize = 1 << 12;

/// `df` as the JSON array polars' JSON writer makes of it, the same bytes,
/// made `rows` rows at a time, two chunks a thread at once (the writer takes
/// one thread, and holds the text of a whole chunk before writing it: the
/// steps of 100,000 runs are 370 MB of JSON; small chunks share out evenly),
/// and written in order.
fn json_in_chunks(df: &DataFrame, rows: usize, out: &mut impl Write) -> PolarsResult<()> {
    let chunks: Vec<DataFrame> = (0..df.height().max(1))
        .step_by(rows)
        .map(|at| df.slice(at as i64, rows))
        .collect();
    out.write_all(b"[")?;
    let mut first = true;
    for batch in chunks.chunks(2 * rayon::current_num_threads()) {
        let texts = batch
            .par_iter()
            .map(|chunk| {
                let mut text = Vec::new();
                JsonWriter::new(&mut text)
                    .with_json_format(JsonFormat::Json)
                    .finish(&mut chunk.clone())?;
                Ok(text)
            })
            .collect::<PolarsResult<Vec<Vec<u8>>>>()?;
        for text in &texts {
            // the chunk's rows, without its array's brackets
            let rows = text
                .strip_prefix(b"[")
                .and_then(|t| t.strip_suffix(b"]"))
                .ok_or_else(|| polars_err!(ComputeError: "a JSON chunk is not an array"))?;
            if rows.is_empty() {
                continue;
            }
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(rows)?;
        }
    }
    out.write_all(b"]")?;
    Ok(())
}

/// The table for CSV: text cells a spreadsheet would take for a formula
/// neutralised ([`csv_cell`]); numbers and the Parquet/JSON tables keep their values.
fn csv_safe(df: &DataFrame) -> PolarsResult<DataFrame> {
    let mut out = df.clone();
    for col in df.columns() {
        if col.dtype() != &DataType::String {
            continue;
        }
        let text = col.str()?;
        if !text
            .iter()
            .flatten()
            .any(|v| matches!(csv_cell(v), Cow::Owned(_)))
        {
            continue;
        }
        let safe: StringChunked = text
            .iter()
            .map(|v| v.map(|v| csv_cell(v).into_owned()))
            .collect();
        out.with_column(safe.with_name(col.name().clone()).into_column())?;
    }
    Ok(out)
}

/// `dataset/`: the steps partitioned by week, `schema.json` and `athena.sql`
/// (its table at `location`, the report's S3 prefix).
fn write_dataset(analysis: &Analysis, dir: &Path, location: &str) -> Result<(), WriteError> {
    let steps = dir.join(dataset::STEPS);
    let err = |source| WriteError::Table {
        path: steps.display().to_string(),
        source,
    };
    let weeks = dataset::Dataset::new(&analysis.builds, &analysis.runs)
        .and_then(|d| d.write(&analysis.steps, &steps))
        .map_err(err)?;
    let folder = dir.join("dataset");
    fs::create_dir_all(&folder).map_err(io_err(&folder))?;
    write_json(&folder.join("schema.json"), &dataset::SCHEMA)?;
    write_file(
        &folder.join("athena.sql"),
        dataset::athena_sql(location, &weeks).as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_tables_neutralise_text_cells_only() {
        let df = df! {
            "name" => ["=HYPERLINK(\"x\")", "-", "[1/2] RUN a", "@SUM(A1)"],
            "seconds" => [-1.5, 2.0, 0.0, 1.0],
            "n" => [-1i64, 2, 3, 4],
        }
        .unwrap();
        let safe = csv_safe(&df).unwrap();
        let names: Vec<_> = safe
            .column("name")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(
            names,
            ["'=HYPERLINK(\"x\")", "-", "[1/2] RUN a", "'@SUM(A1)"]
        );
        assert_eq!(
            safe.column("seconds").unwrap(),
            df.column("seconds").unwrap()
        );
        assert_eq!(safe.column("n").unwrap(), df.column("n").unwrap());
        // written, the numbers keep their sign
        let dir = tempfile::tempdir().unwrap();
        write_table(&df, &dir.path().join("t")).unwrap();
        let csv = fs::read_to_string(dir.path().join("t.csv")).unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\",-1.5,-1"), "{csv}");
        let json = fs::read_to_string(dir.path().join("t.json")).unwrap();
        assert!(json.contains("\"=HYPERLINK"), "{json}");
    }

    #[test]
    fn json_in_chunks_is_the_same_array() {
        let df = df! {
            "name" => ["a", "b\"", "c", "d", "e"],
            "n" => [1i64, 2, 3, 4, 5],
        }
        .unwrap();
        let json = |df: &mut DataFrame| {
            let mut out = Vec::new();
            JsonWriter::new(&mut out)
                .with_json_format(JsonFormat::Json)
                .finish(df)
                .unwrap();
            out
        };
        for df in [df.clone(), df.slice(0, 0)] {
            let whole = json(&mut df.clone());
            for rows in [1, 2, 4, 5, 9] {
                for threads in [1, 2, 3] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let mut chunked = Vec::new();
                    pool.install(|| json_in_chunks(&df, rows, &mut chunked))
                        .unwrap();
                    assert_eq!(
                        String::from_utf8(chunked).unwrap(),
                        String::from_utf8(whole.clone()).unwrap(),
                        "{rows} rows a chunk, {threads} threads"
                    );
                }
            }
        }
    }
}
