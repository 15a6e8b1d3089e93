//! Benchmark corpora made from the real logs by a deterministic generator
//! (`benches/`, `cargo run --release --bin make-corpus`, `BENCHMARKS.md`):
//! logs of any size in the three shapes that load the parser differently, and
//! archives of many CodeBuild runs (the demo's generator, scaled).

use crate::synth::{DockerBuild, RunSpec, codebuild_events, text};

/// Makes a corpus of at least the given size (bytes) from the real logs.
pub type Maker = fn(&[(String, Vec<u8>)], usize) -> Vec<u8>;

/// The three shapes, by name.
pub const SHAPES: [(&str, Maker); 3] = [
    ("header-heavy", header_heavy),
    ("output-heavy", output_heavy),
    ("codebuild", codebuild),
];

/// The real logs (`sample-logs/real/*.log`) by name, sorted.
pub fn real_logs(dir: &std::path::Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "log") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            logs.push((name, std::fs::read(&path)?));
        }
    }
    logs.sort();
    Ok(logs)
}

/// Header-heavy: the real logs without their output lines (`#N 0.123 …`),
/// back to back until `size` bytes: many tiny builds, nearly every line a
/// header or a status.
pub fn header_heavy(logs: &[(String, Vec<u8>)], size: usize) -> Vec<u8> {
    let quiet: Vec<Vec<u8>> = logs
        .iter()
        .map(|(_, log)| {
            log.split_inclusive(|&b| b == b'\n')
                .filter(|line| !is_output_line(line))
                .flatten()
                .copied()
                .collect()
        })
        .collect();
    repeat(&quiet, size)
}

/// Output-heavy: `manylines-cold.log` (a RUN step printing thousands of
/// `#N 1.234 text` lines) back to back until `size` bytes.
pub fn output_heavy(logs: &[(String, Vec<u8>)], size: usize) -> Vec<u8> {
    let many: Vec<Vec<u8>> = logs
        .iter()
        .filter(|(name, _)| name == "manylines-cold.log")
        .map(|(_, log)| log.clone())
        .collect();
    repeat(&many, size)
}

/// CodeBuild-framed: each real log as the text of the CloudWatch stream of a
/// CodeBuild run that ran it (`[Container]` agent lines around the command's
/// output), back to back until `size` bytes.
pub fn codebuild(logs: &[(String, Vec<u8>)], size: usize) -> Vec<u8> {
    let runs: Vec<Vec<u8>> = logs
        .iter()
        .enumerate()
        .map(|(i, (name, log))| {
            let command = format!("docker build -t app:{i} .");
            text(&codebuild_events(&RunSpec {
                start_ms: 1_790_553_600_000 + i as i64 * 600_000,
                builds: vec![DockerBuild {
                    command: &command,
                    output: log,
                    fails: name.starts_with("failing-"),
                }],
            }))
        })
        .collect();
    repeat(&runs, size)
}

/// Whether a line is a vertex's output: `#N <seconds> <text>`.
fn is_output_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"#") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some(rest) = rest[digits..].strip_prefix(b" ") else {
        return false;
    };
    let secs = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    digits > 0 && secs > 0 && rest[..secs].contains(&b'.') && rest.get(secs) == Some(&b' ')
}

/// `parts` back to back, again and again, until at least `size` bytes.
fn repeat(parts: &[Vec<u8>], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + parts.iter().map(Vec::len).max().unwrap_or(0));
    while out.len() < size && parts.iter().any(|p| !p.is_empty()) {
        for part in parts {
            out.extend_from_slice(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpora_have_their_shapes() {
        let logs =
            real_logs(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real"))
                .unwrap();
        let size = 1 << 20;
        let headers = header_heavy(&logs, size);
        let output = output_heavy(&logs, size);
        let framed = codebuild(&logs, size);
        for corpus in [&headers, &output, &framed] {
            assert!(corpus.len() >= size);
        }
        let share = |corpus: &[u8]| {
            let lines = corpus.split(|&b| b == b'\n');
            let (all, out) = lines.fold((0, 0), |(a, o), l| {
                (a + 1, o + usize::from(is_output_line(l)))
            });
            out as f64 / all as f64
        };
        assert_eq!(share(&headers), 0.0);
        assert!(share(&output) > 0.8, "{}", share(&output));
        assert!(framed.windows(12).any(|w| w == b"[Container] "));
        let builds = crate::parse::parse_log(&headers, "h").builds.len();
        assert!(builds > 100, "many tiny builds: {builds}");
    }
}
