//! The identity of a Dockerfile step across builds.
//!
//! Rule: the instruction keyword and its arguments as printed, without the
//! `[platform stage i/n]` prefix (BuildKit gives a vertex shared by several
//! stages the prefix of whichever stage claimed it first, and positions shift
//! when a Dockerfile grows), without image digests (`@sha256:…`, which change
//! with every base-image update), and with runs of white space folded to one.
//!
//! Limits: two stages with the same instruction text (`WORKDIR /app` in a `lint`
//! and a `test` stage) share a key; an instruction whose text holds a
//! build-arg's value (`RUN echo $VERSION` printed expanded) gets a new key when
//! the value changes; a step whose name BuildKit truncated (`PROGRESS_NO_TRUNC=0`)
//! keys on the truncated text.

use crate::model::{Kind, Step};

/// The step key of a Dockerfile step (`FROM` included); `None` for other vertices.
pub fn step_key(step: &Step) -> Option<String> {
    if !matches!(step.kind, Kind::Instruction | Kind::From) {
        return None;
    }
    let mut key = String::from(step.instruction.as_deref()?);
    let args = strip_digests(step.args.as_deref().unwrap_or_default());
    for word in args.split_whitespace() {
        key.push(' ');
        key.push_str(word);
    }
    Some(key)
}

/// Removes `@sha256:<64 hex>` from image references.
fn strip_digests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("@sha256:") {
        let digest = &rest[at + 8..];
        let hex = digest.bytes().take_while(|c| c.is_ascii_hexdigit()).count();
        if hex == 64 {
            out.push_str(&rest[..at]);
            rest = &digest[64..];
        } else {
            out.push_str(&rest[..at + 8]);
            rest = digest;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The step a log with one vertex named `name` gives, of kind `kind`.
    fn step(name: &str, kind: Kind) -> Step {
        let text = format!("#1 {name}\n#1 DONE 0.1s\n");
        let mut log = crate::parse::parse_log(text.as_bytes(), "t");
        let step = log.builds.remove(0).steps.remove(0);
        assert_eq!(step.kind, kind, "{name}");
        step
    }

    #[test]
    fn prefix_digest_and_spaces_do_not_matter() {
        let h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let a = step(
            &format!("[linux/amd64 base 1/3] FROM docker.io/library/node:20@sha256:{h}"),
            Kind::From,
        );
        let b = step("FROM docker.io/library/node:20", Kind::From);
        assert_eq!(
            step_key(&a).as_deref(),
            Some("FROM docker.io/library/node:20")
        );
        assert_eq!(step_key(&a), step_key(&b));
        let run = |n: &str| step_key(&step(n, Kind::Instruction));
        assert_eq!(run("[test 3/4] COPY . ."), run("[lint 3/4] COPY . ."));
        assert_eq!(
            run("[4/6] RUN echo a  && sleep 3"),
            Some("RUN echo a && sleep 3".to_owned())
        );
        assert_ne!(run("[4/6] RUN npm ci"), run("[4/6] RUN npm install"));
        assert_eq!(
            step_key(&step("[internal] load build context", Kind::Internal)),
            None
        );
        assert_eq!(
            strip_digests("x@sha256:abc"),
            "x@sha256:abc",
            "not a whole digest"
        );
    }
}
