//! The report's charts (plotters), each as SVG and PNG: `headline` (per ISO
//! week, compute saved against overhead and ECR storage, with the net),
//! `hit_rate` (per week, one line per project), `misses` (the steps that lost
//! the most minutes to misses) and `overhead` (cache import/export minutes per
//! week). Their figures come from the [`Analysis`] tables alone, gathered in
//! [`ChartData`] (also written as `charts/data.json`).
//!
//! PNG text is drawn with the embedded DejaVu Sans (no system font needed),
//! laid out by [`png_text`](super::png_text).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use polars::prelude::*;
use serde::Serialize;

use crate::analyze::aggregate::{BUILD_SAVINGS, STEP_KEY};
use crate::analyze::billing::WEEKLY;
use crate::analyze::frames::Analysis;
use crate::analyze::interval::Interval;
use crate::analyze::rows::BUILD;
use crate::report::png_text::PngText;

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (960, 480);
/// How many steps the misses chart shows.
pub const TOP_STEPS: usize = 10;

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// A table lacked a column or had another type.
    #[error("chart data: {0}")]
    Table(#[from] PolarsError),
    /// Plotters failed.
    #[error("chart {chart}: {message}")]
    Draw {
        /// The chart.
        chart: &'static str,
        /// Why.
        message: String,
    },
}

/// One ISO week of the headline and overhead charts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// `2026-W41`.
    pub week: String,
    /// BuildKit builds.
    pub builds: u32,
    /// Hit rate of cacheable steps (0–1).
    pub hit_rate: Option<f64>,
    /// Compute minutes the cache saved.
    pub saved_minutes: f64,
    /// Their billed dollars.
    pub compute_saved: f64,
    /// Dollars of compute spent in cache import/export.
    pub overhead_cost: f64,
    /// Dollars of ECR storage, when the cache's size is known.
    pub storage_cost: Option<f64>,
    /// compute_saved − overhead_cost − storage_cost (unknown with the storage).
    pub net: Option<f64>,
    /// Minutes spent in cache import/export.
    pub overhead_minutes: f64,
    /// 90 % interval of `saved_minutes`.
    pub saved_minutes_interval: Option<Interval>,
    /// 90 % interval of `compute_saved`.
    pub compute_saved_interval: Option<Interval>,
}

/// One project's hit rate per week (percent; none without a cacheable step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectLine {
    /// The project (`-` when unknown).
    pub project: String,
    /// One value per [`ChartData::weeks`] entry.
    pub hit_rate: Vec<Option<f64>>,
}

/// A step that lost minutes to cache misses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopStep {
    /// The project (`-` when unknown).
    pub project: String,
    /// The step key.
    pub step_key: String,
    /// Runs of the step that were not cached.
    pub misses: u32,
    /// Minutes the executed runs took.
    pub minutes_lost: f64,
}

/// Everything the charts show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartData {
    /// Currency of every amount.
    pub currency: String,
    /// The weeks, in order.
    pub weeks: Vec<Week>,
    /// Hit rate lines, by project name.
    pub hit_rates: Vec<ProjectLine>,
    /// The top steps by minutes lost, most first.
    pub top_steps: Vec<TopStep>,
}

fn strings(df: &DataFrame, name: &str) -> Result<Vec<String>, PolarsError> {
    Ok(df
        .column(name)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|s| s.unwrap_or("-").to_owned())
        .collect())
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, PolarsError> {
    Ok(df
        .column(name)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

impl ChartData {
    /// Gathers the charts' figures from the analysis tables.
    pub fn new(analysis: &Analysis) -> Result<Self, PolarsError> {
        let weeks = weeks(analysis)?;
        let names: Vec<&str> = weeks.iter().map(|w| w.week.as_str()).collect();
        Ok(Self {
            currency: analysis.totals.currency.clone(),
            hit_rates: hit_rates(analysis, &names)?,
            top_steps: top_steps(analysis)?,
            weeks,
        })
    }
}

/// The weeks of the `weekly` table, with the import/export minutes of their builds.
fn weeks(analysis: &Analysis) -> Result<Vec<Week>, PolarsError> {
    const MINUTES: &str = "overhead_minutes";
    let weekly = &analysis.weekly;
    let overhead = analysis
        .builds
        .clone()
        .lazy()
        .group_by([col(BUILD.week)])
        .agg([(col(BUILD_SAVINGS.overhead_seconds).sum() / lit(60.0)).alias(MINUTES)])
        .collect()?;
    let overhead: BTreeMap<String, f64> = strings(&overhead, BUILD.week)?
        .into_iter()
        .zip(floats(&overhead, MINUTES)?)
        .map(|(w, m)| (w, m.unwrap_or(0.0)))
        .collect();
    let names = strings(weekly, WEEKLY.week)?;
    let [builds, rate, saved, compute, over, storage, net] = [
        WEEKLY.builds,
        WEEKLY.hit_rate,
        WEEKLY.saved_minutes,
        WEEKLY.compute_saved,
        WEEKLY.overhead_cost,
        WEEKLY.storage_cost,
        WEEKLY.net,
    ]
    .map(|c| floats(weekly, c));
    let (builds, rate, saved, compute, over, storage, net) =
        (builds?, rate?, saved?, compute?, over?, storage?, net?);
    let [m_low, m_high, d_low, d_high] = [
        WEEKLY.saved_minutes_low,
        WEEKLY.saved_minutes_high,
        WEEKLY.compute_saved_low,
        WEEKLY.compute_saved_high,
    ]
    .map(|c| floats(weekly, c));
    let (m_low, m_high, d_low, d_high) = (m_low?, m_high?, d_low?, d_high?);
    let pair = |lo: Option<f64>, hi: Option<f64>| {
        Some(Interval {
            low: lo?,
            high: hi?,
        })
    };
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, w)| Week {
            week: w.clone(),
            builds: builds[i].unwrap_or(0.0) as u32,
            hit_rate: rate[i],
            saved_minutes: saved[i].unwrap_or(0.0),
            compute_saved: compute[i].unwrap_or(0.0),
            overhead_cost: over[i].unwrap_or(0.0),
            storage_cost: storage[i],
            net: net[i],
            overhead_minutes: overhead.get(w).copied().unwrap_or(0.0),
            saved_minutes_interval: pair(m_low[i], m_high[i]),
            compute_saved_interval: pair(d_low[i], d_high[i]),
        })
        .collect())
}

/// Each project's hit rate in each of the `weeks`, by project name.
fn hit_rates(analysis: &Analysis, weeks: &[&str]) -> Result<Vec<ProjectLine>, PolarsError> {
    let per_project = analysis
        .builds
        .clone()
        .lazy()
        .filter(col(BUILD.week).is_not_null())
        .group_by([col(BUILD.project), col(BUILD.week)])
        .agg([
            col(BUILD.cacheable).cast(DataType::Float64).sum(),
            col(BUILD.cached).cast(DataType::Float64).sum(),
        ])
        .collect()?;
    let mut lines: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let (cacheable, cached) = (
        floats(&per_project, BUILD.cacheable)?,
        floats(&per_project, BUILD.cached)?,
    );
    for (i, (project, week)) in strings(&per_project, BUILD.project)?
        .into_iter()
        .zip(strings(&per_project, BUILD.week)?)
        .enumerate()
    {
        let line = lines
            .entry(project)
            .or_insert_with(|| vec![None; weeks.len()]);
        if let (Some(at), Some(n), Some(c)) = (
            weeks.iter().position(|w| *w == week),
            cacheable[i],
            cached[i],
        ) {
            line[at] = (n > 0.0).then(|| 100.0 * c / n);
        }
    }
    Ok(lines
        .into_iter()
        .map(|(project, hit_rate)| ProjectLine { project, hit_rate })
        .collect())
}

/// The first [`TOP_STEPS`] step keys that lost any time to misses.
fn top_steps(analysis: &Analysis) -> Result<Vec<TopStep>, PolarsError> {
    let keys = analysis.step_keys.head(Some(TOP_STEPS));
    let (projects, step_keys, misses, minutes) = (
        strings(&keys, STEP_KEY.project)?,
        strings(&keys, STEP_KEY.step_key)?,
        floats(&keys, STEP_KEY.misses)?,
        floats(&keys, STEP_KEY.minutes_lost)?,
    );
    Ok((0..keys.height())
        .map(|i| TopStep {
            project: projects[i].clone(),
            step_key: step_keys[i].clone(),
            misses: misses[i].unwrap_or(0.0) as u32,
            minutes_lost: minutes[i].unwrap_or(0.0),
        })
        .filter(|s| s.minutes_lost > 0.0)
        .collect())
}

/// One chart drawn both ways.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem: `headline`, `hit_rate`, `misses`, `overhead`.
    pub name: &'static str,
    /// What it shows, for alt text and captions.
    pub title: &'static str,
    /// The SVG document.
    pub svg: String,
    /// The PNG file.
    pub png: Vec<u8>,
}

/// Draws every chart.
pub fn draw_all(data: &ChartData) -> Result<Vec<Chart>, ChartError> {
    register_font()?;
    let charts: [(&str, &str, DrawFn); 4] = [
        (
            "headline",
            "Compute saved against cache overhead and ECR storage, per ISO week",
            DrawFn::Headline,
        ),
        (
            "hit_rate",
            "Cache hit rate per ISO week, by project",
            DrawFn::HitRate,
        ),
        (
            "misses",
            "Steps that lost the most minutes to cache misses",
            DrawFn::Misses,
        ),
        (
            "overhead",
            "Minutes spent in cache import and export, per ISO week",
            DrawFn::Overhead,
        ),
    ];
    charts
        .into_iter()
        .map(|(name, title, draw)| {
            let err = |message: String| ChartError::Draw {
                chart: name,
                message,
            };
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                area.fill(&WHITE).map_err(|e| err(e.to_string()))?;
                draw.on(&area, data).map_err(err)?;
                area.present().map_err(|e| err(e.to_string()))?;
            }
            let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            {
                let area = PngText(BitMapBackend::with_buffer(&mut rgb, SIZE)).into_drawing_area();
                area.fill(&WHITE).map_err(|e| err(e.to_string()))?;
                draw.on(&area, data).map_err(err)?;
                area.present().map_err(|e| err(e.to_string()))?;
            }
            let png = encode_png(&rgb).map_err(err)?;
            Ok(Chart {
                name,
                title,
                svg,
                png,
            })
        })
        .collect()
}

/// Which chart to draw.
#[derive(Debug, Clone, Copy)]
enum DrawFn {
    Headline,
    HitRate,
    Misses,
    Overhead,
}

impl DrawFn {
    fn on<DB: DrawingBackend>(
        self,
        area: &DrawingArea<DB, Shift>,
        data: &ChartData,
    ) -> Result<(), String> {
        match self {
            Self::Headline => headline(area, data),
            Self::HitRate => hit_rate(area, data),
            Self::Misses => misses(area, data),
            Self::Overhead => overhead(area, data),
        }
    }
}

/// Registers DejaVu Sans as `sans-serif`, once.
fn register_font() -> Result<(), ChartError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
        ]
        .into_iter()
        .try_for_each(|(style, bytes)| {
            plotters::style::register_font("sans-serif", style, bytes)
                .map_err(|_| "the embedded DejaVu Sans is not a valid font".to_owned())
        })
    })
    .clone()
    .map_err(|message| ChartError::Draw {
        chart: "font",
        message,
    })
}

/// An RGB buffer as PNG bytes (no time or other varying chunk).
fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIZE.0, SIZE.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

const SAVED: RGBColor = RGBColor(46, 139, 87);
const OVERHEAD: RGBColor = RGBColor(230, 145, 56);
const STORAGE: RGBColor = RGBColor(204, 65, 37);
const NET: RGBColor = RGBColor(31, 78, 158);
const LINES: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&BLACK)
}

/// An x axis with a slot per week (labelled by [`week_label`]).
fn week_axis(n: usize) -> std::ops::Range<f64> {
    -0.5..(n.max(1) as f64 - 0.5)
}

fn week_label(data: &ChartData, x: f64) -> String {
    let i = x.round();
    (i >= 0.0 && (x - i).abs() < 1e-6)
        .then(|| data.weeks.get(i as usize).map(|w| w.week.clone()))
        .flatten()
        .unwrap_or_default()
}

fn range_with(values: impl Iterator<Item = f64>, headroom: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi <= 0.0 && lo >= 0.0 { 1.0 } else { hi };
    (lo * 1.1, hi * headroom)
}

/// The grid of a chart per ISO week: weeks along x, `y_desc` up y.
fn week_mesh<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &ChartData,
    y_desc: impl Into<String>,
    y_format: &dyn Fn(&f64) -> String,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("ISO week")
        .x_labels(data.weeks.len().clamp(1, 16))
        .y_desc(y_desc)
        .x_label_formatter(&|x| week_label(data, *x))
        .y_label_formatter(y_format)
        .label_style(font(15))
        .light_line_style(TRANSPARENT)
        .axis_desc_style(font(16))
        .draw()
        .map_err(|e| e.to_string())
}

/// The legend every chart draws, in a corner.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(font(15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| e.to_string())
}

/// Says in the middle of an empty chart why it is empty.
fn empty_note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, note: &str) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        note.to_owned(),
        (w as i32 / 2, h as i32 / 2),
        font(18).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(|e| e.to_string())
}

fn headline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    if data.weeks.is_empty() {
        empty_note(area, "no build with a date: nothing to show per week")?;
    }
    let weeks = &data.weeks;
    let (lo, hi) = range_with(
        weeks.iter().flat_map(|w| {
            [
                w.compute_saved_interval.map_or(w.compute_saved, |i| i.high),
                w.overhead_cost,
                w.storage_cost.unwrap_or(0.0),
                w.net.unwrap_or(0.0),
            ]
        }),
        1.45,
    );
    let mut chart = ChartBuilder::on(area)
        .caption("Cache savings against its cost, per ISO week", font(22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(week_axis(weeks.len()), lo..hi)
        .map_err(|e| e.to_string())?;
    week_mesh(
        &mut chart,
        data,
        format!("{} per week", data.currency),
        &|y| format!("{y:.2}"),
    )?;
    headline_bars(&mut chart, data)?;
    net_line(&mut chart, data)?;
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// The headline's bars per week: compute saved (labelled with its minutes),
/// overhead and, when known, storage.
fn headline_bars<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &ChartData,
) -> Result<(), String> {
    let weeks = &data.weeks;
    let bars = |offset: f64, value: fn(&Week) -> f64, color: RGBColor| {
        weeks.iter().enumerate().map(move |(i, w)| {
            let x = i as f64 + offset;
            Rectangle::new([(x, 0.0), (x + 0.24, value(w))], color.filled())
        })
    };
    let legend = |color: RGBColor| {
        move |(x, y): (i32, i32)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled())
    };
    chart
        .draw_series(bars(-0.4, |w| w.compute_saved, SAVED))
        .map_err(|e| e.to_string())?
        .label(format!(
            "compute saved ({}; label: minutes saved)",
            data.currency
        ))
        .legend(legend(SAVED));
    chart
        .draw_series(bars(-0.13, |w| w.overhead_cost, OVERHEAD))
        .map_err(|e| e.to_string())?
        .label(format!("cache import/export compute ({})", data.currency))
        .legend(legend(OVERHEAD));
    if weeks.iter().any(|w| w.storage_cost.is_some()) {
        chart
            .draw_series(bars(0.14, |w| w.storage_cost.unwrap_or(0.0), STORAGE))
            .map_err(|e| e.to_string())?
            .label(format!("ECR storage ({})", data.currency))
            .legend(legend(STORAGE));
    }
    // the 90 % interval of the dollars saved, a whisker on each bar
    let intervals: Vec<(usize, Interval)> = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| Some((i, w.compute_saved_interval?)))
        .collect();
    if !intervals.is_empty() {
        chart
            .draw_series(intervals.iter().map(|&(i, iv)| {
                let x = i as f64 - 0.28;
                let mid = weeks[i].compute_saved;
                ErrorBar::new_vertical(x, iv.low, mid, iv.high, BLACK.stroke_width(2), 8)
            }))
            .map_err(|e| e.to_string())?
            .label("90 % interval of compute saved")
            .legend(|(x, y)| {
                PathElement::new([(x + 7, y - 6), (x + 7, y + 6)], BLACK.stroke_width(2))
            });
    }
    let label = font(14).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(weeks.iter().enumerate().map(|(i, w)| {
            let top = w
                .compute_saved_interval
                .map_or(w.compute_saved, |iv| iv.high);
            Text::new(
                format!("{:.0} min", w.saved_minutes),
                (i as f64 - 0.28, top),
                label.clone(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The headline's net savings per week, a line with a dot per week (none
/// where the storage cost, and so the net, is unknown).
fn net_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    data: &ChartData,
) -> Result<(), String> {
    let net: Vec<(f64, f64)> = data
        .weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| Some((i as f64, w.net?)))
        .collect();
    if net.is_empty() {
        return Ok(());
    }
    chart
        .draw_series(LineSeries::new(net.clone(), NET.stroke_width(3)))
        .map_err(|e| e.to_string())?
        .label(format!("net savings ({})", data.currency))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], NET.stroke_width(3)));
    chart
        .draw_series(net.iter().map(|&p| Circle::new(p, 5, NET.filled())))
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn hit_rate<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    if data.weeks.is_empty() {
        empty_note(area, "no build with a date: nothing to show per week")?;
    }
    let mut chart = ChartBuilder::on(area)
        .caption("Cache hit rate per ISO week", font(22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(week_axis(data.weeks.len()), 0.0..115.0)
        .map_err(|e| e.to_string())?;
    week_mesh(&mut chart, data, "hit rate of cacheable steps (%)", &|y| {
        if *y <= 100.0 {
            format!("{y:.0}")
        } else {
            String::new()
        }
    })?;
    for (i, line) in data.hit_rates.iter().enumerate() {
        let color = LINES[i % LINES.len()];
        let points: Vec<(f64, f64)> = line
            .hit_rate
            .iter()
            .enumerate()
            .filter_map(|(x, v)| v.map(|v| (x as f64, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
            .map_err(|e| e.to_string())?
            .label(line.project.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], color.stroke_width(3)));
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    if data.hit_rates.is_empty() {
        return Ok(());
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn misses<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    if data.top_steps.is_empty() {
        empty_note(area, "no step lost time to a cache miss")?;
    }
    let steps = &data.top_steps;
    let n = steps.len().max(1) as f64;
    let max = steps.iter().map(|s| s.minutes_lost).fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Top {} steps by minutes lost to cache misses", steps.len()),
            font(22),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(12)
        .build_cartesian_2d(0.0..max * 1.05, -0.5..n - 0.5)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("minutes spent executing the step (misses)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(font(15))
        .light_line_style(TRANSPARENT)
        .axis_desc_style(font(16))
        .draw()
        .map_err(|e| e.to_string())?;
    // the most costly step on top; its label above its bar
    let y = |i: usize| n - 1.0 - i as f64;
    chart
        .draw_series(steps.iter().enumerate().map(|(i, s)| {
            Rectangle::new(
                [(0.0, y(i) - 0.45), (s.minutes_lost, y(i) - 0.05)],
                STORAGE.mix(0.85).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    let label = font(15).pos(Pos::new(HPos::Left, VPos::Bottom));
    chart
        .draw_series(steps.iter().enumerate().map(|(i, s)| {
            Text::new(
                format!(
                    "{} — {} ({} misses, {:.1} min)",
                    s.project,
                    super::truncate(&s.step_key, 80),
                    s.misses,
                    s.minutes_lost
                ),
                (max * 0.005, y(i) + 0.02),
                label.clone(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn overhead<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ChartData,
) -> Result<(), String> {
    if data.weeks.is_empty() {
        empty_note(area, "no build with a date: nothing to show per week")?;
    }
    let weeks = &data.weeks;
    let (lo, hi) = range_with(weeks.iter().map(|w| w.overhead_minutes), 1.2);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Time spent in cache import and export, per ISO week",
            font(22),
        )
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(week_axis(weeks.len()), lo..hi)
        .map_err(|e| e.to_string())?;
    week_mesh(&mut chart, data, "minutes per week", &|y| format!("{y:.1}"))?;
    chart
        .draw_series(weeks.iter().enumerate().map(|(i, w)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, w.overhead_minutes)],
                OVERHEAD.filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    let label = font(14).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(weeks.iter().enumerate().map(|(i, w)| {
            Text::new(
                format!("{:.1} min", w.overhead_minutes),
                (i as f64, w.overhead_minutes),
                label.clone(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}
