//! BuildKit's `SolveStatus` objects as `--progress=rawjson` prints them:
//! `grammars/rawjson.md`. The object shape is read with serde (borrowing the
//! input); [`Trace`] merges the objects of one build into steps (rules R1–R7,
//! R9). Log data is never decoded; warnings' base64 text is.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde::Deserialize;

use crate::model::Status;

/// Why a text is not one `solve-status` object.
#[derive(Debug, thiserror::Error)]
pub enum RawJsonError {
    /// The object goes on past the end of the text (a pretty-printed object's first lines).
    #[error("the object is not finished")]
    Incomplete,
    /// Not JSON, or not a SolveStatus.
    #[error("not a SolveStatus object: {0}")]
    Invalid(#[from] serde_json::Error),
}

type Time = DateTime<FixedOffset>;

/// `solve-status`: at the top level only its four members exist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolveStatus<'a> {
    /// `vertex` objects.
    #[serde(default, borrow)]
    pub vertexes: Vec<Vertex<'a>>,
    /// `vertex-status` objects (only the vertex is read).
    #[serde(default, borrow)]
    pub statuses: Vec<Mention<'a>>,
    /// `vertex-log` objects (only the vertex is read).
    #[serde(default, borrow)]
    pub logs: Vec<Mention<'a>>,
    /// `vertex-warning` objects.
    #[serde(default, borrow)]
    pub warnings: Vec<Warning<'a>>,
}

/// `vertex`.
#[derive(Debug, Deserialize)]
pub struct Vertex<'a> {
    /// The LLB digest: the key (rule R1).
    #[serde(default, borrow)]
    pub digest: Cow<'a, str>,
    /// The vertex name (`vertex-name.ebnf`).
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    /// When it started, once it did.
    #[serde(default)]
    pub started: Option<Time>,
    /// When it completed, once it did.
    #[serde(default)]
    pub completed: Option<Time>,
    /// Served from the cache.
    #[serde(default)]
    pub cached: bool,
    /// Why it failed.
    #[serde(default, borrow)]
    pub error: Cow<'a, str>,
    /// The group it is shown in (rule R6).
    #[serde(default, borrow, rename = "progressGroup")]
    pub progress_group: Option<ProgressGroup<'a>>,
}

/// `progressGroup`.
#[derive(Debug, Deserialize)]
pub struct ProgressGroup<'a> {
    /// The group's key.
    #[serde(default, borrow)]
    pub id: Cow<'a, str>,
    /// The name shown for the group.
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    /// A weak member does not reveal the group.
    #[serde(default)]
    pub weak: bool,
}

/// The vertex a `vertex-status` or `vertex-log` is about.
#[derive(Debug, Deserialize)]
pub struct Mention<'a> {
    /// Its digest.
    #[serde(default, borrow)]
    pub vertex: Cow<'a, str>,
}

/// `vertex-warning`.
#[derive(Debug, Deserialize)]
pub struct Warning<'a> {
    /// The vertex warned about.
    #[serde(default, borrow)]
    pub vertex: Cow<'a, str>,
    /// The warning text, base64.
    #[serde(default, borrow)]
    pub short: Cow<'a, str>,
}

/// Reads one `solve-status` object (any JSON whitespace, several lines or one).
pub fn parse_status(text: &[u8]) -> Result<SolveStatus<'_>, RawJsonError> {
    serde_json::from_slice(text).map_err(|e| {
        if e.is_eof() {
            RawJsonError::Incomplete
        } else {
            RawJsonError::Invalid(e)
        }
    })
}

/// Whether `line` may start a `solve-status` object.
pub fn starts_object(line: &[u8]) -> bool {
    line.first() == Some(&b'{')
}

/// Where a pretty-printed object read line by line stands: its bracket depth
/// outside strings (rule R10). The object is parsed once, when it closes, so an
/// object of n lines costs O(n), not a parse per line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectScan {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl ObjectScan {
    /// Reads one more line; `true` when the outermost bracket closed in it.
    pub fn feed(&mut self, line: &[u8]) -> bool {
        for &b in line {
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// Whether `line` can be the next line of the object: JSON strings hold no
    /// line end, and a pretty-printed line starts with a JSON token.
    pub fn continues(&self, line: &[u8]) -> bool {
        if self.in_string {
            return false;
        }
        match line.iter().find(|b| !b.is_ascii_whitespace()) {
            None => true,
            Some(b) => b"\"{}[],:-0123456789tfn".contains(b),
        }
    }
}

/// One step made of a build's objects.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStep {
    /// Rule R2.
    pub number: u32,
    /// The vertex (or group) name.
    pub name: String,
    /// Line where the object that first named it starts (rule R10).
    pub line: u64,
    /// The vertex digest (none for a progress group).
    pub digest: Option<String>,
    /// Rule R4.
    pub status: Status,
    /// Rule R5.
    pub seconds: Option<f64>,
    /// The error, when the status is `error` or `canceled`.
    pub error: Option<String>,
}

/// The objects of one build, merged as progressui's trace merges them.
#[derive(Debug, Default)]
pub struct Trace {
    /// Digest, or group id, → index into `vertices`.
    keys: HashMap<String, usize>,
    vertices: Vec<TraceVertex>,
    /// Indexes into `vertices` in the order they were first mentioned (rule R3).
    printed: Vec<usize>,
    first_start: Option<Time>,
    last_completion: Option<Time>,
}

#[derive(Debug)]
struct TraceVertex {
    name: String,
    line: u64,
    /// Rule R3: a plain header would be printed for it.
    mentioned: bool,
    /// The latest object's state (rule R1); for a group, computed from `members`.
    started: bool,
    completed: bool,
    cached: bool,
    error: String,
    /// `started` → `completed`, one per distinct start.
    intervals: Vec<(Time, Option<Time>)>,
    /// Members of a progress group by digest (rule R6).
    members: Option<HashMap<String, Member>>,
    digest: Option<String>,
}

#[derive(Debug)]
struct Member {
    started: bool,
    weak: bool,
    cached: bool,
    error: String,
}

impl Trace {
    /// Rule R8: whether `status` names a new `load build definition` vertex
    /// beside one this build already has (the client ran BuildKit again).
    pub fn starts_new_build(&self, status: &SolveStatus<'_>) -> bool {
        status.vertexes.iter().any(|v| {
            v.name.starts_with("[internal] load build definition from ")
                && !self.keys.contains_key(v.digest.as_ref())
                && self.vertices.iter().any(|t| t.name == v.name)
        })
    }

    /// Applies one object read at `line`; returns its warnings, decoded (rule R7).
    pub fn apply(&mut self, status: &SolveStatus<'_>, line: u64) -> Vec<String> {
        for v in &status.vertexes {
            self.vertex(v, line);
        }
        for m in status.statuses.iter().chain(&status.logs) {
            self.mention_digest(&m.vertex);
        }
        let mut warnings = Vec::new();
        for w in &status.warnings {
            self.mention_digest(&w.vertex);
            if let Ok(bytes) = STANDARD.decode(w.short.as_bytes()) {
                warnings.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        warnings
    }

    fn mention_digest(&mut self, digest: &str) {
        if let Some(&i) = self.keys.get(digest) {
            self.mention(i);
        }
    }

    /// Rule R3: the vertex at `index` would have a plain header from now on.
    fn mention(&mut self, index: usize) {
        if !self.vertices[index].mentioned {
            self.vertices[index].mentioned = true;
            self.printed.push(index);
        }
    }

    /// Rules R1, R2 and R6 for one `vertex` object.
    fn vertex(&mut self, v: &Vertex<'_>, line: u64) {
        if let Some(t) = v.started {
            self.first_start = Some(self.first_start.map_or(t, |f| f.min(t)));
        }
        if let Some(t) = v.completed {
            self.last_completion = Some(self.last_completion.map_or(t, |l| l.max(t)));
        }
        let (key, name) = match &v.progress_group {
            Some(g) => (g.id.as_ref(), g.name.as_ref()),
            None => (v.digest.as_ref(), v.name.as_ref()),
        };
        let index = match self.keys.get(key) {
            Some(&i) => i,
            None => {
                self.vertices.push(TraceVertex {
                    name: name.to_owned(),
                    line,
                    mentioned: false,
                    started: false,
                    completed: false,
                    cached: false,
                    error: String::new(),
                    intervals: Vec::new(),
                    members: v.progress_group.as_ref().map(|_| HashMap::new()),
                    digest: v
                        .progress_group
                        .is_none()
                        .then(|| v.digest.clone().into_owned()),
                });
                self.keys.insert(key.to_owned(), self.vertices.len() - 1);
                self.vertices.len() - 1
            }
        };
        let t = &mut self.vertices[index];
        if let Some(start) = v.started {
            match t.intervals.iter_mut().find(|(s, _)| *s == start) {
                Some(interval) => interval.1 = v.completed,
                None => t.intervals.push((start, v.completed)),
            }
        }
        match (&mut t.members, &v.progress_group) {
            (Some(members), Some(group)) => {
                members.insert(
                    v.digest.clone().into_owned(),
                    Member {
                        started: v.started.is_some(),
                        weak: group.weak,
                        cached: v.cached,
                        error: v.error.clone().into_owned(),
                    },
                );
                let revealed = members.values().any(|m| m.started && !m.weak);
                t.cached = members.values().all(|m| m.cached);
                t.error = members
                    .values()
                    .find(|m| !m.error.is_empty())
                    .map(|m| m.error.clone())
                    .unwrap_or_default();
                let merged = merge_intervals(&t.intervals);
                t.started = !merged.is_empty();
                t.completed = merged.last().is_some_and(|(_, stop)| stop.is_some());
                if revealed {
                    self.mention(index);
                }
            }
            _ => {
                // "allow a duplicate initial vertex that shouldn't reset state"
                if t.started && v.started.is_none() {
                    return;
                }
                t.started = v.started.is_some();
                t.completed = v.completed.is_some();
                t.cached = v.cached;
                t.error = v.error.clone().into_owned();
                if t.started {
                    self.mention(index);
                }
            }
        }
    }

    /// The steps (rules R3–R5) and the wall-clock span (rule R9).
    pub fn finish(mut self) -> (Vec<TraceStep>, Option<NaiveDateTime>, Option<NaiveDateTime>) {
        // rule R3's order: by first start, as the printer shows a vertex once it
        // starts; a vertex mentioned before it started stays after the one before it
        let mut last = None;
        let mut order: Vec<(Option<Time>, usize)> = self
            .printed
            .iter()
            .map(|&i| {
                let first = self.vertices[i].intervals.iter().map(|(s, _)| *s).min();
                last = first.or(last);
                (last, i)
            })
            .collect();
        order.sort_by_key(|(at, _)| *at);
        let mut vertices: Vec<Option<TraceVertex>> = std::mem::take(&mut self.vertices)
            .into_iter()
            .map(Some)
            .collect();
        let steps = order
            .iter()
            .map(|(_, i)| i)
            .filter_map(|&i| vertices[i].take().map(|t| (i, t)))
            .map(|(i, t)| {
                let status = match (t.completed, t.error.is_empty()) {
                    (false, _) => Status::Incomplete,
                    (true, false) if t.error.ends_with("context canceled") => Status::Canceled,
                    (true, false) => Status::Error,
                    (true, true) if t.cached => Status::Cached,
                    (true, true) => Status::Done,
                };
                let seconds = (status == Status::Done && t.started)
                    .then(|| printer_seconds(&merge_intervals(&t.intervals)));
                TraceStep {
                    number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    name: t.name,
                    line: t.line,
                    digest: t.digest,
                    status,
                    seconds,
                    error: (status == Status::Error).then_some(t.error),
                }
            })
            .collect();
        (
            steps,
            self.first_start.map(|t| t.naive_utc()),
            self.last_completion.map(|t| t.naive_utc()),
        )
    }
}

/// progressui's `mergeIntervals`: sorted by start, overlapping ones joined; an
/// open interval swallows every later one.
fn merge_intervals(intervals: &[(Time, Option<Time>)]) -> Vec<(Time, Option<Time>)> {
    let mut sorted = intervals.to_vec();
    sorted.sort_by_key(|(start, _)| *start);
    let mut merged: Vec<(Time, Option<Time>)> = Vec::with_capacity(sorted.len());
    for (start, stop) in sorted {
        let Some(last) = merged.last_mut() else {
            merged.push((start, stop));
            continue;
        };
        match last.1 {
            None => break,
            Some(cur) if cur >= start => match stop {
                None => {
                    last.1 = None;
                    break;
                }
                Some(stop) if stop > cur => last.1 = Some(stop),
                Some(_) => {}
            },
            Some(_) => merged.push((start, stop)),
        }
    }
    merged
}

/// The sum of the closed intervals' seconds, as Go's `Duration.Seconds` gives
/// them, rounded as the printer's `%.1f` rounds.
fn printer_seconds(merged: &[(Time, Option<Time>)]) -> f64 {
    const NANOS: i64 = 1_000_000_000;
    let secs: f64 = merged
        .iter()
        .filter_map(|(start, stop)| stop.map(|s| (s - *start).num_nanoseconds().unwrap_or(0)))
        .map(|d| (d / NANOS) as f64 + (d % NANOS) as f64 / 1e9)
        .sum::<f64>()
        + 0.0; // an empty sum is -0.0
    format!("{secs:.1}").parse().unwrap_or(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(trace: &mut Trace, json: &str, line: u64) -> Vec<String> {
        trace.apply(&parse_status(json.as_bytes()).expect(json), line)
    }

    #[test]
    fn objects_one_per_line_and_pretty_printed() {
        let s = parse_status(br#"{"vertexes":[{"digest":"sha256:a","name":"[1/2] FROM x","started":"2024-01-01T12:00:00.5Z"}]}"#).unwrap();
        assert_eq!(s.vertexes[0].name, "[1/2] FROM x");
        assert!(s.vertexes[0].started.is_some());
        let pretty = "{\n  \"vertexes\": [\n    {\n      \"digest\": \"sha256:a\",\n      \"name\": \"x\u{3e}\"\n    }\n  ]\n}";
        assert!(matches!(
            parse_status(&pretty.as_bytes()[..20]),
            Err(RawJsonError::Incomplete)
        ));
        assert_eq!(
            parse_status(pretty.as_bytes()).unwrap().vertexes[0].name,
            "x>"
        );
        assert!(matches!(parse_status(b"{}"), Ok(SolveStatus { .. })));
        for not in [
            &br#"{"id":"buildx_step_1","status":"START"}"#[..],
            b"#1 DONE 0.1s",
            b"{\"vertexes\": 3}",
        ] {
            assert!(
                matches!(parse_status(not), Err(RawJsonError::Invalid(_))),
                "{}",
                String::from_utf8_lossy(not)
            );
        }
    }

    /// BuildKit's own cases (`progressui/display_test.go`, TestMergeIntervals),
    /// less those with an unstarted interval, which a trace never holds.
    #[test]
    fn merge_intervals_as_progressui() {
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap().fixed_offset();
        let c = |a: i64, b: i64| (at(a), Some(at(b)));
        let o = |a: i64| (at(a), None);
        let cases = [
            (vec![], vec![]),
            (vec![c(0, 1)], vec![c(0, 1)]),
            (vec![c(2, 4), c(2, 4)], vec![c(2, 4)]),
            (
                vec![c(0, 1), c(2, 3), c(7, 8)],
                vec![c(0, 1), c(2, 3), c(7, 8)],
            ),
            (vec![c(0, 10), c(1, 2), c(4, 9), c(9, 10)], vec![c(0, 10)]),
            (
                vec![c(0, 3), c(2, 5), c(4, 8), c(10, 12), c(11, 14)],
                vec![c(0, 8), c(10, 14)],
            ),
            (
                vec![
                    c(0, 2),
                    c(2, 4),
                    c(4, 6),
                    c(8, 10),
                    c(10, 12),
                    c(11, 12),
                    c(11, 14),
                ],
                vec![c(0, 6), c(8, 14)],
            ),
            (vec![c(0, 5), o(6)], vec![c(0, 5), o(6)]),
            (vec![o(1), c(3, 5)], vec![o(1)]),
            (
                vec![
                    c(0, 2),
                    c(1, 4),
                    c(1, 4),
                    c(1, 5),
                    c(6, 20),
                    c(8, 10),
                    c(8, 10),
                    c(9, 10),
                    c(12, 14),
                    c(19, 21),
                    c(30, 31),
                    c(32, 35),
                    o(33),
                ],
                vec![c(0, 5), c(6, 21), c(30, 31), o(32)],
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(merge_intervals(&input), expected, "{input:?}");
        }
    }

    #[test]
    fn vertexes_merge_by_digest_and_number_by_first_sight() {
        let mut t = Trace::default();
        apply(
            &mut t,
            r#"{"vertexes":[{"digest":"sha256:b","name":"[2/2] RUN a"},{"digest":"sha256:a","name":"[1/2] FROM x"},{"digest":"sha256:c","name":"[3/3] RUN never"}]}"#,
            1,
        );
        apply(
            &mut t,
            r#"{"vertexes":[{"digest":"sha256:a","name":"[1/2] FROM x","started":"2024-01-01T12:00:00Z","completed":"2024-01-01T12:00:00.01Z","cached":true}]}"#,
            2,
        );
        apply(
            &mut t,
            r#"{"vertexes":[{"digest":"sha256:b","name":"[2/2] RUN a","started":"2024-01-01T12:00:01Z"}]}"#,
            3,
        );
        // a duplicate announce does not undo the start
        apply(
            &mut t,
            r#"{"vertexes":[{"digest":"sha256:b","name":"[2/2] RUN a"}],"logs":[{"vertex":"sha256:b","stream":1,"data":"aGkK","timestamp":"2024-01-01T12:00:01.1Z"}]}"#,
            4,
        );
        apply(
            &mut t,
            r#"{"vertexes":[{"digest":"sha256:b","name":"[2/2] RUN a","started":"2024-01-01T12:00:01Z","completed":"2024-01-01T12:00:03.25Z"}]}"#,
            5,
        );
        let (steps, first, last) = t.finish();
        assert_eq!(steps.len(), 2, "the never-started vertex is no step");
        // printed (and listed) when first started: the cached FROM first
        assert_eq!((steps[0].number, steps[0].status), (2, Status::Cached));
        assert_eq!(steps[0].seconds, None);
        assert_eq!((steps[1].number, steps[1].status), (1, Status::Done));
        assert_eq!(steps[1].seconds, Some(2.2), "%.1f of 2.25 rounds to even");
        assert_eq!(steps[1].line, 1);
        assert_eq!(first.unwrap().to_string(), "2024-01-01 12:00:00");
        assert_eq!(last.unwrap().to_string(), "2024-01-01 12:00:03.250");
    }

    #[test]
    fn intervals_are_summed_and_errors_split() {
        let mut t = Trace::default();
        let v = |start: &str, stop: &str, error: &str| {
            format!(
                r#"{{"vertexes":[{{"digest":"sha256:a","name":"[internal] load build context","started":"{start}","completed":"{stop}","error":"{error}"}}]}}"#
            )
        };
        apply(
            &mut t,
            &v("2024-01-01T12:00:00Z", "2024-01-01T12:00:01Z", ""),
            1,
        );
        apply(
            &mut t,
            &v("2024-01-01T12:00:05Z", "2024-01-01T12:00:05.5Z", ""),
            2,
        );
        let (steps, ..) = t.finish();
        assert_eq!(steps[0].seconds, Some(1.5));
        let mut t = Trace::default();
        apply(
            &mut t,
            &v(
                "2024-01-01T12:00:00Z",
                "2024-01-01T12:00:01Z",
                "rpc error: context canceled",
            ),
            1,
        );
        assert_eq!(t.finish().0[0].status, Status::Canceled);
        let mut t = Trace::default();
        apply(
            &mut t,
            &v(
                "2024-01-01T12:00:00Z",
                "2024-01-01T12:00:01Z",
                "exit code: 1",
            ),
            1,
        );
        let (steps, ..) = t.finish();
        assert_eq!(
            (steps[0].status, steps[0].error.as_deref()),
            (Status::Error, Some("exit code: 1"))
        );
    }

    #[test]
    fn progress_groups_and_warnings() {
        let mut t = Trace::default();
        let member = |d: &str, weak: bool, cached: bool| {
            format!(
                r#"{{"digest":"{d}","name":"m","started":"2024-01-01T12:00:00Z","completed":"2024-01-01T12:00:01Z","cached":{cached},"progressGroup":{{"id":"g1","name":"[2/3] COPY --link a b","weak":{weak}}}}}"#
            )
        };
        apply(
            &mut t,
            &format!(r#"{{"vertexes":[{}]}}"#, member("sha256:w", true, true)),
            1,
        );
        assert!(!t.vertices[0].mentioned, "only weak members: hidden");
        let w = apply(
            &mut t,
            &format!(
                r#"{{"vertexes":[{}],"warnings":[{{"vertex":"sha256:w","level":1,"short":"SnNvbkFyZ3NSZWNvbW1lbmRlZA=="}}]}}"#,
                member("sha256:s", false, true)
            ),
            2,
        );
        assert_eq!(w, ["JsonArgsRecommended"]);
        let (steps, ..) = t.finish();
        assert_eq!(steps.len(), 1);
        assert_eq!(
            (steps[0].name.as_str(), steps[0].status),
            ("[2/3] COPY --link a b", Status::Cached)
        );
        assert_eq!(steps[0].digest, None);
    }

    #[test]
    fn a_second_invocation_is_seen() {
        let mut t = Trace::default();
        let def = |d: &str| {
            parse_status(format!(r#"{{"vertexes":[{{"digest":"{d}","name":"[internal] load build definition from Dockerfile"}}]}}"#).as_bytes().to_vec().leak()).unwrap()
        };
        assert!(!t.starts_new_build(&def("sha256:1")));
        t.apply(&def("sha256:1"), 1);
        assert!(!t.starts_new_build(&def("sha256:1")));
        assert!(t.starts_new_build(&def("sha256:2")));
    }
}
