//! Invariants of the parser on mangled real logs (proptest): every line is read
//! or counted, the statuses partition the vertices of every build, and a log
//! read in pieces of any size parses as the whole.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use cachelens::model::Status;
use cachelens::parse::{
    FormatIn, LogParser, ParseOptions, Parsed, parse_log_with, parse_logs_with,
};
use proptest::prelude::*;

fn real_logs() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    paths.sort();
    paths.iter().map(|p| fs::read(p).unwrap()).collect()
}

/// One change to a log's lines.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, Vec<u8>),
    Flip(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let junk = prop_oneof![
        Just(b"#5 DONE 1e308s".to_vec()),
        Just(b"#1 [internal] load build definition from Dockerfile".to_vec()),
        Just(b"#3 CACHED#4 [2/2] RUN x".to_vec()),
        Just(b"{\"vertexes\": [".to_vec()),
        Just(b"------".to_vec()),
        Just(b"ERROR: failed to solve".to_vec()),
        Just(b"\x1b[1A\x1b[2K => [2/3] RUN x  1.0s".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (any::<usize>(), junk).prop_map(|(a, j)| Edit::Insert(a, j)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
    ]
}

fn apply(log: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = log.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::Duplicate(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Edit::Insert(i, j) => lines.insert(i % (lines.len() + 1), j.clone()),
            Edit::Flip(i, b) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if !l.is_empty() {
                    let at = *i % l.len();
                    l[at] = *b;
                }
            }
            _ => {}
        }
    }
    lines.join(&b'\n')
}

/// The lines of `input` as the line layer counts them (LF, or CR without any LF).
fn line_count(input: &[u8]) -> u64 {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let end = if !input.contains(&b'\n') && input.contains(&b'\r') {
        b'\r'
    } else {
        b'\n'
    };
    let ends = input.iter().filter(|&&b| b == end).count() as u64;
    ends + u64::from(!input.is_empty() && input.last() != Some(&end))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_line_is_read_or_counted_and_statuses_partition_the_vertices(
        log in 0usize..26,
        edits in proptest::collection::vec(edit(), 0..12),
        format in prop_oneof![
            Just(FormatIn::Auto),
            Just(FormatIn::Only(cachelens::model::Format::Plain)),
        ],
        max_line in prop_oneof![Just(usize::MAX), 8usize..200],
    ) {
        let logs = real_logs();
        let input = apply(&logs[log % logs.len()], &edits);
        let options = ParseOptions { format, redact: true, max_line };
        let parsed = parse_log_with(&input, "mangled", &options);
        // every line is read: the count is the input's, and no more are unparsed
        prop_assert_eq!(parsed.lines, line_count(&input));
        let unparsed: u64 =
            parsed.builds.iter().map(|b| b.unparsed_lines).sum::<u64>() + parsed.unparsed_outside;
        prop_assert!(unparsed <= parsed.lines);
        for b in &parsed.builds {
            if b.unparsed_lines > 0 {
                let first = b.first_unparsed_line.unwrap_or(0);
                prop_assert!(first >= 1 && first <= parsed.lines, "located: {:?}", first);
            }
            // one record per vertex, each in exactly one status
            let vertices: HashSet<u32> = b.steps.iter().map(|s| s.vertex).collect();
            prop_assert_eq!(vertices.len(), b.steps.len());
            let by_status: usize = [
                Status::Cached,
                Status::Done,
                Status::Error,
                Status::Canceled,
                Status::Incomplete,
            ]
            .iter()
            .map(|st| b.steps.iter().filter(|s| s.status == *st).count())
            .sum();
            prop_assert_eq!(by_status, b.steps.len());
            prop_assert!(b.steps.iter().all(|s| s.seconds.is_none() || s.status == Status::Done));
            prop_assert!(b.steps.iter().filter_map(|s| s.seconds).all(|s| s.is_finite() && s >= 0.0));
        }
    }

    #[test]
    fn a_log_read_in_pieces_parses_as_the_whole(
        log in 0usize..26,
        edits in proptest::collection::vec(edit(), 0..12),
        sizes in proptest::collection::vec(1usize..4096, 1..8),
        max_line in prop_oneof![Just(usize::MAX), 8usize..200],
    ) {
        let logs = real_logs();
        let input = apply(&logs[log % logs.len()], &edits);
        let options = ParseOptions { max_line, ..ParseOptions::default() };
        let whole = parse_logs_with(&input, "mangled", &options);
        let mut parser = LogParser::new("mangled", &options);
        let (mut logs, mut builds) = (Vec::new(), Vec::new());
        let mut take = |p| match p {
            Parsed::Build(b) => builds.push(b),
            Parsed::Log(mut log) => {
                log.builds = std::mem::take(&mut builds);
                logs.push(log);
            }
        };
        let mut rest = &input[..];
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, after) = rest.split_at((*size).min(rest.len()));
            parser.push(piece, &mut take);
            rest = after;
        }
        let mut last = parser.finish(&mut take);
        last.builds = builds;
        logs.push(last);
        prop_assert_eq!(logs, whole);
    }
}
