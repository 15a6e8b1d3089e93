//! Writing without destroying: the rules every file and folder cachelens
//! writes follows.
//!
//! - An output folder is replaced only when it is absent, empty, or holds the
//!   [`Marker`] cachelens writes into the folders it makes (or when forced),
//!   and never when it is, holds or lies inside an input.
//! - Everything is written beside its destination under a temporary name
//!   ([`temp_prefix`]: `.cachelens-<kind>-<pid>-…`) and renamed into place, so
//!   a failed or killed run leaves the previous output as it was.
//! - Temporary files and folders a killed run left behind are removed by the
//!   next run ([`clean_stale`]): only names of cachelens' own making, and only
//!   when their process is provably dead (same kernel boot and pid namespace,
//!   no such pid) or they were untouched for [`STALE_AFTER`], so a concurrent
//!   run's are kept.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The file cachelens writes into every folder it makes whole; a folder
/// holding it may be replaced by the next run that makes the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// Its file name.
    pub name: &'static str,
    /// What it says to whoever opens it.
    pub text: &'static str,
}

/// The marker of `cachelens report` folders.
pub const REPORT: Marker = Marker {
    name: ".cachelens-report",
    text: "This folder was written by `cachelens report`. The next report to the same --out replaces it whole.\n",
};

/// The marker of the demo archive (`make-demo`).
pub const DEMO: Marker = Marker {
    name: ".cachelens-demo",
    text: "This folder was written by `cargo run --bin make-demo`, which replaces it whole.\n",
};

/// The marker of the benchmark corpora (`make-corpus`).
pub const CORPUS: Marker = Marker {
    name: ".cachelens-corpus",
    text: "This folder was written by `cargo run --release --bin make-corpus`, which replaces it whole.\n",
};

/// A temporary file or folder of cachelens untouched this long belongs to a
/// run that died: the next run removes it.
pub const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// A refusal or failure to write an output folder.
#[derive(Debug, thiserror::Error)]
pub enum WriteGuardError {
    /// The folder holds files cachelens did not write.
    #[error(
        "{0} is not empty and cachelens did not write it (no {1} file in it): not replacing it; choose a new or empty folder, or add --force to replace it and everything in it"
    )]
    NotOurs(String, &'static str),
    /// The destination exists and is not a folder.
    #[error("{0} exists and is not a folder: not replacing it; choose a new or empty folder")]
    NotAFolder(String),
    /// The destination is, holds or lies inside an input.
    #[error("--out {out} {relation} the input {input}: cachelens never writes over what it reads")]
    Input {
        /// The destination.
        out: String,
        /// `is`, `is inside`, `holds`.
        relation: &'static str,
        /// The input.
        input: String,
    },
    /// The destination is or holds the current directory, which cannot be replaced.
    #[error(
        "--out {0} is (or holds) the current directory, which cannot be replaced: choose a folder below it (e.g. --out report) or run from elsewhere"
    )]
    CurrentDir(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteGuardError + '_ {
    move |source| WriteGuardError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where this process's pids mean something: a hash of the kernel's boot id
/// and the pid namespace (Linux), `x` where unknown (then no pid is provably dead).
fn pid_space() -> &'static str {
    static SPACE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPACE.get_or_init(|| {
        let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id");
        let ns = fs::read_link("/proc/self/ns/pid");
        match (boot, ns) {
            (Ok(boot), Ok(ns)) => {
                // FNV-1a: short and stable across runs and builds
                let mut h: u32 = 0x811c_9dc5;
                for b in boot.trim().bytes().chain(ns.to_string_lossy().bytes()) {
                    h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
                }
                format!("{h:08x}")
            }
            _ => "x".to_owned(),
        }
    })
}

/// The prefix of cachelens' temporary names of one kind (`report`, `old`, `tmp`):
/// `.cachelens-<kind>-<pid>-<pid space>-`.
pub fn temp_prefix(kind: &str) -> String {
    format!(".cachelens-{kind}-{}-{}-", std::process::id(), pid_space())
}

/// A temporary name of cachelens' making.
#[derive(Debug, PartialEq, Eq)]
enum TempName<'a> {
    /// `.cachelens-<kind>-<pid>-<pid space>-…`.
    Own { pid: &'a str, space: &'a str },
    /// What earlier versions made: `.cachelens-report-XXXXXX` and
    /// `.cachelens-old-<pid>` beside a report, `.tmpXXXXXX` in the archive.
    Legacy,
}

/// Where temporary names are looked for: `.tmpXXXXXX` is cachelens' only
/// inside its archive (other programs use the same names elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The folder an output folder is written into.
    Beside,
    /// A folder of the archive.
    Archive,
}

fn temp_name(name: &str, place: Place) -> Option<TempName<'_>> {
    let random = |r: &str| r.len() == 6 && r.bytes().all(|b| b.is_ascii_alphanumeric());
    let digits = |r: &str| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = name.strip_prefix(".cachelens-") {
        if rest.strip_prefix("report-").is_some_and(random)
            || rest.strip_prefix("old-").is_some_and(digits)
        {
            return Some(TempName::Legacy);
        }
        let mut parts = rest.splitn(4, '-');
        let kind = parts.next()?;
        let pid = parts.next()?;
        let space = parts.next()?;
        let ok = ["report", "old", "tmp"].contains(&kind)
            && digits(pid)
            && !space.is_empty()
            && parts.next().is_some_and(|r| !r.is_empty());
        return ok.then_some(TempName::Own { pid, space });
    }
    let legacy = place == Place::Archive && name.strip_prefix(".tmp").is_some_and(random);
    legacy.then_some(TempName::Legacy)
}

/// Whether the run that made `name` is gone for sure.
fn provably_dead(name: &TempName<'_>) -> bool {
    match name {
        TempName::Own { pid, space } => {
            *space != "x"
                && *space == pid_space()
                && *pid != std::process::id().to_string()
                && !Path::new("/proc").join(pid).exists()
        }
        TempName::Legacy => false,
    }
}

/// Removes the temporary files and folders killed runs left in `dir` (see the
/// module's rules); the names removed. A folder that cannot be read is left alone.
pub fn clean_stale(dir: &Path, place: Place) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(temp) = name.to_str().and_then(|n| temp_name(n, place)) else {
            continue;
        };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        if !provably_dead(&temp) && age.is_none_or(|a| a < STALE_AFTER) {
            continue;
        }
        let path = entry.path();
        let gone = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        if gone.is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// A checked place for an output folder: absolute, with its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutDir {
    /// The folder as the user named it (for messages).
    pub shown: PathBuf,
    path: PathBuf,
    parent: PathBuf,
    force: bool,
    marker: Marker,
}

/// The absolute, symlink-free form of `path`, which need not exist: each
/// existing prefix canonicalised, the rest (which holds no symlink) taken as written.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut real = PathBuf::new();
    for part in std::path::absolute(path)?.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                real.pop();
            }
            Component::Normal(name) => {
                real.push(name);
                if let Ok(c) = real.canonicalize() {
                    real = c;
                }
            }
            Component::RootDir | Component::Prefix(_) => real.push(part),
        }
    }
    Ok(real)
}

/// Whether `inner` is `outer` or lies below it (both resolved).
fn within(inner: &Path, outer: &Path) -> bool {
    inner.starts_with(outer)
}

impl OutDir {
    /// Checks that `out` may be written: not an input (`inputs`: files and
    /// folders read), not the current directory, and absent, empty, holding
    /// `marker`, or `force`.
    pub fn check(
        out: &Path,
        inputs: &[PathBuf],
        marker: Marker,
        force: bool,
    ) -> Result<OutDir, WriteGuardError> {
        let shown = out.display().to_string();
        let path = resolve(out).map_err(io_err(out))?;
        let Some(parent) = path.parent().map(Path::to_path_buf) else {
            return Err(WriteGuardError::NotOurs(shown, marker.name));
        };
        for input in inputs.iter().filter(|p| p.as_os_str() != "-") {
            let Ok(real) = resolve(input) else { continue };
            let relation = if real == path {
                "is"
            } else if within(&path, &real) {
                "is inside"
            } else if within(&real, &path) {
                "holds"
            } else {
                continue;
            };
            return Err(WriteGuardError::Input {
                out: shown,
                relation,
                input: input.display().to_string(),
            });
        }
        if let Ok(cwd) = std::env::current_dir().and_then(|d| d.canonicalize())
            && within(&cwd, &path)
        {
            return Err(WriteGuardError::CurrentDir(shown));
        }
        let dir = OutDir {
            shown: out.to_path_buf(),
            path,
            parent,
            force,
            marker,
        };
        dir.replaceable()?;
        Ok(dir)
    }

    /// Whether the folder may be replaced now.
    fn replaceable(&self) -> Result<(), WriteGuardError> {
        let shown = || self.shown.display().to_string();
        let meta = match self.path.symlink_metadata() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other.map_err(io_err(&self.shown))?,
        };
        if !meta.is_dir() {
            return Err(WriteGuardError::NotAFolder(shown()));
        }
        if self.force || self.path.join(self.marker.name).is_file() {
            return Ok(());
        }
        let mut entries = fs::read_dir(&self.path).map_err(io_err(&self.shown))?;
        if entries.next().is_some() {
            return Err(WriteGuardError::NotOurs(shown(), self.marker.name));
        }
        Ok(())
    }

    /// Writes the folder: `fill` writes into a temporary folder beside it,
    /// the marker is added, and the result replaces the folder (checked again
    /// first). On any failure the temporary folder is removed and the folder
    /// is left as it was.
    pub fn write<E: From<WriteGuardError>>(
        &self,
        fill: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<(), E> {
        fs::create_dir_all(&self.parent).map_err(io_err(&self.parent))?;
        clean_stale(&self.parent, Place::Beside);
        let staged = tempfile::Builder::new()
            .prefix(&temp_prefix("report"))
            .tempdir_in(&self.parent)
            .map_err(io_err(&self.parent))?;
        fill(staged.path())?;
        let marker = staged.path().join(self.marker.name);
        fs::write(&marker, self.marker.text).map_err(io_err(&marker))?;
        self.replaceable()?;
        let old = if self.path.exists() {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let old = self
                .parent
                .join(format!("{}{nanos:09}", temp_prefix("old")));
            fs::rename(&self.path, &old).map_err(io_err(&self.shown))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = fs::rename(staged.path(), &self.path) {
            if let Some(old) = &old {
                // put the previous folder back
                let _ = fs::rename(old, &self.path);
            }
            return Err(io_err(&self.shown)(e).into());
        }
        // the staged folder is in place: nothing left for its guard to remove
        let _ = staged.keep();
        if let Some(old) = old {
            // a failure here leaves a stale name the next run removes
            let _ = fs::remove_dir_all(old);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names() {
        let own = |n| temp_name(n, Place::Beside);
        assert_eq!(
            own(".cachelens-report-123-0a1b2c3d-abC9"),
            Some(TempName::Own {
                pid: "123",
                space: "0a1b2c3d"
            })
        );
        for legacy in [".cachelens-report-aB3xY9", ".cachelens-old-4242"] {
            assert_eq!(own(legacy), Some(TempName::Legacy), "{legacy}");
        }
        assert_eq!(own(".tmpA1b2C3"), None, "not ours outside the archive");
        assert_eq!(
            temp_name(".tmpA1b2C3", Place::Archive),
            Some(TempName::Legacy)
        );
        for not in [
            ".cachelens-report",
            ".cachelens-report-x-1-2",
            ".cachelens-tmp-1-x",
            ".cachelens-mine-1-x-y",
            ".cachelens-old-x",
            ".tmp",
            "build.log",
        ] {
            assert_eq!(temp_name(not, Place::Archive), None, "{not}");
        }
        let mine = format!("{}zz", temp_prefix("old"));
        let parsed = own(&mine).unwrap();
        assert!(!provably_dead(&parsed), "this process is alive");
        if pid_space() != "x" {
            let dead = format!(".cachelens-tmp-4194999-{}-zz", pid_space());
            assert!(provably_dead(&own(&dead).unwrap()));
            let elsewhere = ".cachelens-tmp-4194999-00000000-zz";
            assert!(!provably_dead(&own(elsewhere).unwrap()));
        }
    }

    #[test]
    fn resolving_paths_that_do_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        assert_eq!(
            resolve(&dir.path().join("a/b/../c")).unwrap(),
            real.join("a/c")
        );
        assert_eq!(resolve(dir.path()).unwrap(), real);
    }
}
