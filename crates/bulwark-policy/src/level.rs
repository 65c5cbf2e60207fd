//! How much a rule matters: the cargo-deny `allow | warn | deny` model.

use std::fmt;
use std::str::FromStr;

/// What a violation of a check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// Not reported at all.
    Allow,
    /// Reported; does not change the exit code.
    #[default]
    Warn,
    /// Reported; the scan (or the registry gate) refuses: exit code 1.
    Deny,
}

impl Level {
    /// `allow`, `warn` or `deny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "allow" => Ok(Self::Allow),
            "warn" => Ok(Self::Warn),
            "deny" => Ok(Self::Deny),
            other => Err(format!(
                "unknown level `{other}` (expected `allow`, `warn` or `deny`)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_levels_and_orders_them() {
        assert_eq!("allow".parse(), Ok(Level::Allow));
        assert_eq!("warn".parse(), Ok(Level::Warn));
        assert_eq!("deny".parse(), Ok(Level::Deny));
        assert!("Deny".parse::<Level>().is_err());
        assert!("error".parse::<Level>().is_err());
        assert!(Level::Allow < Level::Warn && Level::Warn < Level::Deny);
        assert_eq!(Level::default(), Level::Warn);
    }
}
