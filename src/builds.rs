//! `cachelens builds`: one line per build of a folder, an archive or any inputs —
//! source, project, hit rate beside buildx's `cached/total`, time executed, first
//! miss, cache import — for scanning many builds before opening one.

use std::io::{self, Write};

use cachelens::model::{ParsedLog, Status};
use cachelens::report::escape::terminal;
use cachelens::summary::{SourceSummary, Summary, percent};

/// `cachelens builds`: the table, exit 3 when no input held a build.
pub fn command(logs: &[ParsedLog]) -> anyhow::Result<u8> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    match write(logs, &mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(0),
        r => r?,
    }
    Ok(if logs.iter().any(|l| !l.builds.is_empty()) {
        0
    } else {
        crate::cli::EXIT_NO_BUILD
    })
}

/// After a table summary without `--history`: where the time saved would come
/// from, when some build had cached steps (on stderr, so the table stays as it is).
pub fn savings_hint(cached: usize) {
    if cached > 0 {
        say!(
            "time saved: unknown without the step times of earlier builds; add --history \
             OLD_LOGS (older logs of this project) to see what the {cached} cached step{} saved",
            if cached == 1 { "" } else { "s" }
        );
    }
}

/// The columns of one build.
fn row(s: &Summary<'_>, builds_in_source: usize) -> [String; 8] {
    let source = if builds_in_source > 1 {
        format!("{}#{}", s.source, s.index + 1)
    } else {
        s.source.to_owned()
    };
    let project = s
        .build_id
        .map(|id| id.project().to_owned())
        .unwrap_or_else(|| "-".to_owned());
    let all = s.build.steps.len();
    let cached_all = s
        .build
        .steps
        .iter()
        .filter(|st| st.status == Status::Cached)
        .count();
    let first_miss = s
        .first_miss
        .map(|st| {
            st.name
                .as_deref()
                .map_or_else(|| format!("#{}", st.vertex), str::to_owned)
        })
        .unwrap_or_else(|| "-".to_owned());
    let import = match s.imports {
        [] => "none".to_owned(),
        imports if imports.iter().all(|i| i.ok) => "ok".to_owned(),
        imports => format!(
            "failed ({} of {})",
            imports.iter().filter(|i| !i.ok).count(),
            imports.len()
        ),
    };
    [
        source,
        project,
        s.outcome.to_owned(),
        s.hit_rate.map_or_else(|| "n/a".to_owned(), percent),
        format!("{cached_all}/{all}"),
        format!("{:.1}s", s.executed_seconds),
        first_miss,
        import,
    ]
}

const HEAD: [&str; 8] = [
    "SOURCE",
    "PROJECT",
    "OUTCOME",
    "HIT RATE",
    "CACHED/TOTAL",
    "EXECUTED",
    "FIRST MISS",
    "IMPORT",
];

/// Writes the table of every build of `logs`.
pub fn write(logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    let mut rows: Vec<[String; 8]> = Vec::new();
    for log in logs {
        let summary = SourceSummary::of(log);
        let n = summary.builds.len();
        rows.extend(summary.builds.iter().map(|s| row(s, n)));
    }
    let rows: Vec<[String; 8]> = rows
        .into_iter()
        .map(|r| r.map(|c| terminal(&c).into_owned()))
        .collect();
    let mut widths = HEAD.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(c);
            } else {
                text.push_str(&format!("{c:<w$}  "));
            }
        }
        text
    };
    writeln!(out, "{}", line(&HEAD))?;
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    writeln!(
        out,
        "\nHIT RATE counts the cacheable steps only (Dockerfile instructions other than FROM); \
         CACHED/TOTAL is buildx's figure over every vertex, with the internal, FROM and export \
         ones that can never be CACHED, so it is lower."
    )
}
