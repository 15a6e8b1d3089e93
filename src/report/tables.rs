//! The tables of an analysis on disk: every table as CSV, Parquet and JSON,
//! the headline figures as `totals.json`, and the steps as a Parquet dataset
//! partitioned `year=/week=/project=` for Athena, Trino, Spark or DuckDB;
//! the charts (`charts/*.svg|png`, their figures in `charts/data.json`) and
//! the pages `index.html` and `report.md`.
//!
//! The folder is written whole beside its destination and renamed into place
//! (a failed or killed run leaves the previous report as it was), and only
//! where [`OutDir`] allows: never over an input or a folder cachelens did not write.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::charts::{self, ChartData, ChartError};
use super::escape::csv_cell;
use super::page::Page;
use crate::analyze::frames::{ASSUMPTIONS, Analysis, Totals};
use crate::analyze::rows::{IsoWeek, STEP};
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
}

/// Writes the analysis into `out` (replaced whole, with the report marker).
pub fn write(
    analysis: &Analysis,
    pricing: &Pricing,
    sources: &[String],
    out: &OutDir,
) -> Result<(), WriteError> {
    out.write(|dir| write_into(analysis, pricing, sources, dir))
}

fn write_into(
    analysis: &Analysis,
    pricing: &Pricing,
    sources: &[String],
    dir: &Path,
) -> Result<(), WriteError> {
    let tables = dir.join("tables");
    fs::create_dir_all(&tables).map_err(io_err(&tables))?;
    let named: [(&str, &DataFrame); 9] = [
        ("steps", &analysis.steps),
        ("builds", &analysis.builds),
        ("runs", &analysis.runs),
        ("weekly", &analysis.weekly),
        ("hit_rate_by_week", &analysis.by_week),
        ("hit_rate_by_day", &analysis.by_day),
        ("hit_rate_by_project", &analysis.by_project),
        ("hit_rate_by_branch", &analysis.by_branch),
        ("step_keys", &analysis.step_keys),
    ];
    for (name, df) in named {
        write_table(df, &tables.join(name))?;
    }
    write_dataset(analysis, &dir.join("dataset/steps"))?;
    let totals = TotalsFile {
        totals: &analysis.totals,
        pricing,
        sources,
        assumptions: ASSUMPTIONS,
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
    let page = Page::new(&analysis.totals, pricing, sources, &data, &drawn);
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
    let mut f = File::create(&json).map_err(io_err(&json))?;
    JsonWriter::new(&mut f)
        .with_json_format(JsonFormat::Json)
        .finish(&mut df)
        .map_err(table_err(&json))?;
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

/// The dataset's partition columns (their values are in the folder names).
const YEAR: &str = "year";
/// See [`YEAR`].
const WEEK_NUMBER: &str = "week_number";

/// The steps as `year=YYYY/week=WW/project=P/part-0.parquet` (steps without a
/// time go under `year=unknown/week=unknown`).
fn write_dataset(analysis: &Analysis, dir: &Path) -> Result<(), WriteError> {
    let err = |source| WriteError::Table {
        path: dir.display().to_string(),
        source,
    };
    let steps = &analysis.steps;
    let by_name: HashMap<String, IsoWeek> =
        analysis.weeks.iter().map(|w| (w.to_string(), *w)).collect();
    let weeks: Vec<Option<&IsoWeek>> = steps
        .column(STEP.week)
        .map_err(err)?
        .str()
        .map_err(err)?
        .iter()
        .map(|w| w.and_then(|w| by_name.get(w)))
        .collect();
    let part = |value: fn(&IsoWeek) -> String| -> Vec<String> {
        weeks
            .iter()
            .map(|w| w.map_or_else(|| "unknown".to_owned(), value))
            .collect()
    };
    let mut with_parts = steps.clone();
    with_parts
        .with_column(Column::new(YEAR.into(), part(|w| w.year.to_string())))
        .map_err(err)?;
    with_parts
        .with_column(Column::new(
            WEEK_NUMBER.into(),
            part(|w| format!("{:02}", w.week)),
        ))
        .map_err(err)?;
    let parts = with_parts
        .partition_by_stable([YEAR, WEEK_NUMBER, STEP.project], true)
        .map_err(err)?;
    for mut part in parts {
        let key = |name: &str| -> String {
            part.column(name)
                .ok()
                .and_then(|c| c.str().ok().and_then(|s| s.get(0).map(str::to_owned)))
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let folder = dir
            .join(format!("year={}", key(YEAR)))
            .join(format!("week={}", key(WEEK_NUMBER)))
            .join(format!("project={}", encode(&key(STEP.project))));
        fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        // the partition columns live in the path, as Hive-style readers expect
        part = part.drop_many([YEAR, WEEK_NUMBER, STEP.project]);
        let path = folder.join("part-0.parquet");
        let f = File::create(&path).map_err(io_err(&path))?;
        ParquetWriter::new(f)
            .finish(&mut part)
            .map_err(|source| WriteError::Table {
                path: path.display().to_string(),
                source,
            })?;
    }
    Ok(())
}

/// A partition value safe as a folder name.
fn encode(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
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
}
