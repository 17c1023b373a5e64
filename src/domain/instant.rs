//! Instants typed by people (the auditors' `since` and `until`), parsed one way for the API and
//! the command line.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an RFC 3339 timestamp, such as 2026-01-31T00:00:00Z")]
pub struct InstantError;

/// An RFC 3339 timestamp, in UTC.
pub fn parse_instant(input: &str) -> Result<DateTime<Utc>, InstantError> {
    DateTime::parse_from_rfc3339(input.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| InstantError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc_3339_and_errors_show_an_example() {
        assert_eq!(
            parse_instant("2026-01-31T01:00:00+01:00").unwrap(),
            parse_instant("2026-01-31T00:00:00Z").unwrap()
        );
        let err = parse_instant("yesterday").unwrap_err().to_string();
        assert!(
            err.contains("RFC 3339") && err.contains("2026-01-31T00:00:00Z"),
            "{err}"
        );
    }
}
