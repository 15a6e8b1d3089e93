//! Where logs come from: files, folders, standard input (gzip is undone by its
//! magic bytes), and CloudWatch Logs through the local archive.

pub mod archive;
pub mod aws;
pub mod cloudwatch;
pub mod codebuild;
pub mod ecr;
pub mod fetch;
pub mod s3;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

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
    #[error("{0}: no *.log, *.log.gz or *.txt file in this folder")]
    EmptyFolder(String),
    /// An archived stream could not be read.
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    /// The input (after decompression) is larger than the cap.
    #[error(
        "{path}: more than {} of log{}: not read (--max-input-size raises the limit)",
        humansize::format_size(*max, humansize::BINARY),
        if *gzip { " after decompression" } else { "" }
    )]
    TooLarge {
        /// What was being read.
        path: String,
        /// The cap, in bytes.
        max: u64,
        /// Whether the cap was hit decompressing.
        gzip: bool,
    },
}

/// The largest log read by default (after decompression): 256 MiB (`--max-input-size`).
pub const DEFAULT_MAX_INPUT: u64 = 256 << 20;

/// A log's text and what its source knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The name records carry.
    pub name: String,
    /// The log text.
    pub bytes: Vec<u8>,
    /// What the source knows beyond the text.
    pub origin: crate::model::Origin,
}

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

impl Source {
    /// The name used in records and messages: the path as given, or `-`.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) | Source::Archived(p) => p.display().to_string(),
            Source::Stdin => "-".to_owned(),
        }
    }

    /// Reads the log: its text, name and build id; at most [`DEFAULT_MAX_INPUT`] bytes.
    pub fn load(&self) -> Result<Loaded, SourceError> {
        self.load_at_most(DEFAULT_MAX_INPUT)
    }

    /// Reads the log, refusing one larger than `max` bytes (after decompression).
    pub fn load_at_most(&self, max: u64) -> Result<Loaded, SourceError> {
        if let Source::Archived(path) = self {
            let stream = archive::read_file(path)?;
            return Ok(Loaded {
                name: stream.name(),
                bytes: stream.text(),
                origin: crate::model::Origin {
                    build_id: stream.build_id(),
                    first_event_ms: stream.header.first_event_time,
                    metadata: stream.header.build.clone(),
                },
            });
        }
        Ok(Loaded {
            name: self.name(),
            bytes: self.read(max)?,
            origin: crate::model::Origin::default(),
        })
    }

    /// All bytes of a file or stdin, decompressed when it is gzip: at most `max`
    /// bytes read at each stage (`Read::take`), so a gzip bomb or an endless
    /// stdin ends with [`SourceError::TooLarge`].
    fn read(&self, max: u64) -> Result<Vec<u8>, SourceError> {
        let err = |source| SourceError::Read {
            path: self.name(),
            source,
        };
        let too_large = |gzip| SourceError::TooLarge {
            path: self.name(),
            max,
            gzip,
        };
        let mut raw = Vec::new();
        match self {
            Source::File(p) | Source::Archived(p) => fs::File::open(p)
                .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut raw))
                .map_err(err)?,
            Source::Stdin => io::stdin()
                .lock()
                .take(max.saturating_add(1))
                .read_to_end(&mut raw)
                .map_err(err)?,
        };
        if raw.len() as u64 > max {
            return Err(too_large(false));
        }
        if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::with_capacity(raw.len().saturating_mul(8).min(max as usize));
            MultiGzDecoder::new(&raw[..])
                .take(max.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(err)?;
            if out.len() as u64 > max {
                return Err(too_large(true));
            }
            return Ok(out);
        }
        Ok(raw)
    }
}

/// Expands command-line arguments into sources: `-` is stdin, a folder gives
/// its `*.log`, `*.log.gz` and `*.txt` files (recursively, sorted by path).
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
            out.push(Source::File(arg.clone()));
        }
    }
    out
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
            out.push(Source::File(path));
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
        assert_eq!(got[1].load().unwrap().bytes, b"#1 a\n");

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
    fn inputs_and_decompressed_inputs_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'x'; 1 << 20]).unwrap();
        let bomb = dir.path().join("bomb.log.gz");
        fs::write(&bomb, gz.finish().unwrap()).unwrap();
        let plain = dir.path().join("big.log");
        fs::write(&plain, vec![b'x'; 4096]).unwrap();

        let source = Source::File(bomb);
        assert_eq!(source.load_at_most(1 << 20).unwrap().bytes.len(), 1 << 20);
        let e = source.load_at_most(100_000).unwrap_err();
        assert!(matches!(e, SourceError::TooLarge { gzip: true, .. }), "{e}");
        assert!(
            e.to_string()
                .contains("bomb.log.gz: more than 97.66 KiB of log after decompression"),
            "{e}"
        );
        let e = Source::File(plain).load_at_most(4095).unwrap_err();
        assert!(
            matches!(e, SourceError::TooLarge { gzip: false, .. }),
            "{e}"
        );
    }
}
