//! How sure the savings are: a seeded bootstrap of the time a cached step saves.
//!
//! A cached step saves the median of its key's executed times (see
//! [`aggregate::steps`](super::aggregate)). Each replicate draws, for every
//! step key, as many of its executed samples as it has, with replacement, and
//! takes their median; a key with a single sample draws instead that sample
//! times a ratio drawn from the spread every key with two or more samples
//! shows (a sample ÷ its key's median), so one sample gives a wide interval,
//! not a certain one. A key without any sample saves an unknown time, as
//! without the bootstrap. Each replicate then bills every run again with its
//! saved time (started minutes stay started minutes), and the interval is the
//! 5th to the 95th percentile of the replicates' totals, over the window and
//! per ISO week. Replicates are seeded by their number alone: the same logs
//! give the same interval, whatever the thread count.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use super::billing::RunRow;
use super::rows::{IsoWeek, StepRow};
use crate::cost::{self, Pricing, PricingError, Rate};
use crate::splitmix::SplitMix;

/// Bootstrap replicates.
pub const REPLICATES: usize = 1000;
/// The interval's coverage.
pub const LEVEL: f64 = 0.90;
/// The ratios a single sample is scaled by when no key has two samples.
const LONE_RATIOS: [f64; 3] = [0.5, 1.0, 1.5];
const SEED: u64 = 0x6361_6368_656c_656e;

/// A 90 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The 5th percentile.
    pub low: f64,
    /// The 95th percentile.
    pub high: f64,
}

impl Interval {
    /// The interval of `values` (sorted here).
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let i = (q * (values.len() - 1) as f64).round() as usize;
            values.get(i).copied().unwrap_or(0.0)
        };
        let tail = (1.0 - LEVEL) / 2.0;
        Interval {
            low: at(tail),
            high: at(1.0 - tail),
        }
    }
}

/// The intervals of the minutes and dollars saved.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Intervals {
    /// Over the window: minutes saved and dollars saved.
    pub(crate) total: Option<(Interval, Interval)>,
    /// Per ISO week.
    pub(crate) weeks: BTreeMap<IsoWeek, (Interval, Interval)>,
}

/// The executed samples of a step key.
struct Key {
    samples: Vec<f64>,
}

/// A run to bill again: its rate, duration, cost, week and cached steps (key, how many).
struct Run {
    rate: Rate,
    seconds: f64,
    cost: f64,
    week: Option<IsoWeek>,
    cached: Vec<(usize, u32)>,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The keys with samples (in row order), and each step's key index.
fn keys<'a>(
    steps: impl Iterator<Item = &'a StepRow>,
) -> (Vec<Key>, HashMap<(&'a str, &'a str), usize>) {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut keys: Vec<Key> = Vec::new();
    for s in steps {
        let Some(secs) = s.seconds.filter(|_| s.cacheable && s.executed) else {
            continue;
        };
        let i = *index.entry((&*s.project, &*s.step_key)).or_insert_with(|| {
            keys.push(Key {
                samples: Vec::new(),
            });
            keys.len() - 1
        });
        keys[i].samples.push(secs);
    }
    (keys, index)
}

/// Every sample of a key with two or more, divided by its key's median.
fn ratios(keys: &[Key]) -> Vec<f64> {
    let mut out = Vec::new();
    for k in keys.iter().filter(|k| k.samples.len() > 1) {
        let m = median(&mut k.samples.clone());
        if m > 0.0 {
            out.extend(k.samples.iter().map(|x| x / m));
        }
    }
    if out.is_empty() {
        out.extend(LONE_RATIOS);
    }
    out
}

/// One replicate's saved seconds per key.
fn draw(keys: &[Key], ratios: &[f64], rng: &mut SplitMix) -> Vec<f64> {
    keys.iter()
        .map(|k| {
            let n = k.samples.len();
            if n == 1 {
                return k.samples[0] * ratios[rng.below(ratios.len() as u64) as usize];
            }
            let mut drawn: Vec<f64> = (0..n)
                .map(|_| k.samples[rng.below(n as u64) as usize])
                .collect();
            median(&mut drawn)
        })
        .collect()
}

/// The intervals of the savings of `runs`, from the executed samples of
/// `steps` (window and history) and the window's cached steps.
pub(crate) fn intervals<'a>(
    steps: impl Iterator<Item = &'a StepRow> + Clone,
    runs: &[RunRow],
    pricing: &Pricing,
) -> Result<Intervals, PricingError> {
    let (keys, index) = keys(steps.clone());
    let ratios = ratios(&keys);
    let mut cached: HashMap<u32, BTreeMap<usize, u32>> = HashMap::new();
    for s in steps.filter(|s| s.in_window && s.cached && s.cacheable) {
        if let Some(&k) = index.get(&(&*s.project, &*s.step_key)) {
            *cached.entry(s.run).or_default().entry(k).or_default() += 1;
        }
    }
    let runs: Vec<Run> = runs
        .iter()
        .map(|r| {
            Ok(Run {
                rate: pricing.rate(&r.compute_type)?,
                seconds: r.duration_seconds,
                cost: r.cost,
                week: r.week,
                cached: cached
                    .get(&r.run)
                    .map(|m| m.iter().map(|(k, n)| (*k, *n)).collect())
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<_, PricingError>>()?;
    let weeks: Vec<IsoWeek> = {
        let mut w: Vec<IsoWeek> = runs.iter().filter_map(|r| r.week).collect();
        w.sort();
        w.dedup();
        w
    };
    // per replicate: (minutes, dollars) over the window, then per week
    let replicates: Vec<Vec<(f64, f64)>> = (0..REPLICATES)
        .into_par_iter()
        .map(|b| {
            let mut rng = SplitMix::new(SEED ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let saved = draw(&keys, &ratios, &mut rng);
            let mut sums = vec![(0.0, 0.0); weeks.len() + 1];
            for r in &runs {
                let secs: f64 = r
                    .cached
                    .iter()
                    .map(|(k, n)| saved[*k] * f64::from(*n))
                    .sum();
                let dollars = cost::bill(r.rate, r.seconds, secs).cost_without_cache - r.cost;
                let mut add = |i: usize| {
                    sums[i].0 += secs / 60.0;
                    sums[i].1 += dollars;
                };
                add(0);
                if let Some(w) = r.week.and_then(|w| weeks.binary_search(&w).ok()) {
                    add(w + 1);
                }
            }
            sums
        })
        .collect();
    let column = |i: usize| {
        let minutes = Interval::of(replicates.iter().map(|r| r[i].0).collect());
        let dollars = Interval::of(replicates.iter().map(|r| r[i].1).collect());
        (minutes, dollars)
    };
    Ok(Intervals {
        total: (!runs.is_empty()).then(|| column(0)),
        weeks: weeks
            .iter()
            .enumerate()
            .map(|(i, w)| (*w, column(i + 1)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let i = Interval::of((0..=100).map(f64::from).collect());
        assert_eq!((i.low, i.high), (5.0, 95.0));
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    /// The interval of one key's saved time, from `samples`, beside another
    /// key whose samples give the spread a lone sample borrows.
    fn one_key(samples: &[f64]) -> Interval {
        let keys = [
            Key {
                samples: samples.to_vec(),
            },
            Key {
                samples: vec![8.0, 10.0, 12.0, 9.0, 11.0],
            },
        ];
        let ratios = ratios(&keys);
        let values = (0..REPLICATES)
            .map(|b| draw(&keys, &ratios, &mut SplitMix::new(b as u64))[0])
            .collect();
        Interval::of(values)
    }

    #[test]
    fn fewer_samples_widen_the_interval_and_it_holds_the_median() {
        // 40 times between 40 and 80 s, and the first 4 of them
        let mut rng = SplitMix::new(7);
        let many: Vec<f64> = (0..40)
            .map(|_| 40.0 + rng.below(4000) as f64 / 100.0)
            .collect();
        let few = &many[..4];
        let (wide, narrow) = (one_key(few), one_key(&many));
        for (samples, i) in [(few, wide), (&many[..], narrow)] {
            let m = median(&mut samples.to_vec());
            assert!(i.low <= m && m <= i.high, "{i:?} around {m}");
        }
        assert!(
            wide.high - wide.low > narrow.high - narrow.low,
            "{wide:?} {narrow:?}"
        );
        // one sample is not certain: it takes the other key's spread (0.8–1.2)
        let lone = one_key(&[60.0]);
        assert!(
            lone.low <= 60.0 * 0.85 && lone.high >= 60.0 * 1.15,
            "{lone:?}"
        );
    }
}
