//! Logs to rows: one [`StepRow`] per Dockerfile step and one [`BuildRow`] per
//! BuildKit build, made in parallel (rayon, one task per log) and kept in
//! input order, with the facts of each log (its `Context`) beside them.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate};
use rayon::prelude::*;

use super::columns::table;
use super::key::step_key;
use crate::cost;
use crate::model::{Kind, ParsedLog, Status};

/// An ISO week: its ISO year and number; written `2026-W41`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    /// The ISO year (the year of the week's Thursday).
    pub year: i32,
    /// 1 to 53.
    pub week: u32,
}

impl IsoWeek {
    /// The week of a day.
    pub fn of(date: NaiveDate) -> Self {
        let w = date.iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }

    /// Its Monday.
    pub fn monday(self) -> Option<NaiveDate> {
        NaiveDate::from_isoywd_opt(self.year, self.week, chrono::Weekday::Mon)
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

table! {
    /// A Dockerfile step of a build: a row of the `steps` table.
    pub struct StepRow, columns StepColumns = STEP {
        /// The log's number: input order, the window's logs before the history's.
        run: u32,
        /// The build's number over all logs.
        build: u32,
        /// BuildKit's vertex number.
        vertex: u32,
        /// The CodeBuild project (`-` when unknown).
        project: String,
        /// The branch built, when known.
        branch: Option<String>,
        /// The day the log's run started.
        day: Option<NaiveDate>,
        /// Its ISO week.
        week: Option<IsoWeek>,
        /// The step's identity across builds.
        step_key: String,
        /// The vertex name as BuildKit printed it.
        name: Option<String>,
        /// How it ended.
        status: Status,
        /// Its time, when BuildKit printed one.
        seconds: Option<f64>,
        /// Whether the cache could have served it.
        cacheable: bool,
        /// Cacheable and served by the cache.
        cached: bool,
        /// Whether its log is in the window (not a table column: dropped).
        in_window: bool,
        /// Whether it executed, `DONE` (not a table column: dropped).
        executed: bool,
    }
}

table! {
    /// A BuildKit build: a row of the `builds` table.
    pub struct BuildRow, columns BuildColumns = BUILD {
        /// The log's number (see [`StepRow::run`]).
        run: u32,
        /// The build's number over all logs.
        build: u32,
        /// Where the log was read.
        source: String,
        /// The build's index in its log.
        index: u32,
        /// The CodeBuild build id, when known.
        build_id: Option<String>,
        /// The CodeBuild project (`-` when unknown).
        project: String,
        /// The branch built, when known.
        branch: Option<String>,
        /// The day the log's run started.
        day: Option<NaiveDate>,
        /// Its ISO week.
        week: Option<IsoWeek>,
        /// Cacheable steps.
        cacheable: u32,
        /// Cached steps of those.
        cached: u32,
        /// Seconds of the cacheable steps that executed.
        executed_seconds: f64,
        /// Seconds spent importing cache.
        import_seconds: f64,
        /// Seconds spent exporting cache.
        export_seconds: f64,
        /// Whether a cache import failed.
        import_failed: bool,
        /// Whether its log is in the window (not a table column: dropped).
        in_window: bool,
    }
}

/// A log's facts that do not come from its steps.
pub(crate) struct Context {
    pub(crate) run: u32,
    pub(crate) source: String,
    pub(crate) build_id: Option<String>,
    pub(crate) project: String,
    pub(crate) branch: Option<String>,
    pub(crate) compute_type: String,
    pub(crate) started_ms: Option<i64>,
    pub(crate) duration_s: f64,
}

/// The rows of all logs, in input order.
pub(crate) struct Rows {
    /// One per log, by [`Context::run`].
    pub(crate) contexts: Vec<Context>,
    /// The steps of every build.
    pub(crate) steps: Vec<StepRow>,
    /// Every build.
    pub(crate) builds: Vec<BuildRow>,
}

/// Which logs a table is made of and what it needs to know of them.
pub(crate) struct Inputs<'a> {
    /// The window's logs.
    pub(crate) window: &'a [ParsedLog],
    /// Logs that only add samples of executed steps.
    pub(crate) history: &'a [ParsedLog],
    /// Window start and end, epoch ms.
    pub(crate) since_ms: Option<i64>,
    /// See `since_ms`.
    pub(crate) until_ms: Option<i64>,
    /// The compute type of logs whose run does not say.
    pub(crate) default_compute: &'a str,
}

/// The rows of every log, one rayon task per log; history logs are never
/// in the window.
pub(crate) fn rows(inputs: &Inputs<'_>) -> Rows {
    let logs: Vec<(&ParsedLog, bool)> = inputs
        .window
        .iter()
        .map(|l| (l, true))
        .chain(inputs.history.iter().map(|l| (l, false)))
        .collect();
    let mut first_build = Vec::with_capacity(logs.len());
    let mut n = 0u32;
    for (l, _) in &logs {
        first_build.push(n);
        n += l.builds.len() as u32;
    }
    let contexts: Vec<Context> = logs
        .par_iter()
        .enumerate()
        .map(|(i, (l, _))| context(l, i as u32, inputs.default_compute))
        .collect();
    let parts: Vec<(Vec<StepRow>, Vec<BuildRow>)> = logs
        .par_iter()
        .zip(&contexts)
        .zip(&first_build)
        .map(|(((l, from_window), ctx), first)| {
            let window =
                *from_window && in_window(ctx.started_ms, inputs.since_ms, inputs.until_ms);
            log_rows(l, ctx, *first, window)
        })
        .collect();
    let mut steps = Vec::with_capacity(parts.iter().map(|(s, _)| s.len()).sum());
    let mut builds = Vec::with_capacity(n as usize);
    for (s, b) in parts {
        steps.extend(s);
        builds.extend(b);
    }
    Rows {
        contexts,
        steps,
        builds,
    }
}

/// Day and ISO week of a time.
pub(crate) fn day_week(ms: Option<i64>) -> (Option<NaiveDate>, Option<IsoWeek>) {
    let day = ms
        .and_then(DateTime::from_timestamp_millis)
        .map(|d| d.date_naive());
    (day, day.map(IsoWeek::of))
}

fn in_window(ms: Option<i64>, since: Option<i64>, until: Option<i64>) -> bool {
    match ms {
        None => true,
        Some(t) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
    }
}

/// The rows of one log; `first_build` numbers its builds globally.
fn log_rows(
    log: &ParsedLog,
    ctx: &Context,
    first_build: u32,
    window: bool,
) -> (Vec<StepRow>, Vec<BuildRow>) {
    let (day, week) = day_week(ctx.started_ms);
    let mut steps = Vec::new();
    let mut builds = Vec::with_capacity(log.builds.len());
    for (i, b) in log.builds.iter().enumerate() {
        let build = first_build + i as u32;
        let first_step = steps.len();
        for s in &b.steps {
            let Some(step_key) = step_key(s) else {
                continue;
            };
            steps.push(StepRow {
                run: ctx.run,
                build,
                vertex: s.vertex,
                project: ctx.project.clone(),
                branch: ctx.branch.clone(),
                day,
                week,
                step_key,
                name: s.name.clone(),
                status: s.status,
                seconds: s.seconds,
                cacheable: s.cacheable,
                cached: s.cacheable && s.status == Status::Cached,
                in_window: window,
                executed: s.status == Status::Done,
            });
        }
        let counted = steps[first_step..].iter().filter(|s| s.cacheable);
        let (mut cacheable, mut cached, mut executed) = (0, 0, 0.0);
        for s in counted {
            cacheable += 1;
            cached += u32::from(s.cached);
            if s.executed {
                executed += s.seconds.unwrap_or(0.0);
            }
        }
        let secs = |kind: Kind| {
            let seconds = b
                .steps
                .iter()
                .filter(|s| s.kind == kind)
                .filter_map(|s| s.seconds);
            add_up(seconds)
        };
        builds.push(BuildRow {
            run: ctx.run,
            build,
            source: ctx.source.clone(),
            index: b.index as u32,
            build_id: ctx.build_id.clone(),
            project: ctx.project.clone(),
            branch: ctx.branch.clone(),
            day,
            week,
            cacheable,
            cached,
            executed_seconds: executed,
            import_seconds: secs(Kind::CacheImport),
            export_seconds: secs(Kind::CacheExport),
            import_failed: b.cache.imports.iter().any(|i| !i.ok),
            in_window: window,
        });
    }
    (steps, builds)
}

fn context(log: &ParsedLog, run: u32, default_compute: &str) -> Context {
    let meta = log.origin.metadata.as_ref();
    let build_id = log.origin.build_id.as_ref().map(ToString::to_string);
    let project = log.origin.project().unwrap_or("-").to_owned();
    let branch = log.origin.branch().map(str::to_owned);
    let phase_times = log.run.as_ref().map(|r| {
        let start = r
            .phases
            .first()
            .map(|p| p.started.and_utc().timestamp_millis());
        let end = r
            .phases
            .iter()
            .filter_map(|p| p.ended)
            .max()
            .map(|t| t.and_utc().timestamp_millis());
        (start, end)
    });
    let started_ms = meta
        .and_then(|m| m.start_time)
        .or(log.origin.first_event_ms)
        .or(phase_times.and_then(|(s, _)| s));
    let duration_s = match (
        meta.and_then(|m| m.start_time),
        meta.and_then(|m| m.end_time),
    ) {
        (Some(s), Some(e)) if e >= s => (e - s) as f64 / 1000.0,
        _ => match phase_times {
            Some((Some(s), Some(e))) if e > s => (e - s) as f64 / 1000.0,
            // no clock at all: the executed steps' time
            _ => add_up(
                log.builds
                    .iter()
                    .flat_map(|b| &b.steps)
                    .filter_map(|s| s.seconds),
            ),
        },
    };
    Context {
        run,
        source: log.source.clone(),
        build_id,
        project,
        branch,
        compute_type: meta
            .and_then(|m| {
                let c = m.compute_type.as_deref()?;
                Some(cost::billed_name(c, m.environment_type.as_deref()))
            })
            .unwrap_or_else(|| default_compute.to_owned()),
        started_ms,
        duration_s,
    }
}

/// The sum of some seconds, `0.0` (not `-0.0`, what an empty `f64` sum is) when none.
pub(crate) fn add_up(seconds: impl Iterator<Item = f64>) -> f64 {
    seconds.sum::<f64>() + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_are_numbers_written_as_iso_does() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let w = IsoWeek::of(day(2026, 10, 5));
        assert_eq!(
            (w.year, w.week, w.to_string()),
            (2026, 41, "2026-W41".into())
        );
        assert_eq!(w.monday(), Some(day(2026, 10, 5)));
        // 2027-01-01 is a Friday: the last ISO week of 2026
        assert_eq!(IsoWeek::of(day(2027, 1, 1)).to_string(), "2026-W53");
        assert_eq!(IsoWeek::of(day(2026, 3, 2)).to_string(), "2026-W10");
        assert!(IsoWeek::of(day(2026, 12, 28)) < IsoWeek::of(day(2027, 1, 4)));
    }

    #[test]
    fn no_time_at_all_is_zero_not_minus_zero() {
        let text = "#1 [1/2] FROM base\n#1 CACHED\n\n#2 [2/2] RUN a\n#2 CACHED\n";
        let window = [crate::parse::parse_log(text.as_bytes(), "a.log")];
        let rows = rows(&Inputs {
            window: &window,
            history: &[],
            since_ms: None,
            until_ms: None,
            default_compute: "general1.small",
        });
        let b = &rows.builds[0];
        for x in [
            b.import_seconds,
            b.export_seconds,
            rows.contexts[0].duration_s,
        ] {
            assert!(x == 0.0 && x.is_sign_positive(), "{x}");
        }
    }

    #[test]
    fn a_table_has_a_column_per_field_named_by_it() {
        let row = StepRow {
            run: 0,
            build: 1,
            vertex: 2,
            project: "app".into(),
            branch: None,
            day: NaiveDate::from_ymd_opt(2026, 10, 5),
            week: Some(IsoWeek {
                year: 2026,
                week: 41,
            }),
            step_key: "RUN a".into(),
            name: Some("[1/2] RUN a".into()),
            status: Status::Cached,
            seconds: None,
            cacheable: true,
            cached: true,
            in_window: true,
            executed: false,
        };
        let df = StepRow::frame(&[row]).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, STEP.all());
        let text = |c: &str| {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .map(str::to_owned)
        };
        assert_eq!(text(STEP.day).as_deref(), Some("2026-10-05"));
        assert_eq!(text(STEP.week).as_deref(), Some("2026-W41"));
        assert_eq!(text(STEP.status).as_deref(), Some("cached"));
        assert_eq!(text(STEP.branch), None);
    }
}
