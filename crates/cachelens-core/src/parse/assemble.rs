//! Classified lines into builds and steps: the assembler rules A1–A6 at the
//! end of `grammars/buildkit-plain.ebnf`, C1–C3 of `codebuild.ebnf`, R8–R10
//! of `rawjson.md` and T1–T3 of `buildkit-tty.ebnf`. Each line loses its CI
//! framing (`ci-framing.ebnf`) first, then is read in the format its shape
//! says (or the one `FormatIn` forces).

use super::codebuild::{self, AgentEvent, AgentLine, parse_agent_line};
use super::fetch::Layers;
use super::framing::Framed;
use super::plain::{
    Body, Client, Line, Recap, Terminal, context_transfer, fetch_status, is_status, parse_line,
};
use super::rawjson::{ObjectScan, RawJsonError, SolveStatus, Trace, parse_status, starts_object};
use super::stream::{LogParser, Parsed};
use super::tty::{Frames, TtyLine, parse_tty_line};
use super::vertex_name::{VertexName, parse_vertex_name};
use super::{FormatIn, ParseOptions};
use crate::model::{
    Build, Cache, CacheExport, CacheImport, ContextTransfer, FetchTotals, Format, Framing, Kind,
    MAX_REFUSED, Origin, ParsedLog, Refused, Run, Status, Step, WallClock, hit_rate,
};

/// Parses a whole log in every format, redacted. Pure: no I/O, never fails, never panics.
pub fn parse_log(input: &[u8], source: &str) -> ParsedLog {
    parse_log_with(input, source, &ParseOptions::default())
}

/// Parses a whole log in the formats `format` allows, redacted.
pub fn parse_log_as(input: &[u8], source: &str, format: FormatIn) -> ParsedLog {
    parse_log_with(
        input,
        source,
        &ParseOptions {
            format,
            ..ParseOptions::default()
        },
    )
}

/// Parses a whole log as `options` say (a [`LogParser`] given it in one
/// piece), as one record: where it holds several CodeBuild runs (rule C5),
/// their records are put together ([`parse_logs_with`] keeps them apart).
pub fn parse_log_with(input: &[u8], source: &str, options: &ParseOptions) -> ParsedLog {
    let (mut earlier, mut builds) = (None::<ParsedLog>, Vec::new());
    let mut take = |p: Parsed| match p {
        Parsed::Build(b) => builds.push(b),
        Parsed::Log(log) => match &mut earlier {
            Some(whole) => whole.append(log),
            None => earlier = Some(log),
        },
    };
    let mut parser = LogParser::new(source, options);
    parser.push(input, &mut take);
    let last = parser.finish(&mut take);
    let mut log = match earlier {
        Some(mut whole) => {
            whole.append(last);
            whole
        }
        None => last,
    };
    log.builds = builds;
    log
}

/// Parses a whole log as `options` say: one record for each CodeBuild run it
/// holds one after another (rule C5), or for the whole, in input order.
pub fn parse_logs_with(input: &[u8], source: &str, options: &ParseOptions) -> Vec<ParsedLog> {
    let (mut logs, mut builds) = (Vec::new(), Vec::new());
    let mut take = |p: Parsed| match p {
        Parsed::Build(b) => builds.push(b),
        Parsed::Log(mut log) => {
            log.builds = std::mem::take(&mut builds);
            logs.push(log);
        }
    };
    let mut parser = LogParser::new(source, options);
    parser.push(input, &mut take);
    let mut last = parser.finish(&mut take);
    last.builds = builds;
    logs.push(last);
    logs
}

/// Where the end-of-build error recap stands (rule A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecapState {
    /// No recap block seen since the last vertex line.
    None,
    /// Inside `------` … `------`: every line is the failed vertex's output.
    Open,
    /// After a closing `------` or a Dockerfile excerpt: the client's error line may follow.
    Closed,
}

#[derive(Debug, Default)]
struct VertexState {
    number: u32,
    name: Option<String>,
    header_line: u64,
    digest: Option<String>,
    status: Option<Status>,
    seconds: Option<f64>,
    error: Option<String>,
    /// Line of the last `#N ERROR:` line.
    error_line: Option<u64>,
    /// The last `transferring context:` status line (rule A7: kept only for that shape).
    context: Option<ContextTransfer>,
    /// Its fetch statuses, layer by layer (rule A10).
    layers: Layers,
    /// Lines seen for this vertex (counted as unparsed if no header ever names it).
    lines: u64,
    /// The first of them.
    first_line: u64,
}

#[derive(Debug)]
struct BuildState {
    /// Vertex number → index + 1 into `vertices` (0: not seen).
    slots: Vec<u32>,
    vertices: Vec<VertexState>,
    /// Indexes into `vertices` in the order of their first header.
    named: Vec<usize>,
    max_vertex: u32,
    first_line: u64,
    last_line: u64,
    unparsed: u64,
    first_unparsed: Option<u64>,
    error: Option<String>,
    warnings: Vec<String>,
    phase: Option<String>,
    command: Option<String>,
    format: Format,
    framing: Option<Framing>,
    started_at: Option<WallClock>,
    ended_at: Option<WallClock>,
    /// The rawjson objects of the build (format rawjson).
    trace: Option<Trace>,
    /// The frames of the build (format tty).
    frames: Option<Frames>,
    /// A client error closed the build: the next vertex line starts another (rule A4).
    closed: bool,
    /// The names the error recap gave its blocks (rule A6).
    recap_titles: Vec<String>,
}

impl BuildState {
    fn vertex(&mut self, number: u32) -> &mut VertexState {
        let slot = number as usize;
        if slot >= self.slots.len() {
            self.slots.resize(slot + 1, 0);
        }
        if self.slots[slot] == 0 {
            self.vertices.push(VertexState {
                number,
                ..VertexState::default()
            });
            self.slots[slot] = self.vertices.len() as u32;
            self.max_vertex = self.max_vertex.max(number);
        }
        let index = self.slots[slot] as usize - 1;
        &mut self.vertices[index]
    }

    /// Keeps a warning once: buildx lists the `WARN:` lines again at the end.
    fn warn(&mut self, text: String) {
        if !self.warnings.contains(&text) {
            self.warnings.push(text);
        }
    }

    fn has_vertices(&self) -> bool {
        !self.vertices.is_empty()
    }

    /// Whether vertex `n` has a header and a terminal line already.
    fn is_done(&self, n: u32) -> bool {
        self.slots.get(n as usize).is_some_and(|&slot| {
            slot > 0 && {
                let v = &self.vertices[slot as usize - 1];
                v.name.is_some() && v.status.is_some()
            }
        })
    }
}

/// The first lines of a pretty-printed rawjson object (rule R10).
struct JsonObject {
    first_line: u64,
    lines: u64,
    text: Vec<u8>,
    /// Where the object stands: it is parsed once, when it closes.
    scan: ObjectScan,
}

/// What the lines of a rawjson object read so far make.
enum JsonRead<'t> {
    /// A whole SolveStatus object.
    Status(SolveStatus<'t>),
    /// An object still open.
    More,
    /// No object.
    Invalid,
}

/// Lines into builds: each build is queued in `out` when it ends, and so is
/// each log but the last (a CodeBuild run, rule C5).
pub(super) struct Assembler {
    source: String,
    format_in: FormatIn,
    json: Option<JsonObject>,
    /// Builds and logs ended and not yet handed on.
    pub(super) out: Vec<Parsed>,
    /// Builds ended so far.
    ended: usize,
    current: Option<BuildState>,
    /// Vertex number of the previous line when it was a vertex line of the same block (rule A1).
    block: Option<u32>,
    recap: RecapState,
    /// Unparsed lines since the last line that belongs to the current build.
    pending: u64,
    pending_first: Option<u64>,
    /// Of `pending`, the lines shaped like BuildKit's (see [`ParsedLog::unparsed_outside_shaped`]).
    pending_shaped: u64,
    unparsed_outside: u64,
    unparsed_outside_shaped: u64,
    errors_outside: Vec<(u64, String)>,
    lines: u64,
    /// The last line of the previous log (rule C5), 0 for the first.
    log_start: u64,
    run: Option<Run>,
    /// Framing and wall-clock time of the line being read.
    framing: Option<Framing>,
    time: Option<WallClock>,
    /// A pretty-printed rawjson object longer than this is given up (rule R10).
    pub(super) max_object: usize,
    pub(super) refused: Vec<Refused>,
}

impl Assembler {
    pub(super) fn new(source: &str, format_in: FormatIn) -> Self {
        Assembler {
            source: source.to_owned(),
            format_in,
            json: None,
            out: Vec::new(),
            ended: 0,
            current: None,
            block: None,
            recap: RecapState::None,
            pending: 0,
            pending_first: None,
            pending_shaped: 0,
            unparsed_outside: 0,
            unparsed_outside_shaped: 0,
            errors_outside: Vec::new(),
            lines: 0,
            log_start: 0,
            run: None,
            framing: None,
            time: None,
            max_object: super::DEFAULT_MAX_LINE,
            refused: Vec::new(),
        }
    }

    /// Keeps what was refused (a bounded number of them).
    pub(super) fn refuse(&mut self, what: Refused) {
        if self.refused.len() < MAX_REFUSED {
            self.refused.push(what);
        }
    }

    /// A line no rule reads (too long, binary): unparsed.
    pub(super) fn skip(&mut self, number: u64) {
        self.lines = number;
        self.block = None;
        if let Some(p) = self.json.take() {
            self.unparsed(p.first_line, p.lines, &p.text);
        }
        // told apart as refused (`ParsedLog::refused`), not as shaped
        self.pending += 1;
        self.pending_first.get_or_insert(number);
    }

    #[inline]
    pub(super) fn line(&mut self, number: u64, framed: Framed<'_>) {
        self.lines = number;
        self.framing = framed.framing;
        self.time = framed.time;
        if framed.continuation {
            // ci-framing rule F6: the rest of a line the framer could not join
            // (the region started with it): part of a line already read
            return;
        }
        if framed.own {
            // the CI's own line (ci-framing rule F5): a block ends as at a blank line
            self.block = None;
            return;
        }
        // CodeBuild's agent prefix on command output: the agent's own events keep
        // their meaning, the rest is the command's (rule C4)
        if framed.framing == Some(Framing::CodeBuild)
            && !framed.content.starts_with(b"[Container] ")
            && let Some(agent) = parse_agent_line(framed.line)
            && !matches!(agent.event, AgentEvent::Other)
        {
            return self.agent_line(number, &agent);
        }
        let line = framed.content;
        // which format reads the line: its first byte tells every plain vertex line at once
        match line.first() {
            Some(b'#') | None => {}
            Some(b'[') if line.starts_with(b"[Container] ") => {
                if let Some(agent) = parse_agent_line(line) {
                    return self.agent_line(number, &agent);
                }
            }
            Some(&first) => {
                if self.format_in.accepts(Format::Rawjson)
                    && self.recap != RecapState::Open
                    && (self.json.is_some() || first == b'{')
                    && (self.json_line(number, line)
                        || starts_object(line) && self.json_line(number, line))
                {
                    return;
                }
                if matches!(first, b'[' | b' ')
                    && self.format_in.accepts(Format::Tty)
                    && self.recap != RecapState::Open
                    && let Some(tty) = parse_tty_line(line)
                    && self.tty_line(number, tty)
                {
                    return;
                }
            }
        }
        match parse_line(line) {
            Line::Blank => self.block = None,
            // rule A6: the recap of a v0.8 tty display repeats `#N` output lines
            Line::Vertex(..) if self.recap == RecapState::Open => self.belongs_if_any(number),
            Line::Vertex(n, body) if self.format_in.accepts(Format::Plain) => {
                self.vertex_line(number, n, body)
            }
            Line::Vertex(..) => self.text_line(number, line),
            Line::Recap(recap) => self.recap_line(number, line, recap),
            Line::Client(client) => self.client_line(number, client),
            Line::Text(text) => self.text_line(number, text),
        }
    }

    #[inline]
    fn vertex_line(&mut self, number: u64, n: u32, body: Body<'_>) {
        self.recap = RecapState::None;
        // a block's first line names its vertex, unless it is a progress status (a fragment)
        let is_header =
            self.block != Some(n) && matches!(body, Body::Named(text) if !is_status(text));
        self.block = Some(n);
        if self.starts_build(n, is_header) {
            self.start_build(number);
        }
        let build = self.belongs(number);
        if n == 0 {
            // buildx's own line ("#0 building with …"): it starts a build, it is no step;
            // BuildKit v0.11's `#0 <secs> <text>` lines are the running vertex's output
            return;
        }
        let vertex = build.vertex(n);
        if vertex.lines == 0 {
            vertex.first_line = number;
        }
        vertex.lines += 1;
        match body {
            Body::Named(text) if is_header && vertex.name.is_none() => {
                vertex.name = Some(lossy(text));
                vertex.header_line = number;
                let index = build.slots[n as usize] as usize - 1;
                build.named.push(index);
            }
            Body::Terminal(t) => {
                let (status, seconds, error) = match t {
                    Terminal::Cached => (Status::Cached, None, None),
                    Terminal::Done(secs) => (Status::Done, secs, None),
                    Terminal::Error(msg) => (Status::Error, None, Some(lossy(msg))),
                    Terminal::Canceled => (Status::Canceled, None, None),
                };
                // rule A3: the last terminal line wins
                vertex.error_line = error.as_ref().map(|_| number);
                vertex.status = Some(status);
                vertex.seconds = seconds;
                vertex.error = error;
            }
            Body::Digest(d) if vertex.digest.is_none() => vertex.digest = Some(lossy(d)),
            // rule A10: a layer fetched for the vertex
            Body::Named(text) if !is_header && let Some(f) = fetch_status(text) => {
                vertex.layers.record(&f);
            }
            // rule A7: the context size is kept for the miss diagnosis
            Body::Named(text) if !is_header => {
                if let Some((size, bytes)) = context_transfer(text) {
                    vertex.context = Some(ContextTransfer {
                        size: lossy(size),
                        bytes,
                        line: number,
                        text: format!("#{n} {}", lossy(text)),
                    });
                }
            }
            Body::Warning(w) => build.warn(lossy(w)),
            Body::Named(_) | Body::Digest(_) | Body::Log | Body::Interruption => {}
        }
    }

    /// A CodeBuild agent line (rules C1, C2 of `codebuild.ebnf`).
    fn agent_line(&mut self, number: u64, agent: &AgentLine<'_>) {
        self.block = None;
        self.recap = RecapState::None;
        if self
            .run
            .as_ref()
            .is_some_and(|run| codebuild::starts_run(run, agent))
        {
            // rule C5: another run, another log
            let log = self.take_log(number - 1);
            self.out.push(Parsed::Log(log));
        }
        codebuild::apply(self.run.get_or_insert_default(), agent, number);
        if matches!(
            agent.event,
            AgentEvent::RunningCommand(_) | AgentEvent::CommandFailed(..)
        ) && let Some(build) = &mut self.current
        {
            build.closed = true;
        }
    }

    /// Rule A4.
    fn starts_build(&self, n: u32, is_header: bool) -> bool {
        let Some(build) = &self.current else {
            return true;
        };
        build.closed
            || build.format != Format::Plain
            || (n == 0 && is_header && build.has_vertices())
            || (is_header && build.max_vertex >= 3 && (n == 1 || (n == 2 && build.is_done(2))))
    }

    /// A line of a rawjson object, or the first line of one (rule R10); `false`
    /// when the lines before it were no object after all: it is then to be read
    /// as a line of its own.
    fn json_line(&mut self, number: u64, line: &[u8]) -> bool {
        self.block = None;
        self.recap = RecapState::None;
        let mut pending = self.json.take();
        let first = pending.as_ref().map_or(number, |p| p.first_line);
        let read = match &mut pending {
            None => match parse_status(line) {
                Ok(status) => JsonRead::Status(status),
                Err(RawJsonError::Incomplete) => JsonRead::More,
                Err(_) => JsonRead::Invalid,
            },
            // a line no pretty-printed object holds: the lines before were no object
            Some(p) if !p.scan.continues(line) => {
                self.unparsed(p.first_line, p.lines, &p.text);
                return false;
            }
            Some(p) => {
                p.text.push(b'\n');
                p.text.extend_from_slice(line);
                p.lines += 1;
                // parsed once, when the object closes: linear in the object's size
                if p.scan.feed(line) {
                    parse_status(&p.text).map_or(JsonRead::Invalid, JsonRead::Status)
                } else {
                    JsonRead::More
                }
            }
        };
        match read {
            JsonRead::Status(status) => {
                // rule R8 (a rawjson build has its trace from its first object on)
                let new = self.current.as_ref().is_none_or(|b| {
                    b.closed || b.trace.as_ref().is_none_or(|t| t.starts_new_build(&status))
                });
                if new {
                    self.end_build();
                    self.current = Some(new_build(
                        self.run.as_ref(),
                        first,
                        self.framing,
                        Format::Rawjson,
                    ));
                }
                let build = self.belongs(number);
                let warnings = build.trace.get_or_insert_default().apply(&status, first);
                for w in warnings {
                    build.warn(w);
                }
            }
            JsonRead::More => {
                let object = pending.unwrap_or_else(|| {
                    let mut scan = ObjectScan::default();
                    let closed = scan.feed(line);
                    JsonObject {
                        first_line: number,
                        // an object that closed and still wants more is no object
                        lines: if closed { 0 } else { 1 },
                        text: line.to_vec(),
                        scan,
                    }
                });
                if object.lines == 0 {
                    self.unparsed(number, 1, line);
                } else if object.text.len() > self.max_object {
                    self.refuse(Refused::LongObject {
                        line: object.first_line,
                    });
                    self.unparsed(object.first_line, object.lines, &object.text);
                } else {
                    self.json = Some(object);
                }
            }
            JsonRead::Invalid => match pending {
                // the lines before were no object: this one may be anything
                Some(p) if p.lines > 1 => {
                    self.unparsed(p.first_line, p.lines - 1, &p.text);
                    return false;
                }
                _ => self.unparsed(number, 1, line),
            },
        }
        true
    }

    /// A line of a tty frame (rules T1–T3); `false` when it stands alone
    /// (a sub-line or warning outside a tty build) and is read as another line.
    fn tty_line(&mut self, number: u64, line: TtyLine<'_>) -> bool {
        let tty_build = self
            .current
            .as_ref()
            .filter(|b| !b.closed && b.format == Format::Tty);
        let new = match (&line, tty_build.and_then(|b| b.frames.as_ref())) {
            (TtyLine::Header { seconds, .. }, Some(frames)) => frames.starts_new_build(*seconds),
            (TtyLine::Header { .. } | TtyLine::Step(_), None) => true,
            (TtyLine::Sub(_) | TtyLine::Warn(_), None) => return false,
            (_, Some(_)) => false,
        };
        self.block = None;
        self.recap = RecapState::None;
        if new {
            self.end_build();
            self.current = Some(new_build(
                self.run.as_ref(),
                number,
                self.framing,
                Format::Tty,
            ));
        }
        let build = self.belongs(number);
        let frames = build.frames.get_or_insert_default();
        match line {
            TtyLine::Header { seconds, finished } => frames.header(seconds, finished),
            TtyLine::Step(step) => frames.step(&step, number),
            TtyLine::Warn(text) => build.warn(lossy(text)),
            TtyLine::Sub(Some(fetch)) => frames.fetch(&fetch),
            TtyLine::Sub(None) => {}
        }
        true
    }

    /// `count` lines from `first` that no rule accepts, `text` their bytes.
    fn unparsed(&mut self, first: u64, count: u64, text: &[u8]) {
        self.pending += count;
        let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
        if shaped_like_buildkit(line) {
            self.pending_shaped += count;
        }
        self.pending_first.get_or_insert(first);
    }

    fn recap_line(&mut self, number: u64, line: &[u8], recap: Recap<'_>) {
        self.block = None;
        match (self.recap, recap) {
            (RecapState::Open, Recap::Rule) => self.recap = RecapState::Closed,
            (_, Recap::Rule) => self.recap = RecapState::Open,
            (RecapState::Open, Recap::Title(name)) => {
                if let Some(build) = &mut self.current {
                    build.recap_titles.push(lossy(name));
                }
            }
            (RecapState::Open, _) => {}
            (RecapState::Closed, Recap::Snippet) => {}
            // a title without an opening rule, or an excerpt line out of place
            (RecapState::None, _) | (RecapState::Closed, Recap::Title(_)) => {
                return self.text_line(number, line);
            }
        }
        self.belongs_if_any(number);
    }

    fn client_line(&mut self, number: u64, client: Client<'_>) {
        self.block = None;
        if self.recap == RecapState::Open {
            self.belongs_if_any(number);
            return;
        }
        match client {
            Client::Error(msg) => self.client_error(number, lossy(msg)),
            Client::Warning(text) => {
                if self.current.is_some() {
                    self.belongs(number).warn(lossy(text));
                }
            }
            Client::Info => self.belongs_if_any(number),
        }
    }

    fn text_line(&mut self, number: u64, text: &[u8]) {
        self.block = None;
        match self.recap {
            RecapState::Open => self.belongs_if_any(number),
            // rule A6: docker 20.10 prints the bare error after the recap
            RecapState::Closed => self.client_error(number, lossy(text)),
            RecapState::None => {
                self.pending += 1;
                self.pending_shaped += u64::from(shaped_like_buildkit(text));
                self.pending_first.get_or_insert(number);
            }
        }
    }

    /// The client's closing error: it ends the current build (rule A4).
    fn client_error(&mut self, number: u64, message: String) {
        self.recap = RecapState::None;
        match &self.current {
            Some(build) if !build.closed => {
                let build = self.belongs(number);
                build.error = Some(message);
                build.closed = true;
            }
            _ => self.errors_outside.push((number, message)),
        }
    }

    /// The current build, taking this line and the unparsed lines before it.
    fn belongs(&mut self, number: u64) -> &mut BuildState {
        let build = self.current.get_or_insert_with(|| {
            new_build(self.run.as_ref(), number, self.framing, Format::Plain)
        });
        build.last_line = number;
        if let Some(time) = self.time {
            build.started_at.get_or_insert(time);
            build.ended_at = Some(time);
        }
        if self.pending > 0 {
            build.unparsed += self.pending;
            if build.first_unparsed.is_none() {
                build.first_unparsed = self.pending_first;
            }
            self.pending = 0;
            self.pending_first = None;
            self.pending_shaped = 0;
        }
        build
    }

    fn belongs_if_any(&mut self, number: u64) {
        if self.current.is_some() {
            self.belongs(number);
        }
    }

    fn start_build(&mut self, number: u64) {
        self.end_build();
        self.current = Some(new_build(
            self.run.as_ref(),
            number,
            self.framing,
            Format::Plain,
        ));
    }

    fn end_build(&mut self) {
        self.unparsed_outside += std::mem::take(&mut self.pending);
        self.unparsed_outside_shaped += std::mem::take(&mut self.pending_shaped);
        self.pending_first = None;
        if let Some(state) = self.current.take() {
            if is_no_build(&state) {
                // rule A8: headers and nothing else (a README quoting a log) make no build
                let lines = state.unparsed + state.vertices.iter().map(|v| v.lines).sum::<u64>();
                self.unparsed_outside += lines;
                self.unparsed_outside_shaped += lines;
                return;
            }
            self.out
                .push(Parsed::Build(finish_build(state, &self.source, self.ended)));
            self.ended += 1;
        }
    }

    /// The end of the log: the last build is queued, the rest returned.
    pub(super) fn finish(&mut self) -> ParsedLog {
        self.take_log(self.lines)
    }

    /// The end of a log at line `last`: its last build is queued, the rest
    /// returned, and the counts start again for the next log.
    fn take_log(&mut self, last: u64) -> ParsedLog {
        if let Some(p) = self.json.take() {
            self.unparsed(p.first_line, p.lines, &p.text);
        }
        self.end_build();
        let lines = last - std::mem::replace(&mut self.log_start, last);
        ParsedLog {
            source: self.source.clone(),
            builds: Vec::new(),
            lines,
            unparsed_outside: std::mem::take(&mut self.unparsed_outside),
            unparsed_outside_shaped: std::mem::take(&mut self.unparsed_outside_shaped),
            errors_outside: std::mem::take(&mut self.errors_outside),
            run: self.run.take(),
            origin: Origin::default(),
            refused: std::mem::take(&mut self.refused),
        }
    }
}

/// Rule A8: plain vertex lines of which none is a terminal line, with no client
/// error either, are no build (a README or a chat quoting a log): they are text.
/// Whether a line no rule read has a BuildKit shape (rule A9): a `#N` vertex
/// line, a rawjson object's start, a tty frame line. Read outside any build,
/// such a line may be a misread; another command's output is not.
fn shaped_like_buildkit(text: &[u8]) -> bool {
    let text = text.trim_ascii();
    match text {
        [b'#', d, ..] => d.is_ascii_digit(),
        b"{" => true,
        [b'{', ..] => [
            b"{\"vertexes\"".as_slice(),
            b"{\"statuses\"",
            b"{\"logs\"",
            b"{\"warnings\"",
        ]
        .iter()
        .any(|k| text.starts_with(k)),
        _ => text.starts_with(b"[+] Building") || text.starts_with(b"=> "),
    }
}

fn is_no_build(state: &BuildState) -> bool {
    state.format == Format::Plain
        && state.error.is_none()
        && !state.vertices.is_empty()
        && state.vertices.iter().all(|v| v.status.is_none())
}

/// A build starting at this line, in the run's current phase and command (rule C2).
fn new_build(
    run: Option<&Run>,
    number: u64,
    framing: Option<Framing>,
    format: Format,
) -> BuildState {
    // room for a plain build of up to 32 vertices, so that they are not moved
    // as it grows (the other formats make their steps when they end)
    let room = if format == Format::Plain { 32 } else { 0 };
    BuildState {
        slots: Vec::with_capacity(room),
        vertices: Vec::with_capacity(room),
        named: Vec::with_capacity(room),
        max_vertex: 0,
        first_line: number,
        last_line: number,
        unparsed: 0,
        first_unparsed: None,
        error: None,
        warnings: Vec::new(),
        phase: run.and_then(Run::current_phase).map(str::to_owned),
        command: run.and_then(Run::current_command).map(str::to_owned),
        format,
        framing,
        started_at: None,
        ended_at: None,
        trace: None,
        frames: None,
        closed: false,
        recap_titles: Vec::new(),
    }
}

/// Text kept from the log; invalid UTF-8 becomes U+FFFD. (`str::from_utf8` first:
/// its ASCII fast path beats the lossy decoder on the common, valid case.)
fn lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Rule A6: when the recap names one block no vertex is named after, and one
/// failed vertex has no header (a fragment), the title is that vertex's name.
fn name_failed_vertex(state: &mut BuildState) {
    let unmatched: Vec<&String> = state
        .recap_titles
        .iter()
        .filter(|t| !state.vertices.iter().any(|v| v.name.as_ref() == Some(*t)))
        .collect();
    let mut unnamed = state
        .vertices
        .iter()
        .enumerate()
        .filter(|(_, v)| v.status == Some(Status::Error) && v.name.is_none())
        .map(|(i, _)| i);
    if let ([title], Some(i), None) = (&unmatched[..], unnamed.next(), unnamed.next()) {
        let title = (*title).clone();
        state.vertices[i].name = Some(title);
    }
}

/// The vertices in step order: those with a header in the order of their first
/// header, the others (rule A5) where their first line stands.
fn step_order(state: &BuildState) -> Vec<usize> {
    let unnamed = (0..state.vertices.len()).filter(|&i| state.vertices[i].header_line == 0);
    let mut order = Vec::with_capacity(state.vertices.len());
    let mut named = state.named.iter().copied().peekable();
    for u in unnamed {
        let at = state.vertices[u].first_line;
        while let Some(n) = named.next_if(|&n| state.vertices[n].header_line < at) {
            order.push(n);
        }
        order.push(u);
    }
    order.extend(named);
    order
}

/// Turns the state of one build into its record.
fn finish_build(mut state: BuildState, source: &str, index: usize) -> Build {
    if let Some(frames) = state.frames.take() {
        // rule T3
        for s in frames.finish() {
            state.vertices.push(VertexState {
                number: s.number,
                name: Some(s.name),
                header_line: s.line,
                digest: None,
                status: Some(s.status),
                seconds: s.seconds,
                error: None,
                error_line: None,
                context: None,
                layers: s.layers,
                lines: 1,
                first_line: s.line,
            });
            state.named.push(state.vertices.len() - 1);
        }
    }
    if let Some(trace) = state.trace.take() {
        let (steps, first, last) = trace.finish();
        for s in steps {
            state.vertices.push(VertexState {
                number: s.number,
                name: Some(s.name),
                header_line: s.line,
                digest: s.digest,
                status: Some(s.status),
                seconds: s.seconds,
                error: s.error,
                error_line: None,
                context: None,
                layers: s.layers,
                lines: 1,
                first_line: s.line,
            });
            state.named.push(state.vertices.len() - 1);
        }
        // rule R9
        if state.started_at.is_none() {
            state.started_at = first.map(WallClock::DateTime);
            state.ended_at = last.map(WallClock::DateTime);
        }
    }
    name_failed_vertex(&mut state);
    let mut cache = Cache::default();
    let mut context = None;
    let mut error_lines = Vec::new();
    let order = step_order(&state);
    let mut steps = Vec::with_capacity(order.len());
    for i in order {
        let v = std::mem::take(&mut state.vertices[i]);
        // rule A5: a vertex no header named (a fragment) is a step without a name
        let name = v.name;
        let parsed = name
            .as_deref()
            .map_or_else(VertexName::unknown, parse_vertex_name);
        let status = v.status.unwrap_or(Status::Incomplete);
        let ok = matches!(status, Status::Done | Status::Cached);
        let failure = v.error.clone().or_else(|| match status {
            Status::Canceled => Some("canceled".to_owned()),
            Status::Incomplete => {
                Some("no terminal line: the log ends before the vertex does".to_owned())
            }
            _ => None,
        });
        let seconds = v.seconds.filter(|_| status == Status::Done);
        if let Some(line) = v.error_line {
            error_lines.push([u64::from(v.number), line]);
        }
        match parsed.kind {
            Kind::CacheImport => cache.imports.push(CacheImport {
                reference: parsed.args.unwrap_or_default().to_owned(),
                ok,
                error: failure.clone().filter(|_| !ok),
                seconds,
                vertex: v.number,
            }),
            Kind::CacheExport => cache.exports.push(CacheExport {
                name: name.clone().unwrap_or_default(),
                seconds,
                ok,
                error: failure.filter(|_| !ok),
                vertex: v.number,
            }),
            Kind::Internal
                if name.as_deref() == Some("[internal] load build context")
                    && context.is_none() =>
            {
                context = v.context.clone();
            }
            _ => {}
        }
        steps.push(Step {
            fetch: v.layers.fetch().map(Box::new),
            vertex: v.number,
            stage: parsed.stage.map(Box::from),
            platform: parsed.platform.map(Box::from),
            position: parsed.position,
            args: parsed.instruction.as_ref().and(parsed.args).map(Box::from),
            instruction: parsed.instruction.map(String::into_boxed_str),
            kind: parsed.kind,
            status,
            seconds,
            cacheable: parsed.kind == Kind::Instruction,
            digest: v.digest.map(String::into_boxed_str),
            error: v.error.map(String::into_boxed_str),
            line: if v.header_line > 0 {
                v.header_line
            } else {
                v.first_line
            },
            name: name.map(String::into_boxed_str),
        });
    }
    let import_seconds = cache
        .imports
        .iter()
        .filter_map(|i| i.seconds)
        .reduce(|a, b| a + b);
    cache.fetch = FetchTotals::of(
        steps
            .iter()
            .filter(|s| s.cacheable)
            .filter_map(|s| s.fetch.as_deref()),
        import_seconds,
    );
    Build {
        source: source.to_owned(),
        index,
        hit_rate: hit_rate(&steps),
        steps,
        cache,
        unparsed_lines: state.unparsed,
        first_unparsed_line: state.first_unparsed,
        error: state.error,
        warnings: state.warnings,
        lines: [state.first_line, state.last_line],
        build_id: None,
        phase: state.phase,
        command: state.command,
        format: state.format,
        approximate: state.format == Format::Tty,
        framing: state.framing,
        started_at: state.started_at,
        ended_at: state.ended_at,
        context,
        error_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedLog {
        parse_log(text.as_bytes(), "t.log")
    }

    fn step(b: &Build, vertex: u32) -> &Step {
        b.steps.iter().find(|s| s.vertex == vertex).expect("step")
    }

    #[test]
    fn interleaved_blocks_resume_by_vertex_number() {
        let log = parse(
            "#1 [1/3] FROM x\n#1 DONE 0.0s\n\n\
             #2 [a 2/3] RUN one\n#2 0.1 out\n#2 ...\n\n\
             #3 [b 2/3] RUN two\n#3 0.2 out\n#3 DONE 2.0s\n\n\
             #2 [a 2/3] RUN one\n#2 3.0 more\n#2 DONE 3.1s\n",
        );
        let b = &log.builds[0];
        assert_eq!(b.steps.len(), 3, "a resumed header is the same vertex");
        assert_eq!(step(b, 2).seconds, Some(3.1));
        assert_eq!(step(b, 2).line, 4, "the first header's line");
        assert_eq!(step(b, 3).seconds, Some(2.0));
        assert_eq!(b.unparsed_lines, 0);
    }

    #[test]
    fn the_last_completion_wins() {
        let log = parse(
            "#4 [internal] load build context\n#4 DONE 0.0s\n\n\
             #5 [1/2] RUN a\n#5 CACHED\n\n\
             #4 [internal] load build context\n#4 transferring context: 2B done\n#4 DONE 0.3s\n\n\
             #5 [1/2] RUN a\n#5 ERROR: boom\n",
        );
        let b = &log.builds[0];
        assert_eq!(step(b, 4).seconds, Some(0.3));
        assert_eq!(step(b, 5).status, Status::Error);
        assert_eq!(step(b, 5).error.as_deref(), Some("boom"));
        assert_eq!(b.hit_rate, Some(0.0));
    }

    #[test]
    fn lines_before_a_header_wait_for_it() {
        // a log that starts in the middle: #7 has no header, #8's comes after its output
        let log =
            parse("#7 0.1 orphan\n#7 DONE 1.0s\n\n#8 0.2 early\n\n#8 [2/2] RUN b\n#8 DONE 2.0s\n");
        let b = &log.builds[0];
        assert_eq!(b.steps.len(), 2);
        assert_eq!(b.unparsed_lines, 0);
        let s7 = step(b, 7);
        assert_eq!(
            (s7.name.as_deref(), s7.kind, s7.cacheable),
            (None, Kind::Unknown, false)
        );
        assert_eq!(
            (s7.status, s7.seconds, s7.line),
            (Status::Done, Some(1.0), 1)
        );
        assert_eq!(step(b, 8).name.as_deref(), Some("[2/2] RUN b"));
        assert_eq!(b.hit_rate, Some(0.0), "only the named RUN counts");
    }

    #[test]
    fn a_pasted_tail_keeps_what_it_shows() {
        let log = parse(
            "#12 pushing layers 0.2s done\n#12 exporting manifest sha256:aa done\n#12 DONE 0.9s\n\n\
             #9 0.511 npm ERR! code ELIFECYCLE\n#9 ERROR: process \"/bin/sh -c npm test\" did not complete successfully: exit code: 1\n\
             ------\n > [test 4/4] RUN npm test:\n#9 0.511 npm ERR! code ELIFECYCLE\n------\n\
             ERROR: failed to solve: process \"/bin/sh -c npm test\" did not complete successfully: exit code: 1\n",
        );
        let b = &log.builds[0];
        assert_eq!(b.unparsed_lines, 0);
        let push = step(b, 12);
        assert_eq!(push.name, None, "a progress status is no name");
        assert_eq!((push.status, push.seconds), (Status::Done, Some(0.9)));
        let failed = step(b, 9);
        assert_eq!(
            failed.name.as_deref(),
            Some("[test 4/4] RUN npm test"),
            "the recap names it"
        );
        assert_eq!(
            (failed.status, failed.kind, failed.cacheable),
            (Status::Error, Kind::Instruction, true)
        );
        assert!(b.failed());
        assert_eq!(b.hit_rate, Some(0.0));
    }

    #[test]
    fn printer_quirks() {
        // BuildKit v0.11: the running vertex's output printed as #0
        let log = parse(
            "#0 building with \"default\" instance using docker driver\n\n\
             #1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n\
             #2 [1/3] FROM x\n#2 DONE 0.0s\n\n#3 [2/3] RUN a\n#0 0.106 output\n#3 DONE 1.0s\n\n\
             #4 [3/3] RUN b\n#4 DONE 2.0s\n",
        );
        assert_eq!(log.builds.len(), 1, "#0 log lines start no build");
        assert_eq!(log.builds[0].steps.len(), 4);
        assert_eq!(log.builds[0].unparsed_lines, 0);
        // the 2020 printer cut names at 72 characters
        let log = parse(
            "#5 [2/3] RUN apt-get update && apt-get install -y --no-install-recommends ca-cert...\n\
             #5 0.3 Get:1 http://deb.debian.org\n#5 ...\n\n#6 [3/3] RUN true\n#6 DONE 0.1s\n\n\
             #5 [2/3] RUN apt-get update && apt-get install -y --no-install-recommends ca-cert...\n#5 DONE 9.0s\n",
        );
        let b = &log.builds[0];
        assert_eq!(b.steps.len(), 2);
        assert!(step(b, 5).name.as_deref().unwrap().ends_with("ca-cert..."));
        assert_eq!(step(b, 5).seconds, Some(9.0));
        assert_eq!(b.unparsed_lines, 0);
    }

    #[test]
    fn builds_split_where_vertex_numbers_restart() {
        let one = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n\
                   #2 [1/2] FROM x\n#2 DONE 0.0s\n\n#3 [2/2] RUN a\n#3 CACHED\n";
        let log = parse(&format!("{one}{one}{one}"));
        assert_eq!(log.builds.len(), 3);
        assert_eq!(log.builds[2].index, 2);
        assert_eq!(log.builds[1].lines, [9, 16]);

        // the two [internal] loads run in parallel: #2 may be printed before #1
        let swapped = "#2 [internal] load .dockerignore\n#2 DONE 0.0s\n\n\
                       #1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n\
                       #3 [1/2] FROM x\n#3 DONE 0.0s\n\n#4 [2/2] RUN a\n#4 CACHED\n";
        let log = parse(&format!("{swapped}{swapped}{one}"));
        assert_eq!(log.builds.len(), 3);
        assert!(
            log.builds
                .iter()
                .all(|b| b.steps.len() == 4 || b.steps.len() == 3)
        );
        assert_eq!(log.builds[0].steps.len(), 4);

        // buildx: each invocation starts with #0
        let zero = format!("#0 building with \"default\" instance using docker driver\n\n{one}");
        assert_eq!(parse(&format!("{zero}{zero}")).builds.len(), 2);

        // a build that failed at #1 ends with the client's error; the next one starts after it
        let failed = "#1 [internal] load build definition from Dockerfile\n\
                      #1 ERROR: failed to read dockerfile: open Dockerfile: no such file\n\
                      ERROR: failed to solve: failed to read dockerfile\n";
        let log = parse(&format!("{failed}{one}"));
        assert_eq!(log.builds.len(), 2);
        assert_eq!(
            log.builds[0].error.as_deref(),
            Some("failed to solve: failed to read dockerfile")
        );
        assert_eq!(log.builds[1].steps.len(), 3);
    }

    #[test]
    fn text_around_builds_is_counted_outside() {
        let log =
            parse("$ docker build .\nSending context\n#1 [1/1] RUN a\n#1 DONE 1.0s\nnpm test\n");
        assert_eq!(log.builds.len(), 1);
        assert_eq!(log.builds[0].unparsed_lines, 0);
        assert_eq!(log.unparsed_outside, 3);
        assert_eq!(log.unparsed_outside_shaped, 0, "other commands' output");
        assert_eq!(log.lines, 5);
        assert_eq!(log.builds[0].lines, [3, 4]);
    }

    #[test]
    fn lines_shaped_like_buildkit_outside_builds_are_counted_apart() {
        // a glued terminal line (refused), a rawjson-looking line, a tty frame
        // line and other output, after the build ended
        let log = parse(
            "#1 [1/1] RUN a\n#1 DONE 1.0s\nERROR: failed to solve: x\n\
             #5 DONE 1.0s#1 [internal] load\n{\"vertexes\": oops\n => [2/3] RUN cut\nnpm test\n",
        );
        assert_eq!(log.builds.len(), 1);
        assert_eq!((log.unparsed_outside, log.unparsed_outside_shaped), (4, 3));
        // another tool's JSON lines and a broken object are not rawjson-shaped
        let log = parse("#1 [1/1] RUN a\n#1 DONE 1.0s\n{\"level\":\"info\"}\n{oops\n");
        assert_eq!((log.unparsed_outside, log.unparsed_outside_shaped), (2, 0));
    }

    #[test]
    fn recap_attaches_and_the_bare_client_error_closes_the_build() {
        let log = parse(
            "#5 [2/2] RUN false\n#5 ERROR: exit code: 1\n------\n > [2/2] RUN false:\n\
             some output without prefix\n------\nexecutor failed running [false]: exit code: 1\n",
        );
        let b = &log.builds[0];
        assert_eq!(b.unparsed_lines, 0);
        assert_eq!(
            b.error.as_deref(),
            Some("executor failed running [false]: exit code: 1")
        );
        assert!(b.failed());
        assert_eq!(b.lines, [1, 7]);
    }

    #[test]
    fn the_context_transfer_and_error_lines_are_kept() {
        let log = parse(
            "#1 [internal] load .dockerignore\n#1 transferring context: 34B done\n#1 DONE 0.0s\n\n\
             #2 [internal] load build context\n#2 transferring context: 1.2kB 0.1s\n\
             #2 transferring context: 1.58kB 0.2s done\n#2 DONE 0.2s\n\n\
             #3 importing cache manifest from reg/app:x\n#3 ERROR: reg/app:x: not found\n",
        );
        let b = &log.builds[0];
        let c = b.context.as_ref().expect("context");
        assert_eq!(
            (c.size.as_str(), c.bytes, c.line),
            ("1.58kB", Some(1580), 7)
        );
        assert_eq!(c.text, "#2 transferring context: 1.58kB 0.2s done");
        assert_eq!(b.error_lines, vec![[3, 11]]);
    }

    #[test]
    fn vertex_lines_without_any_terminal_line_are_no_build() {
        let log = parse(
            "# notes\n\n    #10 [backend 2/2] RUN make\n    #11 [final 2/3] COPY x y\nmore\n",
        );
        assert!(log.builds.is_empty());
        assert_eq!(log.unparsed_outside, 4, "blank lines are not counted");
        // one terminal line makes it a build (a pasted fragment)
        assert_eq!(
            parse("#10 [2/2] RUN make\n#11 [3/3] COPY x y\n#10 DONE 1.0s\n")
                .builds
                .len(),
            1
        );
    }

    #[test]
    fn layer_fetches_are_kept_per_vertex_and_counted_for_the_hits() {
        let layer = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let (a, b) = (layer('a'), layer('b'));
        // a buildx fragment: the base image's pull under FROM, a hit's layer split
        // over progress updates, interleaved with another vertex, then extracted
        let log = parse(&format!(
            "#1 importing cache manifest from r/app:cache\n#1 DONE 0.4s\n\n\
             #2 [1/3] FROM docker.io/library/node:20\n#2 {b} 3.40MB / 3.40MB 0.3s done\n#2 DONE 0.5s\n\n\
             #3 [2/3] RUN npm ci\n#3 {a} 12.58MB / 40.12MB 0.4s\n#3 ...\n\n\
             #4 [3/3] COPY . .\n#4 DONE 0.1s\n\n\
             #3 [2/3] RUN npm ci\n#3 {a} 40.12MB / 40.12MB 1.0s done\n\
             #3 extracting {a} 0.5s done\n#3 CACHED\n"
        ));
        let build = &log.builds[0];
        assert_eq!(build.unparsed_lines, 0);
        let f = step(build, 3).fetch.as_ref().expect("a fetch");
        assert_eq!((f.layers, f.bytes, f.seconds), (1, Some(40_120_000), 1.5));
        assert_eq!(step(build, 2).fetch.as_ref().map(|f| f.layers), Some(1));
        assert_eq!(step(build, 4).fetch, None);
        // the base image's layer is not the cache's
        let t = &build.cache.fetch;
        assert_eq!(
            (t.steps, t.layers, t.bytes, t.seconds, t.import_seconds),
            (1, 1, Some(40_120_000), 1.5, Some(0.4))
        );
        // a first line of a block that is a fetch status names nothing
        let log = parse(&format!("#7 {a} 1.2kB / 1.2kB done\n#7 CACHED\n"));
        assert_eq!(log.builds[0].steps[0].name, None);
        assert_eq!(
            log.builds[0].steps[0].fetch.as_ref().map(|f| f.bytes),
            Some(Some(1200))
        );
    }

    #[test]
    fn a_tty_frame_keeps_the_fetches_under_its_steps() {
        let d = format!("sha256:{}", "d".repeat(64));
        let frame = [
            "[+] Building 3.0s (3/3)".to_owned(),
            " => CACHED [2/3] RUN npm ci     0.0s".to_owned(),
            format!(" => => {d} 1.00MB / 4.00MB   0.5s"),
            "[+] Building 6.0s (3/3) FINISHED".to_owned(),
            " => [internal] load build context   0.0s".to_owned(),
            " => CACHED [2/3] RUN npm ci     0.0s".to_owned(),
            format!(" => => {d} 4.00MB / 4.00MB   2.5s"),
            format!(" => => extracting {d}   0.5s"),
            " => [3/3] COPY . .    0.1s".to_owned(),
        ];
        let log = parse(&(frame.join("\n") + "\n"));
        let b = &log.builds[0];
        assert_eq!(b.format, Format::Tty);
        let npm = b
            .steps
            .iter()
            .find(|s| s.name.as_deref() == Some("[2/3] RUN npm ci"));
        let f = npm.and_then(|s| s.fetch.as_ref()).expect("a fetch");
        assert_eq!((f.layers, f.bytes, f.seconds), (1, Some(4_000_000), 3.0));
        assert_eq!(b.cache.fetch.layers, 1);
        assert!(b.steps.iter().filter(|s| s.fetch.is_some()).count() == 1);
    }

    #[test]
    fn rawjson_layer_statuses_are_fetches() {
        let d = format!("sha256:{}", "c".repeat(64));
        let text = format!(
            "{{\"vertexes\":[{{\"digest\":\"sha256:v1\",\"name\":\"[2/2] RUN make\",\"started\":\"2026-01-01T00:00:00Z\"}}]}}\n\
             {{\"statuses\":[{{\"id\":\"{d}\",\"vertex\":\"sha256:v1\",\"current\":1000,\"total\":5000,\"timestamp\":\"2026-01-01T00:00:01Z\",\"started\":\"2026-01-01T00:00:00Z\"}}]}}\n\
             {{\"statuses\":[{{\"id\":\"{d}\",\"vertex\":\"sha256:v1\",\"current\":5000,\"total\":5000,\"timestamp\":\"2026-01-01T00:00:03Z\",\"started\":\"2026-01-01T00:00:00Z\",\"completed\":\"2026-01-01T00:00:02.5Z\"}},\
             {{\"id\":\"extracting {d}\",\"vertex\":\"sha256:v1\",\"timestamp\":\"2026-01-01T00:00:03Z\",\"started\":\"2026-01-01T00:00:02.5Z\",\"completed\":\"2026-01-01T00:00:03Z\"}},\
             {{\"id\":\"transferring context\",\"vertex\":\"sha256:v1\",\"current\":9}}]}}\n\
             {{\"vertexes\":[{{\"digest\":\"sha256:v1\",\"name\":\"[2/2] RUN make\",\"started\":\"2026-01-01T00:00:00Z\",\"completed\":\"2026-01-01T00:00:03Z\",\"cached\":true}}]}}\n"
        );
        let log = parse(&text);
        let b = &log.builds[0];
        assert_eq!(b.format, Format::Rawjson);
        let f = b.steps[0].fetch.as_ref().expect("a fetch");
        assert_eq!((f.layers, f.bytes, f.seconds), (1, Some(5000), 3.0));
        assert_eq!(b.cache.fetch.layers, 1);
    }

    #[test]
    fn nothing_to_find_in_junk() {
        let log = parse_log(&[0xff, 0x00, b'\n', b'#', b'\n', 0x1b], "junk");
        assert!(log.builds.is_empty());
        assert_eq!(log.unparsed_outside, 2, "a lone ESC cleans to a blank line");
        assert!(parse("").builds.is_empty());
    }

    /// The phases a run enters, in order (DOWNLOAD_SOURCE only completes).
    const RUN_PHASES: [&str; 6] = [
        "INSTALL",
        "PRE_BUILD",
        "BUILD",
        "POST_BUILD",
        "FINALIZING",
        "COMPLETED",
    ];

    /// A CodeBuild run: agent lines around one build, `phases` of them; the
    /// run's first lines when `start`.
    fn codebuild_run(hour: u32, phases: &[&str], start: bool) -> String {
        let at = |m: u32| format!("[Container] 2024/01/15 {hour:02}:{m:02}:00.000000");
        let mut text = String::new();
        if start {
            text += &format!("{} Running on CodeBuild On-demand\n", at(0));
            text += &format!("{} Waiting for agent ping\n", at(0));
        }
        for (m, phase) in phases.iter().enumerate() {
            let m = m as u32;
            text += &format!("{} Entering phase {phase}\n", at(m));
            if *phase == "BUILD" {
                text += &format!("{} Running command docker build .\n", at(m));
                text += "#1 [1/2] FROM a\n#1 DONE 0.1s\n#2 [2/2] RUN b\n#2 CACHED\n";
            }
            text += &format!("{} Phase complete: {phase} State: SUCCEEDED\n", at(m));
        }
        text
    }

    #[test]
    fn runs_one_after_another_are_logs_apart() {
        let all = RUN_PHASES;
        for (first, second) in [
            // whole runs, with their first lines
            (codebuild_run(10, &all, true), codebuild_run(11, &all, true)),
            // without them: the phases start again
            (
                codebuild_run(10, &all, false),
                codebuild_run(11, &all, false),
            ),
            // the first cut short in its build, the second from its start
            (
                codebuild_run(10, &all[..3], false),
                codebuild_run(11, &all, true),
            ),
            // the second cut at its start: its first phase comes before the first's last
            (
                codebuild_run(10, &all, true),
                codebuild_run(11, &all[2..], false),
            ),
        ] {
            let text = format!("{first}{second}");
            let logs = parse_logs_with(text.as_bytes(), "t.log", &ParseOptions::default());
            assert_eq!(logs.len(), 2, "{text}");
            let lines = [first.lines().count(), second.lines().count()];
            for (log, lines) in logs.iter().zip(lines) {
                assert_eq!(log.lines, lines as u64);
                assert_eq!(log.source, "t.log");
                let run = log.run.as_ref().expect("a run");
                assert_eq!(run.phases[0].name, run.phases[0].name.to_uppercase());
                assert!(run.phases.windows(2).all(|w| w[0].name != w[1].name));
            }
            let builds: Vec<_> = logs.iter().flat_map(|l| &l.builds).collect();
            assert_eq!(builds.len(), 2);
            assert_eq!(
                builds.iter().map(|b| b.index).collect::<Vec<_>>(),
                [0, 1],
                "indexes run on through the source"
            );
            assert!(builds.iter().all(|b| b.phase.as_deref() == Some("BUILD")));
            assert_eq!(logs[1].builds.len(), 1);
            // as one record: everything, the phases one run after the other
            let whole = parse_log(text.as_bytes(), "t.log");
            assert_eq!(whole.builds.len(), 2);
            assert_eq!(whole.lines, text.lines().count() as u64);
            let phases = |l: &ParsedLog| l.run.as_ref().map_or(0, |r| r.phases.len());
            assert_eq!(phases(&whole), phases(&logs[0]) + phases(&logs[1]));
        }
    }

    #[test]
    fn one_run_is_one_log() {
        let all = RUN_PHASES;
        let mut text = codebuild_run(10, &all, true);
        // a phase of another name, and a phase named twice, start no run
        text += "[Container] 2024/01/15 10:30:00.000000 Entering phase CUSTOM\n";
        text += "[Container] 2024/01/15 10:30:00.000000 Entering phase CUSTOM\n";
        let logs = parse_logs_with(text.as_bytes(), "t.log", &ParseOptions::default());
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].builds.len(), 1);
    }
}
