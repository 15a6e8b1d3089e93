//! The report's pages: `index.html` (self-contained: inline SVG charts and
//! CSS, no script, nothing fetched) and `report.md` (GitHub-flavoured, the PNG
//! charts referenced relatively). Both render one [`Page`], whose figures are
//! formatted once, so the two always show the same numbers.
//!
//! Templates are minijinja's, auto-escaped: HTML-escaped in `.html`, and in
//! `.md` escaped for Markdown (table pipes, emphasis, raw HTML). Log-derived
//! text (sources, step keys, projects) is never written unescaped.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Error, Output, State, escape_formatter};
use serde::Serialize;

use super::charts::{Chart, ChartData};
use super::escape::markdown;
use crate::analyze::frames::{ASSUMPTIONS, Totals};
use crate::cost::Pricing;
use crate::summary::percent;

/// How many source names the header lists.
const SOURCES_SHOWN: usize = 5;

/// A headline figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// Its value, formatted with its unit.
    pub value: String,
}

/// One ISO week's row, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct WeekRow {
    /// `2026-W41`.
    pub week: String,
    /// Builds.
    pub builds: String,
    /// Hit rate.
    pub hit_rate: String,
    /// Compute minutes saved.
    pub saved_minutes: String,
    /// Dollars saved.
    pub compute_saved: String,
    /// Import/export minutes.
    pub overhead_minutes: String,
    /// Import/export dollars.
    pub overhead_cost: String,
    /// Storage dollars.
    pub storage_cost: String,
    /// Net dollars.
    pub net: String,
}

/// A project's hit rate per week, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    /// The project.
    pub project: String,
    /// One cell per week (`–` without a cacheable step).
    pub hit_rates: Vec<String>,
}

/// A step that lost time to misses, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    /// The project.
    pub project: String,
    /// The step key.
    pub step_key: String,
    /// Misses.
    pub misses: u32,
    /// Minutes lost.
    pub minutes_lost: String,
}

/// A price used.
#[derive(Debug, Clone, Serialize)]
pub struct PriceRow {
    /// The item.
    pub item: String,
    /// The price with its unit.
    pub price: String,
}

/// A chart as the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct ChartRef {
    /// File stem under `charts/`.
    pub name: &'static str,
    /// Caption and alt text.
    pub title: &'static str,
    /// The SVG document (inlined in the HTML).
    pub svg: Value,
}

/// Everything the pages show.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The window: first and last day of the builds.
    pub window: String,
    /// Sources read.
    pub source_count: usize,
    /// The first few source names.
    pub sources_shown: Vec<String>,
    /// Price table date, region and currency.
    pub pricing_date: String,
    /// See `pricing_date`.
    pub pricing_region: String,
    /// See `pricing_date`.
    pub currency: String,
    /// The prices that matter here.
    pub prices: Vec<PriceRow>,
    /// Storage size and where it came from.
    pub storage: String,
    /// How the figures are made.
    pub assumptions: &'static [&'static str],
    /// What is not known.
    pub unknowns: Vec<String>,
    /// The headline figures.
    pub figures: Vec<Figure>,
    /// Per week.
    pub weeks: Vec<WeekRow>,
    /// Week names (hit rate table header).
    pub week_names: Vec<String>,
    /// Per project.
    pub projects: Vec<ProjectRow>,
    /// Top steps by minutes lost.
    pub top_steps: Vec<StepRow>,
    /// The charts.
    pub charts: Vec<ChartRef>,
}

/// Dollars (or the table's currency) with cents.
pub fn money(x: f64) -> String {
    format!("{x:.2}")
}

/// Minutes with one decimal.
pub fn minutes(x: f64) -> String {
    format!("{x:.1}")
}

impl Page {
    /// The page of an analysis.
    pub fn new(
        totals: &Totals,
        pricing: &Pricing,
        sources: &[String],
        data: &ChartData,
        charts: &[Chart],
    ) -> Self {
        let t = totals;
        let window = match (&t.first_day, &t.last_day) {
            (Some(a), Some(b)) => format!("{a} to {b} ({:.0} days)", t.days),
            _ => "unknown (the logs carry no time)".to_owned(),
        };
        let storage = t.storage.as_ref().map_or_else(
            || "unknown (give --cache-repo or --cache-size-gb)".to_owned(),
            |s| format!("{} GB ({})", s.gb, s.source),
        );
        Self {
            window,
            source_count: sources.len(),
            sources_shown: sources.iter().take(SOURCES_SHOWN).cloned().collect(),
            pricing_date: pricing.date.clone(),
            pricing_region: pricing.region.clone(),
            currency: t.currency.clone(),
            prices: prices(pricing, &t.currency),
            storage,
            assumptions: ASSUMPTIONS,
            unknowns: unknowns(t),
            figures: figures(t),
            weeks: week_rows(data),
            week_names: data.weeks.iter().map(|w| w.week.clone()).collect(),
            projects: project_rows(data),
            top_steps: step_rows(data),
            charts: charts.iter().map(chart_ref).collect(),
        }
    }

    /// `index.html`.
    pub fn html(&self) -> Result<String, Error> {
        env()?
            .get_template("index.html")?
            .render(Value::from(Serde(self)))
    }

    /// `report.md`.
    pub fn markdown(&self) -> Result<String, Error> {
        env()?
            .get_template("report.md")?
            .render(Value::from(Serde(self)))
    }
}

/// Money, or `unknown`.
fn opt_money(x: Option<f64>) -> String {
    x.map_or_else(|| "unknown".to_owned(), money)
}

/// Every CodeBuild price of the table and ECR's storage price.
fn prices(pricing: &Pricing, cur: &str) -> Vec<PriceRow> {
    let mut prices: Vec<PriceRow> = pricing
        .codebuild
        .per_minute
        .iter()
        .map(|(k, v)| PriceRow {
            item: format!("CodeBuild {k}"),
            price: format!("{v} {cur} per started minute"),
        })
        .chain(pricing.codebuild.per_second.iter().map(|(k, v)| PriceRow {
            item: format!("CodeBuild {k}"),
            price: format!("{v} {cur} per second"),
        }))
        .collect();
    prices.push(PriceRow {
        item: "ECR storage".to_owned(),
        price: format!("{} {cur} per GB-month", pricing.ecr.storage_gb_month),
    });
    prices
}

/// What the figures cannot know.
fn unknowns(t: &Totals) -> Vec<String> {
    let mut unknowns = vec![format!(
        "{} cached steps never executed anywhere in the window or history: their saved time is unknown and not counted.",
        t.saved_unknown
    )];
    if t.storage_cost.is_none() {
        unknowns.push(
            "The cache repository's size is unknown: storage cost is left out of the net."
                .to_owned(),
        );
    }
    unknowns.push(format!(
        "Builds whose compute type CodeBuild did not report are billed as {}.",
        t.default_compute_type
    ));
    unknowns
}

/// The headline figures.
fn figures(t: &Totals) -> Vec<Figure> {
    let cur = &t.currency;
    let figure = |label, value| Figure { label, value };
    vec![
        figure(
            "Builds (CodeBuild runs)",
            format!("{} ({})", t.builds, t.runs),
        ),
        figure(
            "Hit rate",
            t.hit_rate.map_or_else(|| "n/a".to_owned(), percent),
        ),
        figure("Compute minutes saved", minutes(t.saved_seconds / 60.0)),
        figure(
            "Billed minutes saved",
            format!("{:.0}", t.billed_minutes_without_cache - t.billed_minutes),
        ),
        figure("Compute saved", format!("{} {cur}", money(t.compute_saved))),
        figure(
            "Cache import/export",
            format!(
                "{} min, {} {cur}",
                minutes(t.overhead_seconds / 60.0),
                money(t.overhead_cost)
            ),
        ),
        figure(
            "ECR storage",
            format!("{} {cur}", opt_money(t.storage_cost)),
        ),
        figure("Net savings", format!("{} {cur}", money(t.net))),
        figure(
            "Break-even cache size",
            t.break_even_gb
                .map_or_else(|| "n/a".to_owned(), |g| format!("{g:.1} GB")),
        ),
    ]
}

fn week_rows(data: &ChartData) -> Vec<WeekRow> {
    data.weeks
        .iter()
        .map(|w| WeekRow {
            week: w.week.clone(),
            builds: w.builds.to_string(),
            hit_rate: w.hit_rate.map_or_else(|| "–".to_owned(), percent),
            saved_minutes: minutes(w.saved_minutes),
            compute_saved: money(w.compute_saved),
            overhead_minutes: minutes(w.overhead_minutes),
            overhead_cost: money(w.overhead_cost),
            storage_cost: opt_money(w.storage_cost),
            net: money(w.net),
        })
        .collect()
}

fn project_rows(data: &ChartData) -> Vec<ProjectRow> {
    data.hit_rates
        .iter()
        .map(|p| ProjectRow {
            project: p.project.clone(),
            hit_rates: p
                .hit_rate
                .iter()
                .map(|r| r.map_or_else(|| "–".to_owned(), |r| format!("{r:.0}%")))
                .collect(),
        })
        .collect()
}

fn step_rows(data: &ChartData) -> Vec<StepRow> {
    data.top_steps
        .iter()
        .map(|s| StepRow {
            project: s.project.clone(),
            step_key: s.step_key.clone(),
            misses: s.misses,
            minutes_lost: minutes(s.minutes_lost),
        })
        .collect()
}

fn chart_ref(c: &Chart) -> ChartRef {
    ChartRef {
        name: c.name,
        title: c.title,
        // plotters escapes the text it writes into SVG; inline SVG
        // needs no namespace (the page names no URL at all)
        svg: Value::from_safe_string(c.svg.replacen(
            r#" xmlns="http://www.w3.org/2000/svg""#,
            "",
            1,
        )),
    }
}

fn env() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".md") {
            AutoEscape::Custom("markdown".into())
        } else {
            minijinja::default_auto_escape_callback(name)
        }
    });
    env.set_formatter(markdown_formatter);
    let mut syntax = SyntaxConfig::builder();
    syntax.keep_trailing_newline(true);
    env.set_syntax(syntax.build()?);
    env.add_template("index.html", include_str!("templates/index.html"))?;
    env.add_template("report.md", include_str!("templates/report.md"))?;
    Ok(env)
}

/// Escapes values for Markdown ([`markdown`]) in `.md` templates; the default
/// escaping elsewhere.
fn markdown_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if !matches!(state.auto_escape(), AutoEscape::Custom(_)) || value.is_safe() {
        return escape_formatter(out, state, value);
    }
    let escaped = markdown(&value.to_string());
    out.write_str(&escaped).map_err(Error::from)
}
