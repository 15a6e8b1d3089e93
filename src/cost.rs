//! Money: the dated price table (embedded `src/pricing.toml`, overridable by a
//! user file), CodeBuild's per-started-minute billing, and ECR storage.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The embedded default price table.
pub const DEFAULT_PRICING: &str = include_str!("pricing.toml");

/// The compute type assumed when neither CodeBuild nor `--compute-type` says.
pub const DEFAULT_COMPUTE_TYPE: &str = "general1.small";

/// Days in an average month (365.25 / 12), for GB-month prices.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// A failure to read a price table.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// The file could not be read.
    #[error("cannot read price table {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a price table.
    #[error("price table {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with its line.
        message: String,
    },
    /// No price for a compute type.
    #[error(
        "no CodeBuild price for compute type `{0}` in the price table (give --pricing or --compute-type)"
    )]
    UnknownComputeType(String),
}

/// A price table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// When the prices were taken.
    pub date: String,
    /// Currency of every price.
    pub currency: String,
    /// Region the prices are for.
    pub region: String,
    /// CodeBuild prices.
    pub codebuild: CodeBuildPrices,
    /// ECR prices.
    pub ecr: EcrPrices,
}

/// CodeBuild prices by compute type (`general1.small`, `arm1.large`, `lambda.1gb.arm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeBuildPrices {
    /// Billed per started minute.
    #[serde(default)]
    pub per_minute: BTreeMap<String, f64>,
    /// Billed per second.
    #[serde(default)]
    pub per_second: BTreeMap<String, f64>,
}

/// ECR prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcrPrices {
    /// Storage, per GB-month.
    pub storage_gb_month: f64,
    /// Transfer to CodeBuild in the same region, per GB.
    pub transfer_same_region_gb: f64,
}

/// How a compute type is billed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Per started minute.
    PerMinute(f64),
    /// Per second.
    PerSecond(f64),
}

/// A user file's table: any subset of the keys, merged over the defaults.
#[derive(Debug, Default, Deserialize)]
struct Override {
    date: Option<String>,
    currency: Option<String>,
    region: Option<String>,
    codebuild: Option<CodeBuildPrices>,
    ecr: Option<EcrOverride>,
}

#[derive(Debug, Default, Deserialize)]
struct EcrOverride {
    storage_gb_month: Option<f64>,
    transfer_same_region_gb: Option<f64>,
}

impl Pricing {
    /// The embedded table.
    pub fn embedded() -> Self {
        toml::from_str(DEFAULT_PRICING).expect("src/pricing.toml is a valid price table")
    }

    /// The embedded table with a user file's prices over it.
    pub fn with_file(path: &Path) -> Result<Self, PricingError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
            path: name.clone(),
            source,
        })?;
        Self::with_override(&text, &name)
    }

    fn with_override(text: &str, name: &str) -> Result<Self, PricingError> {
        let o: Override = toml::from_str(text).map_err(|e| PricingError::Parse {
            path: name.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let mut p = Self::embedded();
        if let Some(d) = o.date {
            p.date = d;
        }
        if let Some(c) = o.currency {
            p.currency = c;
        }
        if let Some(r) = o.region {
            p.region = r;
        }
        if let Some(cb) = o.codebuild {
            p.codebuild.per_minute.extend(cb.per_minute);
            p.codebuild.per_second.extend(cb.per_second);
        }
        if let Some(e) = o.ecr {
            p.ecr.storage_gb_month = e.storage_gb_month.unwrap_or(p.ecr.storage_gb_month);
            p.ecr.transfer_same_region_gb = e
                .transfer_same_region_gb
                .unwrap_or(p.ecr.transfer_same_region_gb);
        }
        Ok(p)
    }

    /// The rate of a compute type, in the table's names or CodeBuild's
    /// (`BUILD_GENERAL1_SMALL`, `BUILD_LAMBDA_1GB`).
    pub fn rate(&self, compute_type: &str) -> Result<Rate, PricingError> {
        let name = table_name(compute_type);
        if let Some(p) = self.codebuild.per_minute.get(&name) {
            return Ok(Rate::PerMinute(*p));
        }
        if let Some(p) = self.codebuild.per_second.get(&name) {
            return Ok(Rate::PerSecond(*p));
        }
        Err(PricingError::UnknownComputeType(compute_type.to_owned()))
    }

    /// ECR storage cost of `gb` over `days`.
    pub fn storage_cost(&self, gb: f64, days: f64) -> f64 {
        gb * self.ecr.storage_gb_month * days / DAYS_PER_MONTH
    }
}

/// `BUILD_GENERAL1_SMALL` → `general1.small`; `BUILD_LAMBDA_1GB` → `lambda.1gb.x86`
/// (CodeBuild's name does not tell arm from x86; the x86 price is the higher);
/// a table name stays as it is.
pub fn table_name(compute_type: &str) -> String {
    let lower = compute_type.to_ascii_lowercase();
    match lower.strip_prefix("build_") {
        Some(rest) if rest.starts_with("lambda_") => format!("{}.x86", rest.replacen('_', ".", 1)),
        Some(rest) => rest.replacen('_', ".", 1),
        None => lower,
    }
}

/// The table name of what CodeBuild bills: its compute type read with its
/// `environment.type`, which tells the machine family the compute type's name
/// does not (`BUILD_GENERAL1_SMALL` on `ARM_CONTAINER` → `arm1.small`, on
/// `LINUX_GPU_CONTAINER` → `gpu1.small`; `BUILD_LAMBDA_2GB` on
/// `ARM_LAMBDA_CONTAINER` → `lambda.2gb.arm`). An environment type the table
/// has no family for names its own (`windows_server_2019_container.medium`),
/// so the price is asked for rather than guessed. Without an environment type,
/// or on x86 Linux, the compute type is kept as it is.
pub fn billed_name(compute_type: &str, environment_type: Option<&str>) -> String {
    let name = table_name(compute_type);
    let Some(env) = environment_type.map(str::to_ascii_uppercase) else {
        return compute_type.to_owned();
    };
    if let Some(rest) = name.strip_prefix("lambda.") {
        let size = rest.split('.').next().unwrap_or(rest);
        return match env.as_str() {
            "ARM_LAMBDA_CONTAINER" => format!("lambda.{size}.arm"),
            "LINUX_LAMBDA_CONTAINER" => format!("lambda.{size}.x86"),
            other => format!("{}.lambda.{size}", other.to_ascii_lowercase()),
        };
    }
    let Some(size) = name.strip_prefix("general1.") else {
        return name;
    };
    let family = match env.as_str() {
        "LINUX_CONTAINER" | "LINUX_EC2" => return compute_type.to_owned(),
        "ARM_CONTAINER" | "ARM_EC2" => "arm1".to_owned(),
        "LINUX_GPU_CONTAINER" => "gpu1".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    format!("{family}.{size}")
}

/// What a build costs, with and without the time its cache saved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Billing {
    /// Minutes the build ran.
    pub minutes: f64,
    /// Minutes billed (started minutes; per-second types: the same as `minutes`).
    pub billed_minutes: f64,
    /// Minutes it would have billed without the saved time.
    pub billed_minutes_without_cache: f64,
    /// What it cost.
    pub cost: f64,
    /// What it would have cost without the saved time.
    pub cost_without_cache: f64,
}

/// Bills a build of `seconds` that the cache shortened by `saved_seconds`.
pub fn bill(rate: Rate, seconds: f64, saved_seconds: f64) -> Billing {
    let without = seconds + saved_seconds.max(0.0);
    match rate {
        Rate::PerMinute(p) => {
            let started = |s: f64| {
                (s / 60.0 - 1e-9)
                    .ceil()
                    .max(if s > 0.0 { 1.0 } else { 0.0 })
            };
            Billing {
                minutes: seconds / 60.0,
                billed_minutes: started(seconds),
                billed_minutes_without_cache: started(without),
                cost: started(seconds) * p,
                cost_without_cache: started(without) * p,
            }
        }
        Rate::PerSecond(p) => Billing {
            minutes: seconds / 60.0,
            billed_minutes: seconds / 60.0,
            billed_minutes_without_cache: without / 60.0,
            cost: seconds * p,
            cost_without_cache: without * p,
        },
    }
}

/// The cost of `seconds` of a build's time, at the rate's price per second of
/// compute (for overhead, which is part of a build's minutes).
pub fn time_cost(rate: Rate, seconds: f64) -> f64 {
    match rate {
        Rate::PerMinute(p) => seconds / 60.0 * p,
        Rate::PerSecond(p) => seconds * p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_and_names() {
        let p = Pricing::embedded();
        assert_eq!(p.date, "2026-11-01");
        assert_eq!(
            p.rate("BUILD_GENERAL1_SMALL").unwrap(),
            Rate::PerMinute(0.005)
        );
        assert_eq!(p.rate("general1.2xlarge").unwrap(), Rate::PerMinute(0.20));
        assert_eq!(
            p.rate("BUILD_LAMBDA_1GB").unwrap(),
            Rate::PerSecond(0.00002)
        );
        assert_eq!(p.rate("arm1.small").unwrap(), Rate::PerMinute(0.0034));
        assert!(p.rate("BUILD_GENERAL1_HUGE").is_err());
        assert_eq!(p.ecr.storage_gb_month, 0.10);
    }

    #[test]
    fn the_environment_type_tells_the_machine_family() {
        let p = Pricing::embedded();
        let rate = |c: &str, e: Option<&str>| p.rate(&billed_name(c, e));
        let small = "BUILD_GENERAL1_SMALL";
        assert_eq!(
            rate(small, Some("LINUX_CONTAINER")).unwrap(),
            Rate::PerMinute(0.005)
        );
        assert_eq!(rate(small, None).unwrap(), Rate::PerMinute(0.005));
        assert_eq!(
            rate(small, Some("ARM_CONTAINER")).unwrap(),
            Rate::PerMinute(0.0034)
        );
        assert_eq!(
            rate("BUILD_GENERAL1_LARGE", Some("ARM_CONTAINER")).unwrap(),
            Rate::PerMinute(0.015)
        );
        assert_eq!(
            rate("BUILD_GENERAL1_LARGE", Some("LINUX_GPU_CONTAINER")).unwrap(),
            Rate::PerMinute(0.65)
        );
        assert_eq!(
            rate("BUILD_LAMBDA_1GB", Some("ARM_LAMBDA_CONTAINER")).unwrap(),
            Rate::PerSecond(0.00001)
        );
        assert_eq!(
            rate("BUILD_LAMBDA_4GB", Some("LINUX_LAMBDA_CONTAINER")).unwrap(),
            Rate::PerSecond(0.00008)
        );
        assert_eq!(
            billed_name("BUILD_LAMBDA_1GB", Some("ARM_LAMBDA_CONTAINER")),
            "lambda.1gb.arm"
        );
        // a family the table does not price is named, not priced as general1
        let windows = billed_name(
            "BUILD_GENERAL1_MEDIUM",
            Some("WINDOWS_SERVER_2019_CONTAINER"),
        );
        assert_eq!(windows, "windows_server_2019_container.medium");
        assert!(p.rate(&windows).is_err());
        // a table name the user gave stays what it is
        assert_eq!(
            billed_name("arm1.small", Some("LINUX_CONTAINER")),
            "arm1.small"
        );
    }

    #[test]
    fn a_user_file_overrides_some_prices() {
        let p = Pricing::with_override(
            "date = \"2027-01-01\"\n[codebuild.per_minute]\n\"general1.xlarge\" = 0.08\n[ecr]\nstorage_gb_month = 0.12\n",
            "mine.toml",
        )
        .unwrap();
        assert_eq!(p.date, "2027-01-01");
        assert_eq!(p.rate("general1.xlarge").unwrap(), Rate::PerMinute(0.08));
        assert_eq!(p.rate("general1.small").unwrap(), Rate::PerMinute(0.005));
        assert_eq!(p.ecr.storage_gb_month, 0.12);
        let e =
            Pricing::with_override("[ecr]\nstorage_gb_month = \"x\"\n", "bad.toml").unwrap_err();
        assert!(e.to_string().starts_with("price table bad.toml: "), "{e}");
    }

    #[test]
    fn started_minutes_are_billed() {
        // 4 min 10 s billed as 5 minutes; with 2 min 30 s more it would have been 7
        let b = bill(Rate::PerMinute(0.01), 250.0, 150.0);
        assert_eq!(
            (b.billed_minutes, b.billed_minutes_without_cache),
            (5.0, 7.0)
        );
        assert!((b.cost - 0.05).abs() < 1e-12 && (b.cost_without_cache - 0.07).abs() < 1e-12);
        // exactly 3 minutes is 3 started minutes, not 4
        assert_eq!(bill(Rate::PerMinute(0.01), 180.0, 0.0).billed_minutes, 3.0);
        // a cache that saved 20 s inside the same started minute saves nothing billed
        let b = bill(Rate::PerMinute(0.01), 61.0, 20.0);
        assert_eq!(
            (b.billed_minutes, b.billed_minutes_without_cache),
            (2.0, 2.0)
        );
        let b = bill(Rate::PerSecond(0.00002), 90.0, 30.0);
        assert!((b.cost_without_cache - b.cost - 30.0 * 0.00002).abs() < 1e-12);
    }

    #[test]
    fn storage_over_part_of_a_month() {
        let p = Pricing::embedded();
        // 12 GB for a week: 12 × 0.10 × 7 / 30.4375
        assert!((p.storage_cost(12.0, 7.0) - 0.275_975_359_342_915_8).abs() < 1e-12);
    }
}
