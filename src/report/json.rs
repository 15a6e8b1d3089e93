//! JSON: the `steps --format json` contract and `summary --format json`.

use std::io::{self, Write};

use serde::Serialize;

use super::{OutsideRecord, RunRecord};

/// The `{"builds": [ … ], "runs": [ … ]}` document, pretty-printed, written
/// entry by entry as the builds come (the same bytes as the whole document
/// given to serde_json at once).
#[derive(Debug, Default)]
pub struct Document {
    entries: usize,
    buf: Vec<u8>,
}

impl Document {
    /// Writes one entry of `builds`.
    pub fn entry<T: Serialize + ?Sized>(
        &mut self,
        entry: &T,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.buf.clear();
        super::escape::to_json_writer_pretty(&mut self.buf, entry)?;
        out.write_all(if self.entries == 0 {
            b"{\n  \"builds\": [\n"
        } else {
            b",\n"
        })?;
        self.entries += 1;
        // one level deeper: strings hold no raw line break, so every line is indented
        indented(&self.buf, b"    ", true, out)
    }

    /// Ends the document: `runs` (the CodeBuild runs) and `outside` (the logs'
    /// lines outside any build) when there are some.
    pub fn finish(
        self,
        runs: &[RunRecord<'_>],
        outside: &[OutsideRecord],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(if self.entries == 0 {
            b"{\n  \"builds\": []"
        } else {
            b"\n  ]"
        })?;
        if !runs.is_empty() {
            let mut buf = Vec::new();
            super::escape::to_json_writer_pretty(&mut buf, runs)?;
            out.write_all(b",\n  \"runs\": ")?;
            indented(&buf, b"  ", false, out)?;
        }
        if !outside.is_empty() {
            let mut buf = Vec::new();
            super::escape::to_json_writer_pretty(&mut buf, outside)?;
            out.write_all(b",\n  \"outside\": ")?;
            indented(&buf, b"  ", false, out)?;
        }
        out.write_all(b"\n}\n")
    }
}

/// Writes `text`'s lines with `indent` before each (but the first, unless `first`).
fn indented(text: &[u8], indent: &[u8], first: bool, out: &mut dyn Write) -> io::Result<()> {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
        }
        if i > 0 || first {
            out.write_all(indent)?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole document, as serde_json prints it at once.
    #[derive(Serialize)]
    struct Whole<'a> {
        builds: Vec<&'a crate::model::Build>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        runs: Vec<RunRecord<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        outside: Vec<OutsideRecord>,
    }

    #[test]
    fn the_document_written_entry_by_entry_is_the_whole_one() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
        let mut logs = Vec::new();
        for name in [
            "nodeapp-warm.log",
            "failing-run-test.log",
            "multistage-partial-backend-change.log",
        ] {
            let text = std::fs::read(dir.join(name)).unwrap();
            logs.push(crate::parse::parse_log(&text, name));
        }
        let codebuild = b"[Container] 2024/01/01 00:00:00.000000 Running command docker build .\n\
                          #1 [1/1] FROM a\n#1 DONE 0.1s\nLogin Succeeded\n";
        logs.push(crate::parse::parse_log(codebuild, "cb.log"));
        for logs in [&logs[..0], &logs[..1], &logs[..]] {
            let whole = Whole {
                builds: logs.iter().flat_map(|l| &l.builds).collect(),
                runs: super::super::runs(logs.iter().map(|l| (l.source.as_str(), l.run.as_ref()))),
                outside: logs.iter().filter_map(OutsideRecord::of).collect(),
            };
            let mut expected = Vec::new();
            super::super::escape::to_json_writer_pretty(&mut expected, &whole).unwrap();
            expected.push(b'\n');
            let mut got = Vec::new();
            super::super::write_steps(super::super::StepsFormat::Json, logs, &mut got).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
