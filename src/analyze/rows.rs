//! Logs to rows: one [`StepRow`] per Dockerfile step and one [`BuildRow`] per
//! BuildKit build, made in parallel (rayon, one task per log) and kept in
//! input order, with the facts of each log (its `Context`) beside them.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate};
use rayon::prelude::*;

use super::columns::table;
use super::hit_origin::HitOrigin;
use super::key::step_key;
use super::shared::Shared;
use crate::cost;
use crate::model::{Build, Kind, ParsedLog, Status};

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
        project: Arc<str>,
        /// The branch built, when known.
        branch: Option<Arc<str>>,
        /// The day the log's run started.
        day: Option<NaiveDate>,
        /// Its ISO week.
        week: Option<IsoWeek>,
        /// The step's identity across builds.
        step_key: Arc<str>,
        /// The vertex name as BuildKit printed it.
        name: Option<Arc<str>>,
        /// How it ended.
        status: Status,
        /// Its time, when BuildKit printed one.
        seconds: Option<f64>,
        /// Whether the cache could have served it.
        cacheable: bool,
        /// Cacheable and served by the cache.
        cached: bool,
        /// Layers BuildKit fetched for it (0: none printed).
        fetch_layers: u32,
        /// Their bytes, when printed.
        fetch_bytes: Option<i64>,
        /// Their seconds, added up, when it fetched any.
        fetch_seconds: Option<f64>,
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
        source: Arc<str>,
        /// The build's index in its log.
        index: u32,
        /// The CodeBuild build id, when known.
        build_id: Option<Arc<str>>,
        /// The CodeBuild project (`-` when unknown).
        project: Arc<str>,
        /// The branch built, when known.
        branch: Option<Arc<str>>,
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
        /// Layers its cacheable steps fetched.
        fetch_layers: u32,
        /// Their bytes, as far as printed.
        fetch_bytes: f64,
        /// Of those layers, the ones fetched by a step that printed no size.
        fetch_layers_unsized: u32,
        /// Their seconds, added up.
        fetch_seconds: f64,
        /// Where its hits came from (see [`HitOrigin`]).
        hit_origin: &'static str,
        /// Whether a cache import failed.
        import_failed: bool,
        /// Whether its log is in the window (not a table column: dropped).
        in_window: bool,
    }
}

/// A log's facts that do not come from its steps.
pub(crate) struct Context {
    pub(crate) run: u32,
    pub(crate) source: Arc<str>,
    pub(crate) build_id: Option<Arc<str>>,
    pub(crate) project: Arc<str>,
    pub(crate) branch: Option<Arc<str>>,
    pub(crate) compute_type: Arc<str>,
    pub(crate) started_ms: Option<i64>,
    pub(crate) duration_s: f64,
}

/// The rows of all logs, in input order, kept log by log (a report of
/// 100,000 runs would hold them twice while they were put in one vector).
pub(crate) struct Rows {
    /// One per log, by [`Context::run`].
    pub(crate) contexts: Vec<Context>,
    logs: Vec<LogSteps>,
    /// The number of the next log's first build.
    next_build: u32,
}

/// The steps and builds of one log.
struct LogSteps {
    steps: Vec<StepRow>,
    builds: Vec<BuildRow>,
}

impl Extend<LogRows> for Rows {
    fn extend<I: IntoIterator<Item = LogRows>>(&mut self, logs: I) {
        for log in logs {
            self.push(log);
        }
    }
}

impl Rows {
    /// Room for the rows of `logs` logs (100,000 logs: a vector grown by
    /// doubling held its old and new room at once, 20 MB).
    pub(crate) fn with_capacity(logs: usize) -> Self {
        Rows {
            contexts: Vec::with_capacity(logs),
            logs: Vec::with_capacity(logs),
            next_build: 0,
        }
    }

    /// Adds the rows of the next log, numbering its run and builds after the
    /// ones already there.
    pub(crate) fn push(&mut self, log: LogRows) {
        let LogRows {
            mut context,
            rows: LogSteps {
                mut steps,
                mut builds,
            },
        } = log;
        let run = self.contexts.len() as u32;
        let first_build = self.next_build;
        self.next_build += builds.len() as u32;
        context.run = run;
        for s in &mut steps {
            s.run = run;
            s.build += first_build;
        }
        for b in &mut builds {
            b.run = run;
            b.build += first_build;
        }
        self.contexts.push(context);
        self.logs.push(LogSteps { steps, builds });
    }

    /// The steps of every build, in order.
    pub(crate) fn steps(&self) -> impl Iterator<Item = &StepRow> + Clone {
        self.logs.iter().flat_map(|l| &l.steps)
    }

    /// Every build, in order.
    pub(crate) fn builds(&self) -> impl Iterator<Item = &BuildRow> + Clone {
        self.logs.iter().flat_map(|l| &l.builds)
    }
}

/// The rows of one log, its run and builds numbered as if it were the first
/// ([`Rows::push`] numbers them among all logs).
pub(crate) struct LogRows {
    context: Context,
    rows: LogSteps,
}

/// How rows are made: the window, and the text they share.
pub(crate) struct RowMaker {
    /// Window start and end, epoch ms.
    pub(crate) since_ms: Option<i64>,
    /// See `since_ms`.
    pub(crate) until_ms: Option<i64>,
    /// The compute type of logs whose run does not say.
    pub(crate) default_compute: Arc<str>,
    /// Projects, branches, step keys and names, one copy each.
    pub(crate) shared: Shared,
}

impl RowMaker {
    /// Rows of the window and compute type of `options`.
    pub(crate) fn new(options: &super::frames::Options<'_>) -> Self {
        RowMaker {
            since_ms: options.since_ms,
            until_ms: options.until_ms,
            default_compute: super::billing::default_compute_type(options).into(),
            shared: Shared::default(),
        }
    }

    /// The rows of `log`, in the window when `from_window` and its run's
    /// start is inside it (history logs are never in the window).
    pub(crate) fn log(&self, log: &ParsedLog, from_window: bool) -> LogRows {
        let context = context(log, self);
        let window = from_window && in_window(context.started_ms, self.since_ms, self.until_ms);
        let rows = log_rows(log, &context, window, &self.shared);
        LogRows { context, rows }
    }

    /// The rows of every log, one rayon task per log: `window`'s, then `history`'s.
    pub(crate) fn rows(&self, window: &[ParsedLog], history: &[ParsedLog]) -> Rows {
        let logs: Vec<(&ParsedLog, bool)> = window
            .iter()
            .map(|l| (l, true))
            .chain(history.iter().map(|l| (l, false)))
            .collect();
        let parts: Vec<LogRows> = logs
            .par_iter()
            .map(|(l, from_window)| self.log(l, *from_window))
            .collect();
        let mut rows = Rows::with_capacity(parts.len());
        rows.extend(parts);
        rows
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

/// The rows of one log, its builds numbered from 0.
fn log_rows(log: &ParsedLog, ctx: &Context, window: bool, shared: &Shared) -> LogSteps {
    let (day, week) = day_week(ctx.started_ms);
    let mut steps = Vec::with_capacity(log.builds.iter().map(|b| b.steps.len()).sum());
    let mut builds = Vec::with_capacity(log.builds.len());
    for (i, b) in log.builds.iter().enumerate() {
        let build = i as u32;
        let first_step = steps.len();
        for s in &b.steps {
            let Some(step_key) = step_key(s) else {
                continue;
            };
            steps.push(StepRow {
                run: ctx.run,
                build,
                vertex: s.vertex,
                project: Arc::clone(&ctx.project),
                branch: ctx.branch.clone(),
                day,
                week,
                step_key: shared.get(&step_key),
                name: s.name.as_deref().map(|n| shared.get(n)),
                status: s.status,
                seconds: s.seconds,
                cacheable: s.cacheable,
                cached: s.cacheable && s.status == Status::Cached,
                fetch_layers: s.fetch.as_ref().map_or(0, |f| f.layers),
                fetch_bytes: s.fetch.as_ref().and_then(|f| i64::try_from(f.bytes?).ok()),
                fetch_seconds: s.fetch.as_ref().map(|f| f.seconds),
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
        let (fetch_bytes, fetch_layers_unsized) = fetched_sizes(b);
        builds.push(BuildRow {
            run: ctx.run,
            build,
            source: ctx.source.clone(),
            index: b.index as u32,
            build_id: ctx.build_id.clone(),
            project: Arc::clone(&ctx.project),
            branch: ctx.branch.clone(),
            day,
            week,
            cacheable,
            cached,
            executed_seconds: executed,
            import_seconds: secs(Kind::CacheImport),
            export_seconds: secs(Kind::CacheExport),
            fetch_layers: b.cache.fetch.layers,
            fetch_bytes,
            fetch_layers_unsized,
            fetch_seconds: b.cache.fetch.seconds + 0.0,
            hit_origin: HitOrigin::of(b).as_str(),
            import_failed: b.cache.imports.iter().any(|i| !i.ok),
            in_window: window,
        });
    }
    // kept until the tables are made
    steps.shrink_to_fit();
    LogSteps { steps, builds }
}

/// The bytes a build's cacheable steps fetched as far as printed, and the
/// layers of the steps that printed no size.
fn fetched_sizes(b: &Build) -> (f64, u32) {
    let (mut bytes, mut unsized_layers) = (0.0, 0);
    for f in b.cacheable().filter_map(|s| s.fetch.as_ref()) {
        match f.bytes {
            Some(n) => bytes += n as f64,
            None => unsized_layers += f.layers,
        }
    }
    (bytes, unsized_layers)
}

/// The facts of `log` beside its steps, numbered as the first run.
fn context(log: &ParsedLog, maker: &RowMaker) -> Context {
    let meta = log.origin.metadata.as_ref();
    let build_id = log.origin.build_id.as_ref().map(|id| id.to_string().into());
    let project = maker.shared.get(log.origin.project().unwrap_or("-"));
    let branch = log.origin.branch().map(|b| maker.shared.get(b));
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
        run: 0,
        source: log.source.as_str().into(),
        build_id,
        project,
        branch,
        compute_type: meta
            .and_then(|m| {
                let c = m.compute_type.as_deref()?;
                Some(
                    maker
                        .shared
                        .get(&cost::billed_name(c, m.environment_type.as_deref())),
                )
            })
            .unwrap_or_else(|| Arc::clone(&maker.default_compute)),
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
        let rows = RowMaker {
            since_ms: None,
            until_ms: None,
            default_compute: "general1.small".into(),
            shared: Shared::default(),
        }
        .rows(&window, &[]);
        let b = rows.builds().next().unwrap();
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
            fetch_layers: 0,
            fetch_bytes: None,
            fetch_seconds: None,
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
