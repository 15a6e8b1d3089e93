//! The answer a report gives first: did the cache pay for itself? One
//! sentence and one figure, with the tone of its sign, made once from the
//! [`Totals`] for the terminal headline and both pages. A figure that depends
//! on an unknown input is said to be unknown, never computed as if it were zero.

use serde::Serialize;

use crate::analyze::frames::Totals;

/// The sign of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// The cache saved more than it cost.
    Gain,
    /// It cost more than it saved.
    Loss,
    /// Its cost, or what it saved, is not known.
    Unknown,
}

/// The verdict of a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Its sign.
    pub tone: Tone,
    /// The figure: `net +1.52 USD`, or `net unknown`.
    pub figure: String,
    /// The sentence, with what it rests on.
    pub sentence: String,
}

/// An amount with its sign and currency: `+1.52 USD`, `-10.04 USD`.
pub fn signed(x: f64, currency: &str) -> String {
    // -0.004 rounds to "-0.00": the sign of a zero is not a loss
    let s = format!("{x:+.2}");
    let s = if s == "-0.00" { "+0.00".to_owned() } else { s };
    format!("{s} {currency}")
}

impl Verdict {
    /// The verdict of the headline figures.
    pub fn of(t: &Totals) -> Self {
        let cur = &t.currency;
        let m = |x: f64| format!("{x:.2} {cur}");
        let saved = format!("saved {} of compute", m(t.compute_saved));
        let lower_bound = if t.saved_unknown > 0 {
            format!(
                " ({} cached steps of unknown time are not counted: the saving is a lower bound)",
                t.saved_unknown
            )
        } else {
            String::new()
        };
        let (Some(cost), Some(net)) = (t.cache_cost, t.net) else {
            let break_even = t.break_even_gb.map_or_else(String::new, |gb| {
                format!("; it pays for itself while the cache repository holds under {gb:.1} GB")
            });
            return Verdict {
                tone: Tone::Unknown,
                figure: "net unknown".to_owned(),
                sentence: format!(
                    "Whether the cache pays for itself is unknown: it {saved} and cost {} in import/export, but the cache repository's size, and so its storage cost, is unknown (give --cache-repo or --cache-size-gb){break_even}{lower_bound}.",
                    m(t.overhead_cost)
                ),
            };
        };
        let ratio = t
            .return_ratio
            .map_or_else(String::new, |r| format!(", {r:.1}× return"));
        let interval = t.net_interval.map_or_else(String::new, |i| {
            format!(
                " (90 % interval {} to {})",
                signed(i.low, cur),
                signed(i.high, cur)
            )
        });
        let figures = format!(
            "{saved}, cost {} (import/export + storage), net {}{interval}{ratio}",
            m(cost),
            signed(net, cur)
        );
        let (tone, sentence) = if net >= 0.0 || signed(net, cur).starts_with('+') {
            (
                Tone::Gain,
                format!("The cache paid for itself: {figures}{lower_bound}."),
            )
        } else {
            (
                Tone::Loss,
                format!("The cache did not pay for itself: {figures}{lower_bound}."),
            )
        };
        Verdict {
            tone,
            figure: format!("net {}", signed(net, cur)),
            sentence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(storage_cost: Option<f64>, saved_unknown: usize) -> Totals {
        let (compute_saved, overhead_cost) = (3.26, 0.16);
        let cache_cost = storage_cost.map(|s| s + overhead_cost);
        Totals {
            first_day: None,
            last_day: None,
            days: 7.0,
            runs: 1,
            codebuild_runs: 1,
            builds: 1,
            cacheable: 1,
            cached: 1,
            hit_rate: Some(1.0),
            saved_seconds: 60.0,
            saved_unknown,
            overhead_seconds: 1.0,
            billed_minutes: 1.0,
            billed_minutes_without_cache: 2.0,
            compute_saved,
            overhead_cost,
            storage_cost,
            storage: None,
            cache_cost,
            net: cache_cost.map(|c| compute_saved - c),
            return_ratio: cache_cost.map(|c| compute_saved / c),
            saved_minutes_interval: None,
            compute_saved_interval: None,
            net_interval: None,
            break_even_gb: Some(42.0),
            pricing_date: "2026-11-01".into(),
            currency: "USD".into(),
            default_compute_type: "general1.small".into(),
        }
    }

    #[test]
    fn a_gain_a_loss_and_an_unknown() {
        let gain = Verdict::of(&totals(Some(1.58), 0));
        assert_eq!(gain.tone, Tone::Gain);
        assert_eq!(gain.figure, "net +1.52 USD");
        assert_eq!(
            gain.sentence,
            "The cache paid for itself: saved 3.26 USD of compute, cost 1.74 USD (import/export + storage), net +1.52 USD, 1.9× return."
        );
        let loss = Verdict::of(&totals(Some(13.14), 6));
        assert_eq!(loss.tone, Tone::Loss);
        assert_eq!(loss.figure, "net -10.04 USD");
        assert!(
            loss.sentence
                .starts_with("The cache did not pay for itself")
        );
        assert!(loss.sentence.contains("6 cached steps of unknown time"));
        let unknown = Verdict::of(&totals(None, 0));
        assert_eq!(unknown.tone, Tone::Unknown);
        assert_eq!(unknown.figure, "net unknown");
        assert!(unknown.sentence.contains("under 42.0 GB"));
        let mut t = totals(Some(1.58), 0);
        t.net_interval = Some(crate::analyze::interval::Interval {
            low: -0.2,
            high: 2.5,
        });
        assert!(
            Verdict::of(&t)
                .sentence
                .contains("net +1.52 USD (90 % interval -0.20 USD to +2.50 USD), 1.9× return")
        );
        // no amount of storage or net is made up
        assert!(!unknown.sentence.contains("net "), "{}", unknown.sentence);
    }

    #[test]
    fn a_zero_has_no_minus() {
        assert_eq!(signed(-0.004, "USD"), "+0.00 USD");
        assert_eq!(signed(-0.006, "USD"), "-0.01 USD");
    }
}
