//! The emails the service sends. The code appears in the recovery email only; notices never
//! carry one. HTML has no remote images or scripts.

use askama::Template;

use super::Email;
use crate::domain::{EmailAddress, RecoveryCode};

#[derive(Template)]
#[template(path = "recovery_code.txt")]
struct RecoveryCodeText<'a> {
    code: &'a str,
    minutes: u64,
    password_needed: bool,
}

#[derive(Template)]
#[template(path = "recovery_code.html")]
struct RecoveryCodeHtml<'a> {
    code: &'a str,
    minutes: u64,
    password_needed: bool,
}

#[derive(Template)]
#[template(path = "reset_notice.txt")]
struct ResetNoticeText<'a> {
    at: &'a str,
    ip: &'a str,
    started_by: &'a str,
}

#[derive(Template)]
#[template(path = "reset_notice.html")]
struct ResetNoticeHtml<'a> {
    at: &'a str,
    ip: &'a str,
    started_by: &'a str,
}

pub fn recovery_code(
    to: EmailAddress,
    code: &RecoveryCode,
    lifetime_seconds: u64,
    password_needed: bool,
) -> Result<Email, askama::Error> {
    let grouped = code.grouped();
    let minutes = lifetime_seconds.div_ceil(60);
    Ok(Email {
        to,
        subject: "Your account recovery code".to_owned(),
        text: RecoveryCodeText {
            code: &grouped,
            minutes,
            password_needed,
        }
        .render()?,
        html: RecoveryCodeHtml {
            code: &grouped,
            minutes,
            password_needed,
        }
        .render()?,
    })
}

/// Facts of a completed reset, as the user should see them.
pub struct ResetFacts<'a> {
    pub at_utc: &'a str,
    pub ip: &'a str,
    /// "you, from the sign-in page" or "the support desk (agent NAME)".
    pub started_by: &'a str,
}

pub fn reset_notice(to: EmailAddress, facts: &ResetFacts<'_>) -> Result<Email, askama::Error> {
    Ok(Email {
        to,
        subject: "Your authenticator app was removed from your account".to_owned(),
        text: ResetNoticeText {
            at: facts.at_utc,
            ip: facts.ip,
            started_by: facts.started_by,
        }
        .render()?,
        html: ResetNoticeHtml {
            at: facts.at_utc,
            ip: facts.ip,
            started_by: facts.started_by,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "reset_scheduled.txt")]
struct ResetScheduledText<'a> {
    at: &'a str,
    ip: &'a str,
    started_by: &'a str,
    reset_at: &'a str,
    cancel_url: &'a str,
}

#[derive(Template)]
#[template(path = "reset_scheduled.html")]
struct ResetScheduledHtml<'a> {
    at: &'a str,
    ip: &'a str,
    started_by: &'a str,
    reset_at: &'a str,
    cancel_url: &'a str,
}

/// The reset was confirmed and waits: when it will happen, and the one-time link that stops it.
pub fn reset_scheduled(
    to: EmailAddress,
    facts: &ResetFacts<'_>,
    reset_at: &str,
    cancel_url: &str,
) -> Result<Email, askama::Error> {
    let (at, ip, started_by) = (facts.at_utc, facts.ip, facts.started_by);
    Ok(Email {
        to,
        subject: "Your authenticator app will be removed: cancel if this was not you".to_owned(),
        text: ResetScheduledText {
            at,
            ip,
            started_by,
            reset_at,
            cancel_url,
        }
        .render()?,
        html: ResetScheduledHtml {
            at,
            ip,
            started_by,
            reset_at,
            cancel_url,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "recovery_locked.txt")]
struct LockedText<'a> {
    at: &'a str,
    ip: &'a str,
    attempts: u32,
}

#[derive(Template)]
#[template(path = "recovery_locked.html")]
struct LockedHtml<'a> {
    at: &'a str,
    ip: &'a str,
    attempts: u32,
}

/// Someone entered wrong codes until the recovery locked.
pub fn recovery_locked(
    to: EmailAddress,
    at: &str,
    ip: &str,
    attempts: u32,
) -> Result<Email, askama::Error> {
    Ok(Email {
        to,
        subject: "A recovery of your account was locked after wrong codes".to_owned(),
        text: LockedText { at, ip, attempts }.render()?,
        html: LockedHtml { at, ip, attempts }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> EmailAddress {
        EmailAddress::parse("jane@example.com").unwrap()
    }

    #[test]
    fn the_recovery_email_holds_the_grouped_code_and_its_lifetime_in_both_parts() {
        let code = RecoveryCode::parse("12345678").unwrap();
        let email = recovery_code(to(), &code, 600, true).unwrap();
        for part in [&email.text, &email.html] {
            assert!(part.contains("1234 5678"), "{part}");
            assert!(part.contains("10 minutes"), "{part}");
            assert!(part.contains("did not ask"), "{part}");
        }
    }

    #[test]
    fn html_parts_escape_what_they_show() {
        let facts = ResetFacts {
            at_utc: "2026-01-01 00:00 UTC",
            ip: "<script>",
            started_by: "you",
        };
        let email = reset_notice(to(), &facts).unwrap();
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(!email.html.contains("<img"), "no remote images");
    }
}
