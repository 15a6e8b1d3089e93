//! Where logs come from: files, folders, standard input (gzip is undone by its
//! magic bytes), and CloudWatch Logs through the local archive; each read as a
//! stream ([`Source::parse`]).

pub mod archive;
pub mod aws;
pub mod cloudwatch;
pub mod codebuild;
pub mod ecr;
pub mod fetch;
pub mod s3;

use std::cell::Cell;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::model::{Origin, ParsedLog};
use crate::parse::{LogParser, ParseOptions, Parsed};

/// `log` with what its source knows: the origin, and the build id on its run.
fn with_origin(mut log: ParsedLog, origin: &Origin) -> ParsedLog {
    if let Some(id) = &origin.build_id {
        log.run.get_or_insert_default().build_id = Some(id.clone());
    }
    log.origin = origin.clone();
    log
}

/// A failure to read a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// What was being read.
        path: String,
        /// Why not.
        source: io::Error,
    },
    /// A folder held no log file.
    #[error("{0}: no *.log, *.log.gz, *.txt or archived *.jsonl file in this folder")]
    EmptyFolder(String),
    /// An archived stream could not be read.
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    /// The input (after decompression) is larger than the cap.
    #[error(
        "{path}: more than {} of log{}: {} (--max-input-size raises the limit)",
        humansize::format_size(*max, humansize::BINARY),
        if *gzip { " after decompression" } else { "" },
        match handed {
            0 => "not read".to_owned(),
            n => format!("not read past there, after {n} build{}", if *n == 1 { "" } else { "s" }),
        }
    )]
    TooLarge {
        /// What was being read.
        path: String,
        /// The cap, in bytes.
        max: u64,
        /// Whether the cap was hit decompressing.
        gzip: bool,
        /// Builds handed on before the cap was hit.
        handed: usize,
    },
}

/// The largest log read by default (after decompression) by the commands that
/// keep every record (`report`, `diagnose`, `builds`): 256 MiB
/// (`--max-input-size`). `steps` and `summary` stream, with no cap by default.
pub const DEFAULT_MAX_INPUT: u64 = 256 << 20;

/// Bytes read from a log at a time.
const PIECE: usize = 256 << 10;

/// One log to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A CloudWatch Logs stream in the local archive.
    Archived(PathBuf),
}

/// A log opened: its name, what its source knows, and its bytes as a stream.
struct Opened {
    name: String,
    origin: Origin,
    gzip: bool,
    bytes: Box<dyn Read>,
}

impl Source {
    /// The name used in records and messages: the path as given, or `stdin`.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) | Source::Archived(p) => p.display().to_string(),
            Source::Stdin => "stdin".to_owned(),
        }
    }

    /// Reads and parses the log as a stream, in pieces: `to` gets each build
    /// (with the source's CodeBuild build id) as soon as it ends, and each
    /// log but the last where the source holds several CodeBuild runs (rule
    /// C5), and returns `false` to stop reading; the last log's other records
    /// are returned. Memory is bounded by the largest build, not the log. More
    /// than `max` bytes (after decompression: a gzip bomb, an endless stdin)
    /// end with [`SourceError::TooLarge`]. A source that knows its build id
    /// is one run: its logs are returned as one.
    pub fn parse(
        &self,
        options: &ParseOptions,
        max: u64,
        to: &mut dyn FnMut(Parsed) -> bool,
    ) -> Result<ParsedLog, SourceError> {
        let mut opened = self.open()?;
        let err = |source| self.read_error(source);
        let origin = std::mem::take(&mut opened.origin);
        let (handed, more) = (Cell::new(0), Cell::new(true));
        let mut one_run = None::<ParsedLog>;
        let mut give = |p: Parsed| {
            if !more.get() {
                return;
            }
            let p = match p {
                Parsed::Build(mut b) => {
                    b.build_id.clone_from(&origin.build_id);
                    handed.set(handed.get() + 1);
                    Parsed::Build(b)
                }
                Parsed::Log(log) if origin.build_id.is_some() => {
                    match &mut one_run {
                        Some(whole) => whole.append(log),
                        None => one_run = Some(log),
                    }
                    return;
                }
                Parsed::Log(log) => Parsed::Log(with_origin(log, &origin)),
            };
            more.set(to(p));
        };
        let mut parser = LogParser::new(&opened.name, options);
        let mut piece = vec![0; PIECE];
        let mut read: u64 = 0;
        while more.get() {
            let n = match opened.bytes.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(e)),
            };
            read += n as u64;
            if read > max {
                return Err(SourceError::TooLarge {
                    path: self.name(),
                    max,
                    gzip: opened.gzip,
                    handed: handed.get(),
                });
            }
            parser.push(&piece[..n], &mut give);
        }
        let last = parser.finish(&mut give);
        let log = match one_run {
            Some(mut whole) => {
                whole.append(last);
                whole
            }
            None => last,
        };
        Ok(with_origin(log, &origin))
    }

    /// A read of this log failed.
    fn read_error(&self, source: io::Error) -> SourceError {
        SourceError::Read {
            path: self.name(),
            source,
        }
    }

    /// Opens the log: gzip is undone when its first bytes are gzip's magic.
    fn open(&self) -> Result<Opened, SourceError> {
        let err = |source| self.read_error(source);
        let raw: Box<dyn Read> = match self {
            Source::Archived(path) => {
                let stream = archive::read_file(path)?;
                return Ok(Opened {
                    name: stream.name(),
                    origin: Origin {
                        build_id: stream.build_id(),
                        first_event_ms: stream.header.first_event_time,
                        metadata: stream.header.build.clone(),
                    },
                    gzip: false,
                    bytes: Box::new(io::Cursor::new(stream.text())),
                });
            }
            Source::File(p) => Box::new(fs::File::open(p).map_err(err)?),
            Source::Stdin => Box::new(io::stdin().lock()),
        };
        let mut raw = raw;
        let mut magic = Vec::with_capacity(2);
        (&mut raw).take(2).read_to_end(&mut magic).map_err(err)?;
        let gzip = magic == [0x1f, 0x8b];
        let raw = io::Cursor::new(magic).chain(raw);
        Ok(Opened {
            name: self.name(),
            origin: Origin::default(),
            gzip,
            bytes: if gzip {
                Box::new(MultiGzDecoder::new(raw))
            } else {
                Box::new(raw)
            },
        })
    }
}

/// Expands command-line arguments into sources: `-` is stdin, a folder gives
/// its `*.log`, `*.log.gz` and `*.txt` files and its archived streams
/// (`*.jsonl` holding a stream header), recursively, sorted by path. A file
/// that begins with a stream header is read as an archived stream, with its
/// metadata, whatever its name.
/// What cannot be read (a missing path, an unreadable or empty folder) is put
/// in `skipped` and the rest is still expanded.
pub fn expand(args: &[PathBuf], skipped: &mut Vec<SourceError>) -> Vec<Source> {
    let mut out = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let meta = match fs::metadata(arg) {
            Ok(meta) => meta,
            Err(source) => {
                skipped.push(SourceError::Read {
                    path: arg.display().to_string(),
                    source,
                });
                continue;
            }
        };
        if meta.is_dir() {
            let before = (out.len(), skipped.len());
            walk(arg, &mut out, skipped);
            if (out.len(), skipped.len()) == before {
                skipped.push(SourceError::EmptyFolder(arg.display().to_string()));
            }
        } else {
            out.push(file(arg.clone()));
        }
    }
    out
}

/// A file: an archived stream when it begins with a stream header, else a log.
fn file(path: PathBuf) -> Source {
    if archive::is_stream_file(&path) {
        Source::Archived(path)
    } else {
        Source::File(path)
    }
}

fn walk(dir: &Path, out: &mut Vec<Source>, skipped: &mut Vec<SourceError>) {
    let listed = fs::read_dir(dir).and_then(|rd| {
        rd.map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
    });
    let mut entries = match listed {
        Ok(entries) => entries,
        Err(source) => {
            skipped.push(SourceError::Read {
                path: dir.display().to_string(),
                source,
            });
            return;
        }
    };
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out, skipped);
        } else if is_log_name(&path) {
            out.push(file(path));
        } else if path.extension().is_some_and(|e| e == "jsonl") && archive::is_stream_file(&path) {
            out.push(Source::Archived(path));
        }
    }
}

fn is_log_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".log", ".log.gz", ".txt"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// All bytes of the log, decompressed.
    fn bytes(source: &Source) -> Vec<u8> {
        let mut out = Vec::new();
        source.open().unwrap().bytes.read_to_end(&mut out).unwrap();
        out
    }

    /// Parses the log with a cap of `max` bytes.
    fn capped(source: &Source, max: u64) -> Result<ParsedLog, SourceError> {
        source.parse(&ParseOptions::default(), max, &mut |_| true)
    }

    #[test]
    fn folders_expand_to_sorted_log_files_and_gzip_is_read() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("b.log"), "#1 b\n").unwrap();
        fs::write(dir.path().join("README.md"), "no").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"#1 a\n").unwrap();
        fs::write(dir.path().join("sub/a.log.gz"), gz.finish().unwrap()).unwrap();

        let mut skipped = Vec::new();
        let got = expand(&[dir.path().to_path_buf()], &mut skipped);
        assert!(skipped.is_empty());
        let names: Vec<_> = got.iter().map(|s| s.name()).collect();
        assert!(
            names[0].ends_with("b.log") && names[1].ends_with("sub/a.log.gz"),
            "{names:?}"
        );
        assert_eq!(bytes(&got[1]), b"#1 a\n");

        // what cannot be read is skipped; what follows is still expanded
        let empty = tempfile::tempdir().unwrap();
        let got = expand(
            &[
                empty.path().to_path_buf(),
                dir.path().join("missing.log"),
                dir.path().join("b.log"),
            ],
            &mut skipped,
        );
        assert_eq!(got, vec![Source::File(dir.path().join("b.log"))]);
        assert!(matches!(
            skipped[..],
            [SourceError::EmptyFolder(_), SourceError::Read { .. }]
        ));
    }

    #[test]
    fn archived_streams_are_told_by_their_header_not_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut stream =
            archive::Stream::new("/aws/codebuild/app", "0f1e2d3c-0000-4000-8000-000000000000");
        stream.extend([archive::Event {
            timestamp: 1_700_000_000_000,
            message: "#1 [1/1] RUN true\n#1 DONE 1.0s\n".to_owned(),
        }]);
        let written = archive::Archive::new(dir.path().join("archive"))
            .write(&stream)
            .unwrap();
        // the same file under a log's name, a rawjson log and a JSON file named .jsonl
        let renamed = dir.path().join("renamed.log");
        fs::copy(&written, &renamed).unwrap();
        let rawjson = dir.path().join("build.jsonl");
        fs::write(&rawjson, "{\"vertexes\":[]}\n").unwrap();
        let given = expand(
            &[written.clone(), renamed.clone(), rawjson.clone()],
            &mut Vec::new(),
        );
        assert_eq!(
            given,
            vec![
                Source::Archived(written.clone()),
                Source::Archived(renamed),
                Source::File(rawjson),
            ]
        );
        // a folder: its archived streams, not its other .jsonl files
        let walked = expand(&[dir.path().to_path_buf()], &mut Vec::new());
        assert_eq!(walked.len(), 2, "{walked:?}");
        assert!(walked.contains(&Source::Archived(written.clone())));
        // read with its metadata: the group/stream name and the build id
        let log = Source::Archived(written)
            .parse(&ParseOptions::default(), u64::MAX, &mut |_| true)
            .unwrap();
        assert_eq!(
            log.source,
            "/aws/codebuild/app/0f1e2d3c-0000-4000-8000-000000000000"
        );
        assert_eq!(
            log.origin.build_id.map(|id| id.to_string()).as_deref(),
            Some("app:0f1e2d3c-0000-4000-8000-000000000000")
        );
        assert_eq!(log.origin.first_event_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn inputs_and_decompressed_inputs_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'x'; 1 << 20]).unwrap();
        let bomb = dir.path().join("bomb.log.gz");
        fs::write(&bomb, gz.finish().unwrap()).unwrap();
        let plain = dir.path().join("big.log");
        fs::write(&plain, vec![b'x'; 4096]).unwrap();

        let source = Source::File(bomb);
        assert_eq!(bytes(&source).len(), 1 << 20);
        assert_eq!(capped(&source, 1 << 20).unwrap().lines, 1);
        let e = capped(&source, 100_000).unwrap_err();
        assert!(matches!(e, SourceError::TooLarge { gzip: true, .. }), "{e}");
        assert!(
            e.to_string()
                .contains("bomb.log.gz: more than 97.66 KiB of log after decompression"),
            "{e}"
        );
        let e = capped(&Source::File(plain), 4095).unwrap_err();
        assert!(
            matches!(e, SourceError::TooLarge { gzip: false, .. }),
            "{e}"
        );
    }
}
