//! Credentials out of the text kept from a log: every output reads the records,
//! so redacting the records' strings once covers all of them.
//!
//! What is redacted (replaced by `[redacted]`, the key name kept where there is one):
//! AWS access key ids (`AKIA`/`ASIA` + 16), assignments to names holding `TOKEN`,
//! `SECRET`, `PASSWORD`, `PASSWD`, `API_KEY`, `APIKEY` or `CREDENTIALS` (build args, `ENV`,
//! `RUN` text: `NPM_TOKEN=…`, `aws_secret_access_key = …`, `ENV DB_PASSWORD …`),
//! `Authorization:` header values, GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
//! `github_pat_`), GitLab (`glpat-`), npm (`npm_`) and Slack (`xox[abpr]-`) tokens,
//! PEM private-key blocks, and the `user:password@` of URLs.
//!
//! One Aho-Corasick pass over a build's kept strings, joined, finds those that
//! hold a trigger word (in lower, UPPER or Capitalized case: `token`, `TOKEN`,
//! `Token`, so `npm_token`, `NPM_TOKEN`, `authToken` are found, `tOkEn` is not);
//! the others are not looked at again. In each of those, a second pass finds
//! the kinds of secret it may hold (the words every match of a kind holds), and
//! only the expression of those kinds runs, compiled the first time a text
//! needs it. Names and keywords match in any ASCII case (`(?i-u)`), not by
//! Unicode case folding (the KELVIN SIGN is no `K`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind, packed};
use regex::{Captures, Regex};

use super::vertex_name::parse_vertex_name;
use crate::model::{Build, ParsedLog};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The trigger words (each kind's first need) in lower, UPPER and Capitalized
/// case, so `apiKey` is one of [`NAME_WORDS`]: exact matching keeps the SIMD
/// search (an ASCII-case-insensitive one is ten times slower).
static PREFILTER: LazyLock<Triggers> = LazyLock::new(|| Triggers::new(&trigger_words()));

/// The words of [`PREFILTER`].
fn trigger_words() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for t in KINDS.iter().flat_map(|kind| kind.needs[0]) {
        let mut capitalized = t.to_string();
        capitalized[..1].make_ascii_uppercase();
        for w in [t.to_string(), t.to_ascii_uppercase(), capitalized] {
            if !words.contains(&w) {
                words.push(w);
            }
        }
    }
    words
}

/// The searcher of the trigger words: Teddy alone where the CPU has it (built
/// in a fifth of the instructions of the automaton it would prefilter),
/// else a contiguous automaton (the DFA the builder would pick for so few
/// words took 1.7 M instructions to build, 4 % of `summary` on a 1 MB log).
enum Triggers {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Triggers {
    fn new(words: &[String]) -> Self {
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(words)
            .build();
        packed.map_or_else(|| Self::automaton(words), Triggers::Packed)
    }

    fn automaton(words: &[String]) -> Self {
        Triggers::Automaton(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(words)
                .expect("the trigger words build an automaton"),
        )
    }

    /// Whether `text` holds a trigger word.
    fn found(&self, text: &[u8]) -> bool {
        match self {
            Triggers::Packed(searcher) => searcher.find(text).is_some(),
            Triggers::Automaton(automaton) => automaton.find(text).is_some(),
        }
    }

    /// Calls `f` with where each trigger word in `text` starts, left to right.
    fn each_start(&self, text: &[u8], mut f: impl FnMut(usize)) {
        match self {
            Triggers::Packed(searcher) => searcher.find_iter(text).for_each(|m| f(m.start())),
            Triggers::Automaton(automaton) => automaton.find_iter(text).for_each(|m| f(m.start())),
        }
    }
}

/// A name that holds a credential word, in any ASCII case (`NPM_TOKEN`, `authToken`).
macro_rules! names {
    () => {
        r"[A-Za-z0-9_.\-]*(?i-u:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|CREDENTIALS)[A-Za-z0-9_]*"
    };
}

/// A value: a quoted one and what is glued to it, or a word.
macro_rules! value {
    () => {
        r#"(?:(?:"[^"]*"?|'[^']*'?)[^\s"']*|[^\s"']+)"#
    };
}

/// The words of [`names!`].
const NAME_WORDS: &[&str] = &[
    "token",
    "secret",
    "passw",
    "api_key",
    "apikey",
    "apiKey",
    "credentials",
];

/// A kind of secret: one alternative of the expression, and the words every
/// match of it holds.
struct Kind {
    pattern: &'static str,
    /// One word of each list is in any text the pattern matches, in any ASCII
    /// case; the first list's words are the triggers.
    needs: &'static [&'static [&'static str]],
}

/// A kind of secret (a `const fn`: [`KINDS`] is a table).
const fn kind(pattern: &'static str, needs: &'static [&'static [&'static str]]) -> Kind {
    Kind { pattern, needs }
}

/// The kinds of secret, in the order their alternatives are tried at a place;
/// the group named `keep…` is the text kept before `[redacted]`.
const KINDS: [Kind; 12] = [
    // a PEM private key: from its BEGIN line to its END line (or the end of the text)
    kind(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
        &[&["PRIVATE KEY-----"], &["-----BEGIN "]],
    ),
    // AWS access key ids: before the forms that keep a prefix, so a key id
    // glued to a name or a scheme (`AKIA…TOKEN=x`) is not kept with it
    kind(r"(?:AKIA|ASIA)[A-Z0-9]{16}", &[&["akia", "asia"]]),
    // GitHub, GitLab, npm, Slack tokens
    kind(
        r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",
        &[&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]],
    ),
    kind(r"github_pat_[A-Za-z0-9_]{20,}", &[&["github_pat_"]]),
    kind(r"glpat-[A-Za-z0-9_\-]{20,}", &[&["glpat-"]]),
    kind(r"npm_[A-Za-z0-9]{36}", &[&["npm_"]]),
    kind(r"xox[abpr]-[A-Za-z0-9\-]{10,}", &[&["xox"]]),
    // Authorization: Bearer …, Basic …, token …, or a bare value
    kind(
        concat!(
            r"(?P<keep>(?i-u:authorization)\s*[:=]\s*(?:(?i-u:bearer|basic|token)\s+)?)",
            value!()
        ),
        &[&["authorization"], &[":", "="]],
    ),
    // ENV NAME value (the legacy form of ENV)
    kind(
        concat!(r"(?P<keep2>(?i-u:ENV)\s+", names!(), r"\s+)", value!()),
        &[NAME_WORDS, &["env"]],
    ),
    // NAME=value, NAME = value
    kind(
        concat!(r"(?P<keep3>", names!(), r"\s*=\s*)", value!()),
        &[NAME_WORDS, &["="]],
    ),
    // aws_secret_access_key: value
    kind(
        concat!(r"(?P<keep4>(?i-u:aws_secret_access_key)\s*:\s*)", value!()),
        &[&["aws_secret_access_key"], &[":"]],
    ),
    // scheme://user:password@
    kind(
        r"(?P<keep5>[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]*@",
        &[&["://"], &["@"]],
    ),
];

/// Sets of kinds, one bit per kind of [`KINDS`].
type KindSet = usize;

/// Which kinds of secret a text may hold: the words of the kinds' needs
/// found in one pass, and each need as the set of its words.
struct Needs {
    words: AhoCorasick,
    /// Per kind, per need: the bits of its words.
    kinds: Vec<Vec<u64>>,
}

static NEEDS: LazyLock<Needs> = LazyLock::new(|| {
    let mut words: Vec<&str> = Vec::new();
    let kinds = KINDS
        .iter()
        .map(|kind| {
            kind.needs
                .iter()
                .map(|need| {
                    need.iter().fold(0u64, |bits, word| {
                        let same = |w: &&str| w.eq_ignore_ascii_case(word);
                        let i = words.iter().position(same).unwrap_or_else(|| {
                            words.push(word);
                            words.len() - 1
                        });
                        bits | 1 << i
                    })
                })
                .collect()
        })
        .collect();
    // the texts are short: no prefilter, and the automaton quickest to build
    let words = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .prefilter(false)
        .kind(Some(AhoCorasickKind::NoncontiguousNFA))
        .build(words)
        .expect("the needed words build an automaton");
    Needs { words, kinds }
});

impl Needs {
    /// The kinds whose every need has a word in `text`.
    fn possible(&self, text: &str) -> KindSet {
        let held = self
            .words
            .find_overlapping_iter(text)
            .fold(0u64, |held, m| held | 1 << m.pattern().as_usize());
        self.kinds
            .iter()
            .enumerate()
            .filter(|(_, needs)| needs.iter().all(|need| need & held != 0))
            .fold(0, |set, (i, _)| set | 1 << i)
    }
}

/// The expression of each set of kinds, compiled the first time a text may
/// hold just those: most logs need few kinds or none (`--password-stdin`
/// needs no URL, key or header expression), and compiling all twelve took
/// 4.3 M instructions, half of a post_build `summary`.
static EXPRESSIONS: [OnceLock<Regex>; 1 << KINDS.len()] =
    [const { OnceLock::new() }; 1 << KINDS.len()];

/// Every kind.
const ALL: KindSet = (1 << KINDS.len()) - 1;

/// How many sets get an expression of their own; past them a text gets the
/// whole one, so a log whose texts hold every mix of kinds compiles a few
/// expressions, not thousands.
const MAX_EXPRESSIONS: usize = 8;

/// How many sets got one.
static COMPILED: AtomicUsize = AtomicUsize::new(0);

/// `set`, or every kind once [`MAX_EXPRESSIONS`] other sets have their own
/// expression.
fn capped(set: KindSet) -> KindSet {
    if set == 0 || EXPRESSIONS[set].get().is_some() {
        return set;
    }
    let own = COMPILED.load(Ordering::Relaxed) < MAX_EXPRESSIONS
        && COMPILED.fetch_add(1, Ordering::Relaxed) < MAX_EXPRESSIONS;
    if own { set } else { ALL }
}

/// The alternatives of `set`, in their order: where the kinds left out match
/// nowhere in a text, it finds what the whole expression would.
fn expression(set: KindSet) -> &'static Regex {
    EXPRESSIONS[set].get_or_init(|| {
        let pattern: Vec<&str> = KINDS
            .iter()
            .enumerate()
            .filter(|(i, _)| set & 1 << i != 0)
            .map(|(_, kind)| kind.pattern)
            .collect();
        Regex::new(&pattern.join("|")).expect("the secrets expression compiles")
    })
}

/// Passes over a text at most: a replacement can join what stood around a
/// secret into a new one (`https://` + a key block + `u:p@`).
const MAX_PASSES: usize = 8;

/// `text` with every secret replaced by `[redacted]`; borrowed when there is none.
/// Idempotent: passes repeat until one changes nothing.
pub fn redact(text: &str) -> Cow<'_, str> {
    redact_with(text, |text| capped(NEEDS.possible(text)))
}

/// [`redact`], each pass with the expression of the kinds `kinds` gives for its text.
fn redact_with(text: &str, kinds: fn(&str) -> KindSet) -> Cow<'_, str> {
    if !PREFILTER.found(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    let mut out = match pass(text, kinds(text)) {
        Cow::Borrowed(_) => return Cow::Borrowed(text),
        Cow::Owned(out) => out,
    };
    for _ in 1..MAX_PASSES {
        match pass(&out, kinds(&out)) {
            Cow::Owned(next) if next != out => out = next,
            _ => break,
        }
    }
    Cow::Owned(out)
}

/// One pass over `text` of the expression of the kinds in `set`.
fn pass(text: &str, set: KindSet) -> Cow<'_, str> {
    if set == 0 {
        return Cow::Borrowed(text);
    }
    expression(set).replace_all(text, |caps: &Captures<'_>| {
        let keep = ["keep", "keep2", "keep3", "keep4"]
            .iter()
            .find_map(|name| caps.name(name));
        if let Some(keep) = keep {
            return format!("{}{REDACTED}", keep.as_str());
        }
        if let Some(scheme) = caps.name("keep5") {
            return format!("{}{REDACTED}@", scheme.as_str());
        }
        REDACTED.to_owned()
    })
}

/// The lines of PEM private-key blocks in a log: a block's body stands on lines
/// of its own, which a string kept from one line cannot show is secret.
#[derive(Debug, Default)]
pub struct PemBlocks {
    inside: bool,
}

impl PemBlocks {
    /// Whether the input can hold a private-key block at all (one pass, memchr's memmem).
    pub fn possible(input: &[u8]) -> bool {
        memchr::memmem::find(input, b"PRIVATE KEY-----").is_some()
    }

    /// Reads one more line: `true` when it is the body or the end of a block
    /// (and must not be kept), `false` for a line outside, or the block's first line.
    pub fn line(&mut self, line: &[u8]) -> bool {
        let begin = memchr::memmem::find(line, b"-----BEGIN ");
        let end = memchr::memmem::rfind(line, b"-----END ");
        if self.inside {
            if end.is_some() && begin.is_none_or(|b| Some(b) < end) {
                self.inside = false;
            }
            return true;
        }
        if let Some(b) = begin
            && memchr::memmem::find(&line[b..], b"PRIVATE KEY-----").is_some()
        {
            self.inside = end.is_none_or(|e| e < b);
        }
        false
    }
}

/// Redacts `text` in place.
pub fn redact_string(text: &mut String) {
    if let Cow::Owned(clean) = redact(text) {
        *text = clean;
    }
}

/// Redacts every string a build kept from its text: step names (and the
/// arguments read from them), stages, errors, warnings, cache references, the
/// context line, its phase and command.
pub fn redact_build(build: &mut Build) {
    redact_kept(&mut |f| each_kept_by_build(build, f));
    args_of_redacted_names(build);
}

/// Redacts what a log kept outside its builds: CodeBuild commands and phase
/// messages, client errors.
pub fn redact_rest(log: &mut ParsedLog) {
    redact_kept(&mut |f| each_kept_outside(log, f));
}

/// What is called on each kept string.
type Visit<'a> = &'a mut dyn FnMut(&mut String);

/// Redacts the strings `each` visits (it is called twice): one pass of the
/// trigger words over all of them, joined; then only the strings that hold one
/// are looked at.
fn redact_kept(each: &mut dyn FnMut(Visit<'_>)) {
    thread_local! {
        /// The joined text and where each string ends, reused build after build.
        static JOINED: RefCell<(Vec<u8>, Vec<usize>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }
    let mut suspects: Vec<usize> = JOINED.with_borrow_mut(|(joined, ends)| {
        joined.clear();
        ends.clear();
        each(&mut |text| {
            joined.extend_from_slice(text.as_bytes());
            joined.push(b'\n');
            ends.push(joined.len());
        });
        let mut suspects = Vec::new();
        PREFILTER.each_start(joined, |start| {
            suspects.push(ends.partition_point(|&end| end <= start));
        });
        suspects
    });
    if suspects.is_empty() {
        return;
    }
    suspects.dedup();
    let (mut index, mut next) = (0, 0);
    each(&mut |text| {
        if suspects.get(next) == Some(&index) {
            redact_string(text);
            next += 1;
        }
        index += 1;
    });
}

/// A step's arguments read again from its name where the name was redacted: the
/// name's expression is the one that counts (the legacy `ENV NAME value` is a
/// secret only with its keyword, which the arguments lack), so no secret the
/// name loses survives in the arguments.
fn args_of_redacted_names(build: &mut Build) {
    for step in &mut build.steps {
        if step.instruction.is_some()
            && let Some(name) = &step.name
            && name.contains(REDACTED)
        {
            step.args = parse_vertex_name(name).args.map(Box::from);
        }
    }
}

/// Calls `f` on every string a build kept from its text.
fn each_kept_by_build(build: &mut Build, f: &mut dyn FnMut(&mut String)) {
    for step in &mut build.steps {
        for text in [
            &mut step.name,
            &mut step.stage,
            &mut step.platform,
            &mut step.instruction,
            &mut step.digest,
            &mut step.error,
        ] {
            each_boxed(f, text);
        }
    }
    for import in &mut build.cache.imports {
        f(&mut import.reference);
        each_some(f, &mut import.error);
    }
    for export in &mut build.cache.exports {
        f(&mut export.name);
        each_some(f, &mut export.error);
    }
    each_some(f, &mut build.error);
    build.warnings.iter_mut().for_each(&mut *f);
    each_some(f, &mut build.phase);
    each_some(f, &mut build.command);
    if let Some(context) = &mut build.context {
        f(&mut context.text);
        f(&mut context.size);
    }
}

/// Calls `f` on every string a parsed log kept from its text outside its builds.
fn each_kept_outside(log: &mut ParsedLog, f: &mut dyn FnMut(&mut String)) {
    if let Some(run) = &mut log.run {
        for phase in &mut run.phases {
            f(&mut phase.name);
            each_some(f, &mut phase.state);
            each_some(f, &mut phase.status_code);
            each_some(f, &mut phase.message);
        }
        for command in &mut run.commands {
            f(&mut command.command);
            each_some(f, &mut command.phase);
        }
    }
    for (_, message) in &mut log.errors_outside {
        f(message);
    }
}

fn each_some(f: &mut dyn FnMut(&mut String), text: &mut Option<String>) {
    if let Some(text) = text {
        f(text);
    }
}

/// [`each_some`] for a step's boxed text (a `String` for the call: no copy).
fn each_boxed(f: &mut dyn FnMut(&mut String), text: &mut Option<Box<str>>) {
    if let Some(boxed) = text {
        let mut owned = String::from(std::mem::take(boxed));
        f(&mut owned);
        *boxed = owned.into_boxed_str();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        redact(text).into_owned()
    }

    #[test]
    fn every_kind_of_secret_is_redacted() {
        let cases = [
            ("key AKIAIOSFODNN7EXAMPLE here", "key [redacted] here"),
            ("ASIAY34FZKBOKMUTVV7A", "[redacted]"),
            (
                "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "aws_secret_access_key=[redacted]",
            ),
            (
                "export AWS_SECRET_ACCESS_KEY = abc/def",
                "export AWS_SECRET_ACCESS_KEY = [redacted]",
            ),
            (
                "aws_secret_access_key: abc",
                "aws_secret_access_key: [redacted]",
            ),
            (
                "[2/3] RUN --build-arg NPM_TOKEN=npm_s3cr3t npm ci",
                "[2/3] RUN --build-arg NPM_TOKEN=[redacted] npm ci",
            ),
            (
                "ENV DB_PASSWORD=\"a b c\" X=1",
                "ENV DB_PASSWORD=[redacted] X=1",
            ),
            ("ENV DB_PASSWORD hunter2", "ENV DB_PASSWORD [redacted]"),
            // a key id glued to a URL scheme or a name is no part of what is kept
            (
                "AAKIAIOSFODNN7EXAMPLEhttps://u:p@",
                "A[redacted]https://[redacted]@",
            ),
            ("AKIAIOSFODNN7EXAMPLETOKEN=x", "[redacted]TOKEN=[redacted]"),
            // a replacement that joins its neighbours into a new secret
            (
                "https://-----BEGIN RSA PRIVATE KEY----------END RSA PRIVATE KEY-----u:p@",
                "https://[redacted]@",
            ),
            ("MY_API_KEY='x y'", "MY_API_KEY=[redacted]"),
            ("GOOGLE_CREDENTIALS=abc", "GOOGLE_CREDENTIALS=[redacted]"),
            ("PASSWD=x", "PASSWD=[redacted]"),
            (
                "curl -H 'Authorization: Bearer eyJhbGciOi.x.y' https://api",
                "curl -H 'Authorization: Bearer [redacted]' https://api",
            ),
            (
                "authorization: Basic dXNlcjpwYXNz",
                "authorization: Basic [redacted]",
            ),
            (
                "git clone https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/x",
                "git clone https://[redacted]@github.com/x",
            ),
            ("ghs_0123456789abcdefghijABCDEFGHIJ012345", "[redacted]"),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
                "[redacted]",
            ),
            ("glpat-abcdefghij0123456789", "[redacted]"),
            ("npm_0123456789abcdefghijABCDEFGHIJ012345", "[redacted]"),
            ("xoxb-1234567890-abcdef", "[redacted]"),
            (
                "pip install -i https://user:hunter2@pypi.example.com/simple x",
                "pip install -i https://[redacted]@pypi.example.com/simple x",
            ),
            (
                "RUN echo '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIB\n-----END RSA PRIVATE KEY-----' > k",
                "RUN echo '[redacted]' > k",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1r",
                "[redacted]",
            ),
            // found by the idempotence property: a quoted value with text glued to it
            ("Authorization: ''AKIA", "Authorization: [redacted]"),
            ("authToken=abc", "authToken=[redacted]"),
        ];
        for (text, want) in cases {
            assert_eq!(r(text), want, "{text}");
            assert_eq!(r(want), want, "idempotent: {want}");
        }
    }

    #[test]
    fn the_arguments_of_a_step_are_redacted_as_its_name() {
        let text = "#1 [1/3] RUN --mount=type=secret NPM_TOKEN=npm_s3cr3t npm ci\n#1 DONE 0.1s\n\n\
                    #2 [2/3] ENV DB_PASSWORD hunter2\n#2 DONE 0.0s\n\n\
                    #3 [3/3] COPY . .\n#3 DONE 0.1s\n";
        let log = crate::parse::parse_log(text.as_bytes(), "t");
        let args: Vec<Option<&str>> = log.builds[0]
            .steps
            .iter()
            .map(|s| s.args.as_deref())
            .collect();
        assert_eq!(
            args,
            [
                Some("--mount=type=secret NPM_TOKEN=[redacted] npm ci"),
                Some("DB_PASSWORD [redacted]"),
                Some(". ."),
            ]
        );
        let options = crate::parse::ParseOptions {
            redact: false,
            ..Default::default()
        };
        let plain = crate::parse::parse_log_with(text.as_bytes(), "t", &options);
        assert_eq!(
            plain.builds[0].steps[1].args.as_deref(),
            Some("DB_PASSWORD hunter2")
        );
    }

    #[test]
    fn a_private_key_block_is_followed_across_lines() {
        let log: &[&[u8]] = &[
            b"#5 0.1 x",
            b"#5 0.2 -----BEGIN EC PRIVATE KEY-----",
            b"MHcCAQEEI",
            b"-----END EC PRIVATE KEY----- tail",
            b"#5 DONE 0.3s",
        ];
        let mut pem = PemBlocks::default();
        let hidden: Vec<bool> = log.iter().map(|l| pem.line(l)).collect();
        assert_eq!(hidden, [false, false, true, true, false]);
        assert!(PemBlocks::possible(&log.concat()));
        let mut pem = PemBlocks::default();
        assert!(!pem.line(b"-----BEGIN RSA PRIVATE KEY----- x -----END RSA PRIVATE KEY-----"));
        assert!(!pem.line(b"after"));
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn redaction_is_idempotent(
            text in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "AKIA", "ASIA", "ghp_", "github_pat_", "glpat-", "npm_", "xoxb-",
                        "TOKEN", "_PASSWORD", "=", " = ", "\"", "'", "Authorization: ",
                        "Bearer ", "https://", "u:p@", ":", "@", " ", "\n", "ENV ",
                        "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
                        "[redacted]", "AKIAIOSFODNN7EXAMPLE", "0123456789abcdefghij",
                    ]).prop_map(str::to_owned),
                    "[A-Za-z0-9_./-]{1,8}".prop_map(|s: String| s),
                ],
                0..24,
            ).prop_map(|parts: Vec<String>| parts.concat())
        ) {
            let once = r(&text);
            prop_assert_eq!(r(&once), once.clone(), "from {:?}", text);
        }

        /// Teddy, where the CPU has it, finds the triggers the automaton finds.
        #[test]
        fn both_trigger_searchers_find_the_same(
            text in "(?:[a-zA-Z_:/-]|token|Token|TOKEN|://|npm_|PRIVATE KEY-----|ghp_){0,40}"
        ) {
            let words = trigger_words();
            let packed = Triggers::new(&words);
            if !matches!(packed, Triggers::Packed(_)) {
                return Ok(()); // no Teddy on this CPU: the automaton is the searcher
            }
            let starts = |t: &Triggers| {
                let mut starts = Vec::new();
                t.each_start(text.as_bytes(), |s| starts.push(s));
                (t.found(text.as_bytes()), starts)
            };
            prop_assert_eq!(starts(&packed), starts(&Triggers::automaton(&words)));
        }

        /// Leaving out the kinds a text cannot hold finds what the whole
        /// expression finds.
        #[test]
        fn the_kinds_a_text_may_hold_redact_as_all_of_them(
            text in proptest::collection::vec(
                prop_oneof![
                    // whole secrets of each kind, and the pieces that make or break them
                    4 => proptest::sample::select(vec![
                        "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
                        "AKIAIOSFODNN7EXAMPLE", "asia", "ghp_0123456789abcdefghij", "ghr_",
                        "github_pat_0123456789abcdefghij", "glpat-0123456789abcdefghij",
                        "npm_0123456789abcdefghij0123456789abcdef", "xoxb-0123456789", "xoxz-",
                        "Authorization: Bearer x", "AUTHORIZATION=", "ENV A_TOKEN v",
                        "env\tapiKey\t", "NPM_TOKEN=x", "Token", "tOkEn", "_PASSWORD", "passwd",
                        "credentials", "aws_secret_access_key: v", "https://u:p@h", "git+ssh://",
                        "u:p@", "://", "=", " = ", ":", "@", "\"", "'", " ", "\t", "\n",
                        "[redacted]", "\u{a0}", "\u{212a}", "é",
                    ]).prop_map(str::to_owned),
                    1 => "[A-Za-z0-9_./:@=-]{1,8}".prop_map(|s: String| s),
                ],
                0..12,
            ).prop_map(|parts: Vec<String>| parts.concat())
        ) {
            let kinds = redact_with(&text, |text| NEEDS.possible(text));
            let whole = redact_with(&text, |_| ALL);
            prop_assert_eq!(kinds, whole, "from {:?}", text);
        }
    }

    #[test]
    fn past_the_cap_a_text_gets_the_whole_expression() {
        let mut set = 1;
        while COMPILED.load(Ordering::Relaxed) < MAX_EXPRESSIONS {
            expression(capped(set));
            set += 1;
        }
        let unseen = (1..ALL).find(|&s| EXPRESSIONS[s].get().is_none()).unwrap();
        assert_eq!(capped(unseen), ALL);
        assert_eq!(capped(0), 0, "no kind needs no expression");
        assert_eq!(
            r("NPM_TOKEN=x https://u:p@h"),
            "NPM_TOKEN=[redacted] https://[redacted]@h"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "[internal] load build definition from Dockerfile",
            "[4/6] RUN npm ci --token-file=/run/secrets/npm",
            "https://registry.npmjs.org/express",
            "sha256:082798addb296dae48645bdd419a1755afe99488bc1b900981c60018c7fd5d45",
            "importing cache manifest from 127.0.0.1:5000/app:cache",
            "npm_config_cache=/tmp",
        ] {
            assert!(
                matches!(redact(text), Cow::Borrowed(_)) || r(text) == text,
                "{text}"
            );
            assert_eq!(r(text), text);
        }
    }
}
