//! The same build seen as plain and as rawjson gives the same step records
//! (`tests/fixtures/rawjson-pairs/`: real BuildKit builds caught by
//! `tests/e2e/dockerd.sh`, and a hand-made buildx build from BuildKit's types
//! and the buildx documentation's example); tty final frames; format detection
//! per file and per region, and `--format-in`.

use std::path::{Path, PathBuf};

use cachelens::model::{Build, Format, Status};
use cachelens::parse::{FormatIn, parse_log, parse_log_as};
use serde_json::Value;

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Step records by vertex number, without `line` (and without `digest` when
/// the plain printer did not print digests).
fn steps(b: &Build, digests: bool) -> Vec<Value> {
    let mut steps: Vec<Value> = b
        .steps
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("line");
            if !digests {
                o.remove("digest");
            }
            v
        })
        .collect();
    steps.sort_by_key(|s| s["vertex"].as_u64());
    steps
}

/// `(plain, rawjson)` fixture pairs: `X.log` with `X.rawjson.log` and `X-pretty.rawjson.log`.
fn pairs() -> Vec<(PathBuf, PathBuf)> {
    let dir = fixtures("rawjson-pairs");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let raw = entry.unwrap().path();
        let name = raw.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".rawjson.log") else {
            continue;
        };
        let plain = dir.join(format!("{}.log", stem.trim_end_matches("-pretty")));
        out.push((plain, raw));
    }
    out.sort();
    out
}

#[test]
fn plain_and_rawjson_give_the_same_records() {
    let pairs = pairs();
    assert!(pairs.len() >= 11, "{pairs:?}");
    let mut real = 0;
    for (plain_path, raw_path) in &pairs {
        let what = raw_path.display();
        let plain = parse_log(&read(plain_path), "plain");
        let raw = parse_log(&read(raw_path), "raw");
        assert_eq!(plain.builds.len(), 1, "{what}");
        assert_eq!(raw.builds.len(), 1, "{what}");
        let (p, r) = (&plain.builds[0], &raw.builds[0]);
        assert_eq!(
            (p.format, r.format),
            (Format::Plain, Format::Rawjson),
            "{what}"
        );
        let digests = p.steps.iter().any(|s| s.digest.is_some());
        real += usize::from(digests);
        assert!(!p.steps.is_empty(), "{what}");
        assert_eq!(steps(p, digests), steps(r, digests), "{what}");
        assert_eq!(p.hit_rate, r.hit_rate, "{what}");
        assert_eq!(p.cache, r.cache, "{what}");
        // the client's closing error is no SolveStatus event: the real pairs
        // (caught from dockerd) have none, buildx prints it after the objects
        if r.error.is_some() {
            assert_eq!(p.error, r.error, "{what}");
        }
        assert_eq!(p.warnings, r.warnings, "{what}");
        assert_eq!((p.unparsed_lines, r.unparsed_lines), (0, 0), "{what}");
        assert_eq!(raw.unparsed_outside, 0, "{what}");
        assert!(!r.approximate, "{what}");
        assert!(
            r.started_at.is_some() && r.started_at <= r.ended_at,
            "{what}"
        );
    }
    assert!(real >= 10, "the real pairs carry digests");
}

#[test]
fn the_hand_made_modern_build() {
    let raw = parse_log(
        &read(&fixtures("rawjson-pairs/buildx-modern-pretty.rawjson.log")),
        "raw",
    );
    let b = &raw.builds[0];
    let status = |n: u32| b.steps.iter().find(|s| s.vertex == n).unwrap().status;
    assert_eq!(status(6), Status::Cached);
    assert_eq!(status(8), Status::Canceled);
    assert_eq!(status(9), Status::Error);
    assert_eq!(
        b.hit_rate,
        Some(0.25),
        "1 of [2/4], [3/4], [4/4], [lint 2/2]"
    );
    assert_eq!(b.first_miss().unwrap().label(), "[3/4] COPY . .");
    assert_eq!(b.steps[0].line, 1);
    assert_eq!(
        b.steps[1].line, 75,
        "the line where its pretty-printed object starts"
    );
}

#[test]
fn several_invocations_in_one_rawjson_log() {
    let one = read(&fixtures("rawjson-pairs/nodeapp-cold.rawjson.log"));
    let two = read(&fixtures("rawjson-pairs/nodeapp-warm.rawjson.log"));
    let log = parse_log(&[one.clone(), two.clone()].concat(), "raw");
    assert_eq!(log.builds.len(), 2, "rule R8");
    assert_eq!(log.builds[0].steps, parse_log(&one, "raw").builds[0].steps);
    assert_eq!(log.builds[1].hit_rate, Some(1.0));
}

#[test]
fn formats_are_told_apart_per_region_and_can_be_forced() {
    let plain = read(&fixtures("rawjson-pairs/nodeapp-src-change.log"));
    let raw = read(&fixtures("rawjson-pairs/multistage-warm.rawjson.log"));
    let tty = read(&fixtures("tty/buildx-tty.log"));
    let all = [plain.clone(), raw.clone(), tty.clone(), plain.clone()].concat();
    let log = parse_log(&all, "mixed");
    let formats: Vec<Format> = log.builds.iter().map(|b| b.format).collect();
    assert_eq!(
        formats,
        [
            Format::Plain,
            Format::Rawjson,
            Format::Tty,
            Format::Tty,
            Format::Plain
        ]
    );
    assert_eq!(log.builds[1].hit_rate, Some(1.0));
    assert!(log.builds.iter().all(|b| b.unparsed_lines == 0));

    for (format, count) in [(Format::Plain, 2), (Format::Rawjson, 1), (Format::Tty, 2)] {
        let only = parse_log_as(&all, "mixed", FormatIn::Only(format));
        assert_eq!(only.builds.len(), count, "{format:?}");
        assert!(only.builds.iter().all(|b| b.format == format));
    }
    // rawjson read as plain is text, not builds
    let as_plain = parse_log_as(&raw, "raw", FormatIn::Only(Format::Plain));
    assert!(as_plain.builds.is_empty());
    assert!(as_plain.unparsed_outside > 0);
}

#[test]
fn a_tty_final_frame() {
    let log = parse_log(&read(&fixtures("tty/buildx-tty.log")), "tty");
    assert_eq!(
        log.builds.len(),
        2,
        "two invocations, each read from its last frame"
    );
    let b = &log.builds[0];
    assert_eq!(b.format, Format::Tty);
    assert!(b.approximate);
    assert_eq!(b.unparsed_lines, 0);
    let names: Vec<(u32, &str, Status, Option<f64>)> = b
        .steps
        .iter()
        .map(|s| (s.vertex, s.label(), s.status, s.seconds))
        .collect();
    assert_eq!(
        names,
        [
            (
                1,
                "[internal] load build definition from Dockerfile",
                Status::Done,
                Some(0.0)
            ),
            (
                2,
                "[internal] load metadata for docker.io/library/node:20-alpine",
                Status::Done,
                Some(0.6)
            ),
            (3, "[internal] load .dockerignore", Status::Done, Some(0.0)),
            (
                4,
                "[1/5] FROM docker.io/library/node:20-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                Status::Done,
                Some(0.0)
            ),
            (5, "[internal] load build context", Status::Done, Some(0.0)),
            (6, "[2/5] WORKDIR /app", Status::Cached, None),
            (
                7,
                "[3/5] COPY package.json package-lock.json ./",
                Status::Cached,
                None
            ),
            (8, "[4/5] RUN npm ci --omit=dev", Status::Done, Some(12.3)),
            (9, "[5/5] COPY . .", Status::Done, Some(0.1)),
            (10, "exporting to image", Status::Done, Some(0.4)),
        ]
    );
    assert_eq!(b.hit_rate, Some(0.5));
    assert_eq!(
        b.first_miss().unwrap().label(),
        "[4/5] RUN npm ci --omit=dev"
    );
    assert_eq!(
        b.warnings,
        ["JSONArgsRecommended: JSON arguments recommended for CMD (line 9)"]
    );
    let failed = &log.builds[1];
    assert_eq!(
        failed
            .steps
            .iter()
            .filter(|s| s.status == Status::Error)
            .count(),
        1
    );
    assert_eq!(
        failed
            .steps
            .iter()
            .filter(|s| s.status == Status::Canceled)
            .count(),
        1
    );
    assert!(failed.error.as_deref().unwrap().contains("exit code: 1"));
    assert_eq!(failed.unparsed_lines, 0, "the recap after the frame");
}

#[test]
fn no_panic_on_mangled_inputs() {
    // every prefix and some byte flips of each format's fixture
    let mut inputs = vec![
        read(&fixtures("rawjson-pairs/buildx-modern-pretty.rawjson.log")),
        read(&fixtures("rawjson-pairs/failing-test.rawjson.log")),
        read(&fixtures("tty/buildx-tty.log")),
    ];
    let mut seed = 0x2545_f491_u64;
    for i in 0..inputs.len() {
        let base = inputs[i].clone();
        for cut in (0..base.len()).step_by(97) {
            inputs.push(base[..cut].to_vec());
            let mut flipped = base.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % flipped.len();
                flipped[at] = (seed >> 32) as u8;
            }
            inputs.push(flipped);
        }
    }
    for input in &inputs {
        for format in [
            FormatIn::Auto,
            FormatIn::Only(Format::Rawjson),
            FormatIn::Only(Format::Tty),
        ] {
            let log = parse_log_as(input, "fuzz", format);
            for b in &log.builds {
                assert!(b.hit_rate.is_none_or(|r| (0.0..=1.0).contains(&r)));
                assert!(b.lines[0] <= b.lines[1]);
            }
        }
    }
}

#[test]
fn real_tty_captures_match_plain_builds_of_the_same_state() {
    for name in ["real-nodeapp-warm", "real-failing-test"] {
        let tty = parse_log(&read(&fixtures(&format!("tty/{name}.tty.log"))), "tty");
        let plain = parse_log(&read(&fixtures(&format!("tty/{name}.log"))), "plain");
        let (t, p) = (&tty.builds[0], &plain.builds[0]);
        assert_eq!(tty.builds.len(), 1, "{name}");
        assert_eq!(
            (t.format, t.approximate, t.unparsed_lines),
            (Format::Tty, true, 0),
            "{name}"
        );
        let mut unmatched: Vec<_> = p.steps.iter().collect();
        for s in &t.steps {
            // a tty name may be cut at the terminal width
            let at = unmatched
                .iter()
                .position(|q| q.label().starts_with(s.label()) && q.status == s.status)
                .unwrap_or_else(|| panic!("{name}: {} {:?} not in plain", s.label(), s.status));
            unmatched.remove(at);
        }
        assert!(unmatched.is_empty(), "{name}: {unmatched:?}");
        assert_eq!(t.hit_rate, p.hit_rate, "{name}");
        assert_eq!(t.error, p.error, "{name}");
    }
}

/// The new printer's layer fetches (`tests/fixtures/buildx-layer-fetch.log`,
/// counted by hand): the last figure of each layer, its download and
/// extraction added up; the base image's pull is the FROM's, not the cache's.
#[test]
fn new_printer_layer_fetches_by_hand() {
    let log = parse_log(&read(&fixtures("buildx-layer-fetch.log")), "fetch");
    assert_eq!(log.builds.len(), 1);
    let b = &log.builds[0];
    assert_eq!(b.unparsed_lines, 0);
    let fetch = |vertex: u32| {
        let s = b.steps.iter().find(|s| s.vertex == vertex).unwrap();
        s.fetch.as_ref().map(|f| (f.layers, f.bytes, f.seconds))
    };
    // FROM: 29.13 MB in 1.1 s, extracted in 0.9 s
    assert_eq!(fetch(5), Some((1, Some(29_130_000), 2.0)));
    // 1.89 GB in 54.6 s + 21.7 s, and 523 B in 0.3 s (its extraction untimed)
    let (layers, bytes, secs) = fetch(8).unwrap();
    assert_eq!((layers, bytes), (2, Some(1_890_000_523)));
    assert!((secs - (54.6 + 21.7 + 0.3)).abs() < 1e-9, "{secs}");
    // 1.02 KiB in 0.1 s
    assert_eq!(fetch(9), Some((1, Some(1044), 0.1)));
    assert_eq!(fetch(7), None);
    assert_eq!(fetch(12), None, "writing a layer is the export's");
    let t = &b.cache.fetch;
    assert_eq!((t.steps, t.layers, t.bytes), (2, 3, Some(1_890_001_567)));
    assert!((t.seconds - 76.7).abs() < 1e-9, "{}", t.seconds);
    assert_eq!(t.import_seconds, Some(0.6));
}
