//! The local archive of fetched CloudWatch Logs streams: one JSON Lines file
//! per stream, `<archive>/<group>/<stream>.jsonl`, written whole to a temporary
//! file and renamed, so a killed fetch never leaves half a file.
//!
//! Line 1 is the [`StreamHeader`]; every other line one event `{"t": ms, "m": "message"}`.

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::BuildId;
use crate::safe_write;

pub use crate::model::BuildMetadata;

/// Format version written in every header.
pub const VERSION: u32 = 1;

/// A failure of the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading or writing failed.
    #[error("archive {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A file is not an archive stream (or a newer format).
    #[error("archive {path}, line {line}: {message}")]
    Format {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Line 1 of a stream file: where it came from and where to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamHeader {
    /// Always [`VERSION`].
    pub cachelens_archive: u32,
    /// The log group.
    pub log_group: String,
    /// The log stream.
    pub log_stream: String,
    /// GetLogEvents' `nextForwardToken` after the last page read.
    pub forward_token: Option<String>,
    /// Timestamp of the first event, epoch milliseconds.
    pub first_event_time: Option<i64>,
    /// Timestamp of the last event, epoch milliseconds.
    pub last_event_time: Option<i64>,
    /// `lastIngestionTime` DescribeLogStreams reported when the stream was last read.
    pub last_ingestion_time: Option<i64>,
    /// Events held.
    pub events: u64,
    /// Whether the stream was read to its end (the forward token repeated).
    pub complete: bool,
    /// CodeBuild metadata, when the API could be asked.
    pub build: Option<BuildMetadata>,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Timestamp, epoch milliseconds.
    #[serde(rename = "t")]
    pub timestamp: i64,
    /// The message as CloudWatch holds it (CodeBuild's end in `\n`).
    #[serde(rename = "m")]
    pub message: String,
}

/// One archived stream: header and events.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Line 1.
    pub header: StreamHeader,
    /// The events in order.
    pub events: Vec<Event>,
}

impl Stream {
    /// An empty stream of `group`/`stream`.
    pub fn new(log_group: &str, log_stream: &str) -> Self {
        Stream {
            header: StreamHeader {
                cachelens_archive: VERSION,
                log_group: log_group.to_owned(),
                log_stream: log_stream.to_owned(),
                forward_token: None,
                first_event_time: None,
                last_event_time: None,
                last_ingestion_time: None,
                events: 0,
                complete: false,
                build: None,
            },
            events: Vec::new(),
        }
    }

    /// Appends events and keeps the header's counts and times current.
    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
        let h = &mut self.header;
        h.events = self.events.len() as u64;
        h.first_event_time = self.events.first().map(|e| e.timestamp);
        h.last_event_time = self.events.last().map(|e| e.timestamp);
    }

    /// The log text: the messages in order, each ending in a newline.
    pub fn text(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.events.iter().map(|e| e.message.len() + 1).sum());
        for e in &self.events {
            out.extend_from_slice(e.message.as_bytes());
            if !e.message.ends_with('\n') {
                out.push(b'\n');
            }
        }
        out
    }

    /// The name records carry: `group/stream`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.header.log_group, self.header.log_stream)
    }

    /// The CodeBuild build id: from the API metadata, else from the names
    /// (`/aws/codebuild/<project>` and a stream `[prefix/]<uuid>`).
    pub fn build_id(&self) -> Option<BuildId> {
        if let Some(id) = self.header.build.as_ref().and_then(|b| b.build_id.clone()) {
            return Some(id);
        }
        BuildId::from_log_names(&self.header.log_group, &self.header.log_stream)
    }
}

/// A folder holding archived streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    root: PathBuf,
}

impl Archive {
    /// The archive at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Archive { root: root.into() }
    }

    /// The default location: `$XDG_CACHE_HOME/cachelens` (`~/.cache/cachelens`).
    pub fn default_location() -> PathBuf {
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("cachelens")
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of a stream.
    pub fn path(&self, log_group: &str, log_stream: &str) -> PathBuf {
        self.root
            .join(encode(log_group))
            .join(format!("{}.jsonl", encode(log_stream)))
    }

    /// Reads a stream's header only (cheap: one line), `None` when not archived.
    pub fn header(
        &self,
        log_group: &str,
        log_stream: &str,
    ) -> Result<Option<StreamHeader>, ArchiveError> {
        let path = self.path(log_group, log_stream);
        match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            _ => read_header(&path).map(Some),
        }
    }

    /// Reads a whole stream, `None` when not archived.
    pub fn read(&self, log_group: &str, log_stream: &str) -> Result<Option<Stream>, ArchiveError> {
        let path = self.path(log_group, log_stream);
        match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            _ => read_file(&path).map(Some),
        }
    }

    /// Writes a stream whole: to a temporary file beside it, then renamed over it.
    pub fn write(&self, stream: &Stream) -> Result<PathBuf, ArchiveError> {
        let path = self.path(&stream.header.log_group, &stream.header.log_stream);
        let dir = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        let tmp = tempfile::Builder::new()
            .prefix(&safe_write::temp_prefix("tmp"))
            .tempfile_in(dir)
            .map_err(|source| io_error(dir, source))?;
        let mut w = BufWriter::new(tmp.as_file());
        let write_all = |w: &mut BufWriter<&fs::File>| -> io::Result<()> {
            serde_json::to_writer(&mut *w, &stream.header)?;
            w.write_all(b"\n")?;
            for e in &stream.events {
                serde_json::to_writer(&mut *w, e)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
            w.get_ref().sync_all()
        };
        write_all(&mut w).map_err(|source| io_error(&path, source))?;
        drop(w);
        tmp.persist(&path).map_err(|e| io_error(&path, e.error))?;
        Ok(path)
    }

    /// Removes the temporary files killed fetches left in the archive's
    /// folders ([`safe_write::clean_stale`]); the files removed.
    pub fn clean_stale(&self) -> Vec<PathBuf> {
        let place = safe_write::Place::Archive;
        let mut removed = safe_write::clean_stale(&self.root, place);
        if let Ok(groups) = sorted_entries(&self.root) {
            for g in groups.iter().filter(|p| p.is_dir()) {
                removed.extend(safe_write::clean_stale(g, place));
            }
        }
        removed
    }

    /// Every archived stream file, sorted; of one group when given.
    pub fn stream_files(&self, log_group: Option<&str>) -> Result<Vec<PathBuf>, ArchiveError> {
        let groups = match log_group {
            Some(g) => vec![self.root.join(encode(g))],
            None => sorted_entries(&self.root)?
                .into_iter()
                .filter(|p| p.is_dir())
                .collect(),
        };
        let mut files = Vec::new();
        for g in groups {
            if !g.exists() {
                continue;
            }
            files.extend(
                sorted_entries(&g)?
                    .into_iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "jsonl")),
            );
        }
        Ok(files)
    }
}

/// How every stream file begins: its header's first key, as cachelens writes it.
const HEADER_START: &[u8] = b"{\"cachelens_archive\":";

/// Whether the file at `path` is an archived stream, by its first bytes (the
/// header cachelens writes), whatever its name: a log never begins so.
/// A file that cannot be read is not one (reading it as a log says why).
pub fn is_stream_file(path: &Path) -> bool {
    let mut start = Vec::with_capacity(HEADER_START.len());
    fs::File::open(path)
        .and_then(|f| f.take(HEADER_START.len() as u64).read_to_end(&mut start))
        .is_ok_and(|_| start == HEADER_START)
}

/// Reads line 1 of an archived stream file.
pub fn read_header(path: &Path) -> Result<StreamHeader, ArchiveError> {
    let file = fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut first = String::new();
    BufReader::new(file)
        .read_line(&mut first)
        .map_err(|source| io_error(path, source))?;
    parse_header(path, &first)
}

/// Reads one archived stream file.
pub fn read_file(path: &Path) -> Result<Stream, ArchiveError> {
    let file = fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut lines = BufReader::new(file).lines();
    let first = match lines.next() {
        Some(line) => line.map_err(|source| io_error(path, source))?,
        None => {
            return Err(format_error(
                path,
                1,
                "empty file, not an archived stream".to_owned(),
            ));
        }
    };
    let header = parse_header(path, &first)?;
    let mut events = Vec::with_capacity(header.events as usize);
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|source| io_error(path, source))?;
        let event: Event = serde_json::from_str(&line)
            .map_err(|e| format_error(path, n + 2, format!("not an event: {e}")))?;
        events.push(event);
    }
    if events.len() as u64 != header.events {
        return Err(format_error(
            path,
            events.len() + 2,
            format!(
                "{} events where its header says {}: the file is truncated or damaged (`cachelens fetch` reads the stream again)",
                events.len(),
                header.events
            ),
        ));
    }
    Ok(Stream { header, events })
}

fn parse_header(path: &Path, line: &str) -> Result<StreamHeader, ArchiveError> {
    let header: StreamHeader = serde_json::from_str(line)
        .map_err(|e| format_error(path, 1, format!("not an archive header: {e}")))?;
    if header.cachelens_archive != VERSION {
        return Err(format_error(
            path,
            1,
            format!(
                "archive format {} (this cachelens reads {VERSION})",
                header.cachelens_archive
            ),
        ));
    }
    Ok(header)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut out = fs::read_dir(dir)
        .and_then(|rd| {
            rd.map(|e| e.map(|e| e.path()))
                .collect::<io::Result<Vec<_>>>()
        })
        .map_err(|source| io_error(dir, source))?;
    out.sort();
    Ok(out)
}

/// A file name for a group or stream name: `%`, `/` and other unsafe bytes percent-encoded.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'=' | b'+') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('.') {
        out.replace_range(..1, "%2E");
    }
    out
}

fn io_error(path: &Path, source: io::Error) -> ArchiveError {
    ArchiveError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn format_error(path: &Path, line: usize, message: String) -> ArchiveError {
    ArchiveError::Format {
        path: path.display().to_string(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_atomic_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path());
        let mut s = Stream::new("/aws/codebuild/app", "1b2c-uuid");
        s.extend([
            Event {
                timestamp: 1,
                message: "#1 [1/1] RUN a\n".into(),
            },
            Event {
                timestamp: 2,
                message: "#1 DONE 1.0s".into(),
            },
        ]);
        s.header.forward_token = Some("f/1".into());
        let path = archive.write(&s).unwrap();
        assert!(
            path.ends_with("%2Faws%2Fcodebuild%2Fapp/1b2c-uuid.jsonl"),
            "{}",
            path.display()
        );
        assert_eq!(
            archive.read("/aws/codebuild/app", "1b2c-uuid").unwrap(),
            Some(s.clone())
        );
        assert_eq!(
            archive.header("/aws/codebuild/app", "1b2c-uuid").unwrap(),
            Some(s.header.clone())
        );
        assert_eq!(s.text(), b"#1 [1/1] RUN a\n#1 DONE 1.0s\n");
        assert_eq!(
            s.build_id().as_ref().map(BuildId::as_str),
            Some("app:1b2c-uuid")
        );
        assert_eq!(s.header.events, 2);
        assert_eq!(archive.stream_files(None).unwrap(), vec![path.clone()]);
        // nothing but the stream file is left in its folder
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        assert!(
            archive
                .read("/aws/codebuild/app", "other")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn broken_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        fs::write(&p, "{\"cachelens_archive\": 9}\n").unwrap();
        let e = read_file(&p).unwrap_err().to_string();
        assert!(e.contains("x.jsonl, line 1"), "{e}");
        // a file cut short at a line end still parses, but not as its header says
        let archive = Archive::new(dir.path());
        let mut s = Stream::new("g", "s");
        s.extend((0..3).map(|t| Event {
            timestamp: t,
            message: format!("line {t}\n"),
        }));
        let whole = archive.write(&s).unwrap();
        let text = fs::read_to_string(&whole).unwrap();
        let cut: Vec<&str> = text.lines().take(3).collect();
        fs::write(&whole, cut.join("\n") + "\n").unwrap();
        let e = read_file(&whole).unwrap_err().to_string();
        assert!(
            e.contains("line 4: 2 events where its header says 3: the file is truncated"),
            "{e}"
        );
        fs::write(&p, "").unwrap();
        assert!(
            read_file(&p)
                .unwrap_err()
                .to_string()
                .contains("empty file")
        );
    }

    #[test]
    fn temporary_files_of_killed_fetches_are_removed_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let group = dir.path().join("%2Faws%2Fcodebuild%2Fapp");
        fs::create_dir_all(&group).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let plant = |name: &str, aged: bool| {
            let p = group.join(name);
            fs::write(&p, "half").unwrap();
            if aged {
                fs::File::open(&p).unwrap().set_modified(old).unwrap();
            }
            p
        };
        let legacy = plant(".tmpAb12Cd", true);
        let own = plant(".cachelens-tmp-4194999-00000000-x", true);
        let fresh = plant(".cachelens-tmp-4194998-00000000-y", false);
        let stream = plant("s.jsonl", true);
        let note = plant(".tmp-notes", true);
        let mut removed = Archive::new(dir.path()).clean_stale();
        removed.sort();
        assert_eq!(removed, vec![own, legacy]);
        assert!(fresh.exists() && stream.exists() && note.exists());
    }

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(
            encode("/aws/codebuild/my-app"),
            "%2Faws%2Fcodebuild%2Fmy-app"
        );
        assert_eq!(encode("prefix/uuid"), "prefix%2Fuuid");
        assert_eq!(encode(".."), "%2E.");
        assert_eq!(encode("a%b"), "a%25b");
    }
}
