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
use super::headline;
use super::verdict::{Tone, Verdict, signed};
use crate::analyze::cache_loses::CacheLoss;
use crate::analyze::frames::{ASSUMPTIONS, Analysis, Totals};
use crate::analyze::hit_origin::HIT_ORIGIN;
use crate::analyze::hygiene::{EXPIRE_UNTAGGED_DAYS, Hygiene};
use crate::analyze::interval::Interval;
use crate::analyze::miss_causes::MissCause;
use crate::cost::Pricing;
use crate::summary::percent;

/// How many source names the (collapsed) source list holds.
const SOURCES_SHOWN: usize = 50;

/// A headline figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// Its value, formatted with its unit.
    pub value: String,
    /// The sign of a figure that has one (the net).
    pub tone: Option<Tone>,
    /// Its 90 % interval, when it has one: `2.80 to 3.70`.
    pub interval: Option<String>,
}

impl Figure {
    /// A figure with no sign and no interval.
    fn plain(label: &'static str, value: String) -> Self {
        Figure {
            label,
            value,
            tone: None,
            interval: None,
        }
    }
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
    /// Import, fetch and export minutes.
    pub overhead_minutes: String,
    /// Import, fetch and export dollars.
    pub overhead_cost: String,
    /// Gigabytes of layers the hits fetched.
    pub fetch_gb: String,
    /// Storage dollars.
    pub storage_cost: String,
    /// Net dollars, signed (`unknown` without the storage cost).
    pub net: String,
    /// 90 % interval of the minutes saved.
    pub saved_minutes_interval: String,
    /// 90 % interval of the dollars saved.
    pub compute_saved_interval: String,
    /// The net's sign.
    pub net_tone: Tone,
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

/// A cause of misses in a project, formatted (a row of `miss_causes`).
#[derive(Debug, Clone, Serialize)]
pub struct CauseRow {
    /// The project.
    pub project: String,
    /// The cause.
    pub cause: String,
    /// Whether it is the project's first to fix.
    pub first: bool,
    /// Builds it made miss.
    pub builds: u32,
    /// Steps that missed.
    pub steps: u32,
    /// Minutes lost.
    pub minutes_lost: String,
    /// The example build.
    pub example_build: String,
    /// Its first missed step.
    pub example_step: String,
    /// What happened there.
    pub summary: String,
    /// The line that shows it.
    pub evidence: String,
    /// What to do.
    pub fix: String,
}

/// A step key where the cache loses, formatted (see [`CacheLoss`]).
#[derive(Debug, Clone, Serialize)]
pub struct LossRow {
    /// The project.
    pub project: String,
    /// The step key.
    pub step_key: String,
    /// Median fetch of its hits, seconds, and of how many.
    pub fetch: String,
    /// Median execution, seconds, and of how many.
    pub execution: String,
    /// What to do.
    pub fix: &'static str,
}

/// Hits of one project, week and origin, formatted (a row of `hits_by_origin`).
#[derive(Debug, Clone, Serialize)]
pub struct OriginRow {
    /// The project.
    pub project: String,
    /// The ISO week (`–` when unknown).
    pub week: String,
    /// `remote`, `local` or `undetermined`.
    pub origin: String,
    /// Builds with a hit.
    pub builds: u32,
    /// Their hits.
    pub hits: u32,
    /// The minutes those saved.
    pub saved_minutes: String,
}

/// The cache repository's hygiene, formatted.
#[derive(Debug, Clone, Serialize)]
pub struct HygieneView {
    /// The repository.
    pub repository: String,
    /// Its lifecycle rules in sentences (empty: no policy).
    pub rules: Vec<String>,
    /// Whether it has a lifecycle policy.
    pub has_policy: bool,
    /// Why its policy is not known, if it is not.
    pub policy_unknown: Option<String>,
    /// Whether a rule expires untagged images.
    pub expires_untagged: bool,
    /// `12 images, 9 untagged`.
    pub images: String,
    /// Bytes only untagged manifests hold, human-readable.
    pub untagged: String,
    /// The repository's unique bytes, human-readable.
    pub total: String,
    /// New bytes per ISO week.
    pub growth: Vec<(String, String)>,
    /// What expiring untagged images after 14 days frees, and saves per month.
    pub expirable: String,
    /// See `expirable`.
    pub saving_per_month: String,
    /// The rule's age, days.
    pub days: i64,
    /// Manifests that could not be read (their blobs are left out).
    pub unread: usize,
}

fn bytes(n: u64) -> String {
    humansize::format_size(n, humansize::DECIMAL)
}

fn hygiene_view(h: &Hygiene) -> HygieneView {
    HygieneView {
        repository: h.repository.clone(),
        rules: h.policy.clone().unwrap_or_default(),
        has_policy: h.policy.is_some(),
        policy_unknown: h.policy_unknown.clone(),
        expires_untagged: h.expires_untagged,
        images: format!("{} images, {} untagged", h.images, h.untagged_images),
        untagged: bytes(h.untagged_bytes),
        total: bytes(h.unique_bytes),
        growth: h
            .growth
            .iter()
            .map(|g| (g.week.clone(), bytes(g.bytes)))
            .collect(),
        expirable: bytes(h.expirable_bytes),
        saving_per_month: money(h.saving_per_month),
        days: EXPIRE_UNTAGGED_DAYS,
        unread: h.unread_manifests,
    }
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
    /// The first source names (the page shows them collapsed).
    pub sources_shown: Vec<String>,
    /// Did the cache pay for itself: what the pages say first.
    pub verdict: Verdict,
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
    /// Why there is no week, when there is none (shown in place of the per-week tables).
    pub no_weeks: Option<&'static str>,
    /// Week names (hit rate table header).
    pub week_names: Vec<String>,
    /// Per project.
    pub projects: Vec<ProjectRow>,
    /// Top steps by minutes lost.
    pub top_steps: Vec<StepRow>,
    /// What to fix first: causes of misses per project, each project's first first.
    pub causes: Vec<CauseRow>,
    /// The step keys where the cache loses.
    pub losses: Vec<LossRow>,
    /// Hits by project, week and origin.
    pub origins: Vec<OriginRow>,
    /// The rule `origins` follow.
    pub origin_rule: &'static str,
    /// The cache repository's hygiene (with `--cache-repo`).
    pub hygiene: Option<HygieneView>,
    /// The charts.
    pub charts: Vec<ChartRef>,
}

/// Why a report has no week: its builds have no date.
const NO_WEEKS: &str = "No week to show: the logs hold no dates (plain log files without CI timestamps). \
     CodeBuild runs (the archive, CloudWatch, S3) and timestamped CI logs have them.";

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
        analysis: &Analysis,
        pricing: &Pricing,
        sources: &[String],
        hygiene: Option<&Hygiene>,
        data: &ChartData,
        charts: &[Chart],
    ) -> Self {
        let t = &analysis.totals;
        let window = match (&t.first_day, &t.last_day) {
            (Some(a), Some(b)) => format!("{a} to {b} ({:.0} days)", t.days),
            _ => headline::NO_DATES.to_owned(),
        };
        let storage = t.storage.as_ref().map_or_else(
            || "unknown (give --cache-repo or --cache-size-gb)".to_owned(),
            |s| format!("{} GB ({})", s.gb, s.source),
        );
        Self {
            window,
            source_count: sources.len(),
            sources_shown: sources.iter().take(SOURCES_SHOWN).cloned().collect(),
            verdict: Verdict::of(t),
            pricing_date: pricing.date.clone(),
            pricing_region: pricing.region.clone(),
            currency: t.currency.clone(),
            prices: prices(pricing, &t.currency),
            storage,
            assumptions: ASSUMPTIONS,
            unknowns: unknowns(t),
            figures: figures(t),
            weeks: week_rows(data),
            no_weeks: data.weeks.is_empty().then_some(NO_WEEKS),
            week_names: data.weeks.iter().map(|w| w.week.clone()).collect(),
            projects: project_rows(data),
            top_steps: step_rows(data),
            causes: analysis.miss_causes.iter().map(cause_row).collect(),
            losses: analysis.cache_losses.iter().map(loss_row).collect(),
            origins: origin_rows(&analysis.hits_by_origin).unwrap_or_default(),
            origin_rule: ORIGIN_RULE,
            hygiene: hygiene.map(hygiene_view),
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
    prices.push(PriceRow {
        item: "ECR transfer to CodeBuild, same region".to_owned(),
        price: format!("{} {cur} per GB", pricing.ecr.transfer_same_region_gb),
    });
    prices.push(PriceRow {
        item: "NAT gateway processing (nat_gateway_per_gb)".to_owned(),
        price: format!("{} {cur} per GB", pricing.ecr.nat_gateway_per_gb),
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
            "The cache repository's size is unknown: so are its storage cost, the cache's cost, the net and the return (never counted as zero)."
                .to_owned(),
        );
    }
    unknowns.push(format!(
        "Builds whose compute type CodeBuild did not report are billed as {}.",
        t.default_compute_type
    ));
    unknowns
}

/// An interval, `low to high`, each end formatted by `fmt`.
fn span(i: Interval, fmt: fn(f64) -> String) -> String {
    format!("{} to {}", fmt(i.low), fmt(i.high))
}

/// The sign of an amount, unknown without one.
fn tone(x: Option<f64>) -> Tone {
    match x {
        Some(x) if signed(x, "").starts_with('-') => Tone::Loss,
        Some(_) => Tone::Gain,
        None => Tone::Unknown,
    }
}

/// The headline figures.
fn figures(t: &Totals) -> Vec<Figure> {
    let cur = &t.currency;
    let figure = Figure::plain;
    let with = |f: Figure, i: Option<Interval>, fmt: fn(f64) -> String| Figure {
        interval: i.map(|i| span(i, fmt)),
        ..f
    };
    let mut figures = vec![
        figure("Builds", headline::counted(t)),
        figure(
            "Hit rate",
            t.hit_rate.map_or_else(|| "n/a".to_owned(), percent),
        ),
        with(
            figure("Compute minutes saved", minutes(t.saved_seconds / 60.0)),
            t.saved_minutes_interval,
            minutes,
        ),
        figure(
            "Billed minutes saved",
            format!("{:.0}", t.billed_minutes_without_cache - t.billed_minutes),
        ),
        with(
            figure("Compute saved", format!("{} {cur}", money(t.compute_saved))),
            t.compute_saved_interval,
            money,
        ),
        figure(
            "ECR storage",
            t.storage_cost.map_or_else(
                || "unknown (no cache size given)".to_owned(),
                |c| format!("{} {cur}", money(c)),
            ),
        ),
        Figure {
            label: "Net savings",
            value: t
                .net
                .map_or_else(|| "unknown".to_owned(), |n| signed(n, cur)),
            tone: Some(tone(t.net)),
            interval: t
                .net_interval
                .map(|i| span(i, |x| signed(x, "").trim().to_owned())),
        },
        figure(
            "Return on the cache's cost",
            t.return_ratio
                .map_or_else(|| "unknown".to_owned(), |r| format!("{r:.1}×")),
        ),
        figure(
            "Break-even cache size",
            t.break_even_gb
                .map_or_else(|| "n/a".to_owned(), |g| format!("{g:.1} GB")),
        ),
    ];
    // after the compute saved, what the cache's hits cost to bring in
    figures.splice(5..5, cache_figures(t));
    figures
}

/// The cache overhead split into import, fetch and export, the layers the
/// hits fetched and their transfer, and the hits by origin.
fn cache_figures(t: &Totals) -> Vec<Figure> {
    let cur = &t.currency;
    let figure = Figure::plain;
    vec![
        figure(
            "Cache overhead (import + fetch + export)",
            format!(
                "{} min ({} + {} + {}), {} {cur}",
                minutes(t.overhead_seconds / 60.0),
                minutes(t.import_seconds / 60.0),
                minutes(t.fetch_seconds / 60.0),
                minutes(t.export_seconds / 60.0),
                money(t.overhead_cost)
            ),
        ),
        figure(
            "Layers fetched for hits",
            format!(
                "{} layers, {:.2} GB{}, transfer {} {cur}",
                t.fetch_layers,
                t.fetch_gb,
                match t.fetch_layers_unsized {
                    0 => String::new(),
                    n => format!(" ({n} of unprinted size, not counted)"),
                },
                money(t.transfer_cost)
            ),
        ),
        figure(
            "Hits: remote / local / undetermined",
            format!(
                "{} / {} / {} ({} / {} / {} min saved)",
                t.hits_by_origin.remote.hits,
                t.hits_by_origin.local.hits,
                t.hits_by_origin.undetermined.hits,
                minutes(t.hits_by_origin.remote.saved_minutes),
                minutes(t.hits_by_origin.local.saved_minutes),
                minutes(t.hits_by_origin.undetermined.saved_minutes),
            ),
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
            fetch_gb: format!("{:.2}", w.fetch_gb),
            storage_cost: opt_money(w.storage_cost),
            net: w
                .net
                .map_or_else(|| "unknown".to_owned(), |n| signed(n, "").trim().to_owned()),
            net_tone: tone(w.net),
            saved_minutes_interval: w
                .saved_minutes_interval
                .map_or_else(|| "–".to_owned(), |i| span(i, minutes)),
            compute_saved_interval: w
                .compute_saved_interval
                .map_or_else(|| "–".to_owned(), |i| span(i, money)),
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

/// How `origins` are told apart.
const ORIGIN_RULE: &str = "Per build, best effort: no successful cache import, its hits are local (the CodeBuild host's cache, a persistent builder); an import and layers fetched by its hits, remote; an import and no layer fetched, undetermined (the layers were already local, or the import read a local image's metadata).";

fn loss_row(l: &CacheLoss) -> LossRow {
    LossRow {
        project: l.project.clone(),
        step_key: l.step_key.clone(),
        fetch: format!(
            "{:.1} s (median of {})",
            l.median_fetch_seconds, l.fetch_samples
        ),
        execution: format!("{:.1} s (median of {})", l.median_seconds, l.samples),
        fix: l.fix,
    }
}

fn origin_rows(df: &polars::prelude::DataFrame) -> polars::prelude::PolarsResult<Vec<OriginRow>> {
    use polars::prelude::DataType;
    let text = |name: &str| -> polars::prelude::PolarsResult<Vec<Option<String>>> {
        Ok(df
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect())
    };
    let count = |name: &str| -> polars::prelude::PolarsResult<Vec<Option<u32>>> {
        Ok(df
            .column(name)?
            .cast(&DataType::UInt32)?
            .u32()?
            .iter()
            .collect())
    };
    let (project, week, origin) = (
        text(HIT_ORIGIN.project)?,
        text(HIT_ORIGIN.week)?,
        text(HIT_ORIGIN.hit_origin)?,
    );
    let (builds, hits) = (count(HIT_ORIGIN.builds)?, count(HIT_ORIGIN.hits)?);
    let saved: Vec<Option<f64>> = df.column(HIT_ORIGIN.saved_minutes)?.f64()?.iter().collect();
    Ok((0..df.height())
        .map(|i| OriginRow {
            project: project[i].clone().unwrap_or_else(|| "-".to_owned()),
            week: week[i].clone().unwrap_or_else(|| "–".to_owned()),
            origin: origin[i].clone().unwrap_or_default(),
            builds: builds[i].unwrap_or(0),
            hits: hits[i].unwrap_or(0),
            saved_minutes: minutes(saved[i].unwrap_or(0.0)),
        })
        .collect())
}

fn cause_row(c: &MissCause) -> CauseRow {
    CauseRow {
        project: c.project.clone(),
        cause: c.cause.clone(),
        first: c.rank == 1,
        builds: c.builds,
        steps: c.steps,
        minutes_lost: minutes(c.minutes_lost),
        example_build: c.example_build.clone(),
        example_step: c.example_step.clone().unwrap_or_default(),
        summary: c.summary.clone(),
        evidence: c.evidence.clone().unwrap_or_default(),
        fix: c.fix.clone(),
    }
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
