//! Severity: CVSS vectors turned into a numeric base score, and the level derived from it.
//!
//! CVSS v3.0 and v3.1 base scores are computed here with the v3.1 specification's formula
//! (§7.1) and its `Roundup` (§Appendix A), which avoids floating-point surprises; v3.0
//! vectors use the same formula (the two versions differ only in the rounding helper, and
//! the v3.1 one is the corrected version). CVSS v4.0 base scores come from the `cvss` crate
//! (RustSec), which implements FIRST's macro-vector lookup algorithm; re-implementing its
//! 270-entry table here would only add risk. CVSS v2 is not scored (OSV npm data has none).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};

/// Longest vector accepted (real vectors are under 200 bytes).
const MAX_VECTOR_LENGTH: usize = 512;

/// Qualitative severity, per the CVSS rating scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeverityLevel {
    /// Score 0.0.
    None,
    /// 0.1–3.9.
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9.
    High,
    /// 9.0–10.0, and every malicious package.
    Critical,
}

impl SeverityLevel {
    /// The level of a CVSS score.
    pub fn from_score(score: f64) -> Self {
        if score >= 9.0 {
            Self::Critical
        } else if score >= 7.0 {
            Self::High
        } else if score >= 4.0 {
            Self::Medium
        } else if score > 0.0 {
            Self::Low
        } else {
            Self::None
        }
    }

    /// Parse a label such as GHSA's `MODERATE` or `high`.
    pub fn from_label(label: &str) -> Option<Self> {
        match label.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "low" => Some(Self::Low),
            "medium" | "moderate" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// The numeric base score of an OSV severity entry (`type`, `score`).
///
/// # Errors
/// [`ErrorKind::Osv`] for an unsupported type or a malformed vector.
pub fn score(kind: &str, vector: &str) -> Result<f64, Error> {
    if vector.len() > MAX_VECTOR_LENGTH {
        return Err(bad(vector, "too long"));
    }
    match kind {
        "CVSS_V3" => cvss3_base_score(vector),
        "CVSS_V4" => cvss4_base_score(vector),
        _ if vector.starts_with("CVSS:3.") => cvss3_base_score(vector),
        _ if vector.starts_with("CVSS:4.") => cvss4_base_score(vector),
        _ => Err(Error::new(
            ErrorKind::Osv,
            format!("unsupported severity type `{kind}`"),
        )),
    }
}

fn bad(vector: &str, why: &str) -> Error {
    let shown: String = vector.chars().take(80).collect();
    Error::new(
        ErrorKind::Osv,
        format!("invalid CVSS vector `{shown}`: {why}"),
    )
}

/// CVSS v4.0 base score through the `cvss` crate.
///
/// # Errors
/// [`ErrorKind::Osv`] when the vector does not parse.
pub fn cvss4_base_score(vector: &str) -> Result<f64, Error> {
    let parsed: cvss::v4::Vector = vector
        .parse()
        .map_err(|error: cvss::Error| bad(vector, &error.to_string()))?;
    Ok(parsed.score().value())
}

/// CVSS v3.x base score by the v3.1 formula.
///
/// # Errors
/// [`ErrorKind::Osv`] when the vector is malformed, repeats or misses a base metric.
pub fn cvss3_base_score(vector: &str) -> Result<f64, Error> {
    let mut parts = vector.split('/');
    match parts.next() {
        Some("CVSS:3.0" | "CVSS:3.1") => {}
        _ => return Err(bad(vector, "expected a `CVSS:3.0/` or `CVSS:3.1/` prefix")),
    }
    // AV, AC, PR, UI, S, C, I, A.
    let mut values: [Option<&str>; 8] = [None; 8];
    for part in parts {
        let Some((metric, value)) = part.split_once(':') else {
            return Err(bad(vector, "metric without a value"));
        };
        let slot = match metric {
            "AV" => 0,
            "AC" => 1,
            "PR" => 2,
            "UI" => 3,
            "S" => 4,
            "C" => 5,
            "I" => 6,
            "A" => 7,
            // Temporal and environmental metrics do not change the base score.
            "E" | "RL" | "RC" | "CR" | "IR" | "AR" | "MAV" | "MAC" | "MPR" | "MUI" | "MS"
            | "MC" | "MI" | "MA" => continue,
            _ => return Err(bad(vector, "unknown metric")),
        };
        if values[slot].replace(value).is_some() {
            return Err(bad(vector, "repeated metric"));
        }
    }
    let [
        Some(av),
        Some(ac),
        Some(pr),
        Some(ui),
        Some(s),
        Some(c),
        Some(i),
        Some(a),
    ] = values
    else {
        return Err(bad(vector, "missing base metric"));
    };
    let scope_changed = match s {
        "U" => false,
        "C" => true,
        _ => return Err(bad(vector, "bad S")),
    };
    let attack_vector = match av {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return Err(bad(vector, "bad AV")),
    };
    let attack_complexity = match ac {
        "L" => 0.77,
        "H" => 0.44,
        _ => return Err(bad(vector, "bad AC")),
    };
    let privileges = match (pr, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return Err(bad(vector, "bad PR")),
    };
    let interaction = match ui {
        "N" => 0.85,
        "R" => 0.62,
        _ => return Err(bad(vector, "bad UI")),
    };
    let cia = |value: &str| match value {
        "H" => Ok(0.56),
        "L" => Ok(0.22),
        "N" => Ok(0.0),
        _ => Err(bad(vector, "bad C/I/A")),
    };
    let impact_subscore = 1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?);
    let impact = if scope_changed {
        7.52 * (impact_subscore - 0.029) - 3.25 * (impact_subscore - 0.02_f64).powi(15)
    } else {
        6.42 * impact_subscore
    };
    let exploitability = 8.22 * attack_vector * attack_complexity * privileges * interaction;
    if impact <= 0.0 {
        return Ok(0.0);
    }
    let raw = if scope_changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Ok(roundup(raw))
}

/// CVSS v3.1 `Roundup`: smallest one-decimal number ≥ the input, computed on integers.
fn roundup(value: f64) -> f64 {
    #[expect(clippy::cast_possible_truncation, reason = "scores are within 0..=10")]
    let scaled = (value * 100_000.0).round() as i64;
    #[expect(clippy::cast_precision_loss, reason = "small integers")]
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores from FIRST's v3.1 calculator.
    #[test]
    fn cvss3_scores_match_the_reference_calculator() {
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N/E:P/RL:W/RC:C",
                6.1,
            ),
        ];
        for (vector, expected) in cases {
            let score = cvss3_base_score(vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
            assert!(
                (score - expected).abs() < 1e-9,
                "{vector}: {score} != {expected}"
            );
        }
    }

    #[test]
    fn cvss3_rejects_malformed_vectors() {
        let fail = [
            "",
            "CVSS:2.0/AV:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",
            "CVSS:3.1/AVN",
        ];
        for vector in fail {
            assert!(cvss3_base_score(vector).is_err(), "{vector}");
        }
    }

    #[test]
    fn cvss4_scores() {
        // FIRST v4.0 calculator values.
        let cases = [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
            ),
        ];
        for (vector, expected) in cases {
            let value = score("CVSS_V4", vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
            assert!((value - expected).abs() < 1e-9, "{vector}: {value}");
        }
        assert!(score("CVSS_V4", "CVSS:4.0/AV:N").is_err());
        assert!(score("CVSS_V4", &"A".repeat(1000)).is_err());
        assert!(score("Ubuntu", "high").is_err());
    }

    #[test]
    fn levels() {
        assert_eq!(SeverityLevel::from_score(9.8), SeverityLevel::Critical);
        assert_eq!(SeverityLevel::from_score(7.0), SeverityLevel::High);
        assert_eq!(SeverityLevel::from_score(6.9), SeverityLevel::Medium);
        assert_eq!(SeverityLevel::from_score(0.1), SeverityLevel::Low);
        assert_eq!(SeverityLevel::from_score(0.0), SeverityLevel::None);
        assert_eq!(
            SeverityLevel::from_label("MODERATE"),
            Some(SeverityLevel::Medium)
        );
        assert_eq!(SeverityLevel::from_label("bogus"), None);
    }
}
