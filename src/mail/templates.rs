//! The emails the service sends, one folder each under `templates/` (`subject.txt`,
//! `body.txt`, `body.html`: the layout), filled from one struct with named fields, in the words
//! of a language (`src/words/locales/<language>/emails.ftl`: every sentence). The code appears in
//! the recovery email only; notices never carry one. HTML has no remote images or scripts.

use askama::Template;

use super::Email;
use crate::domain::EmailAddress;
use crate::words::{Args, Words};

/// Renders the three templates of one email from the struct `$email` (templates see it as `e`)
/// in the words `t`, signed `s`.
macro_rules! email {
    ($email:ident: $subject:tt, $text:tt, $html:tt) => {
        impl $email {
            pub fn render(
                &self,
                to: EmailAddress,
                t: &Words,
                s: &Signature,
            ) -> Result<Email, askama::Error> {
                #[derive(Template)]
                #[template(path = $subject)]
                #[allow(dead_code)] // a subject may name no field
                struct Subject<'a> {
                    e: &'a $email,
                    t: &'a Words,
                }
                #[derive(Template)]
                #[template(path = $text)]
                struct Text<'a> {
                    e: &'a $email,
                    t: &'a Words,
                    s: &'a Signature,
                }
                #[derive(Template)]
                #[template(path = $html)]
                struct Html<'a> {
                    e: &'a $email,
                    t: &'a Words,
                    s: &'a Signature,
                }
                Ok(Email {
                    to,
                    subject: Subject { e: self, t }.render()?.trim().to_owned(),
                    text: Text { e: self, t, s }.render()?,
                    html: Html { e: self, t, s }.render()?,
                })
            }
        }
    };
}

/// How every email ends: the organisation's name and how to reach its support, when the
/// operator set them (`BRAND_NAME`, `SUPPORT_CONTACT`).
#[derive(Debug, Clone, Default)]
pub struct Signature {
    pub name: Option<String>,
    pub support_contact: Option<String>,
}

/// What the pool does at the next sign-in of a user without an authenticator, for emails that
/// must tell the truth about it: `mfa_required` (Cognito asks to set one up) or `mfa_optional`
/// (the password alone lets them in); neither when the pool's mode could not be read.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolKind {
    pub mfa_required: bool,
    pub mfa_optional: bool,
}

/// The one-time code, grouped for reading (`1234 5678`).
pub struct RecoveryCodeEmail {
    pub code: String,
    /// How long the code lives, rounded up to whole minutes.
    pub minutes: u64,
    pub password_needed: bool,
    /// Where to type it (`PUBLIC_BASE_URL/recover/code`), when the service's address is known.
    pub recover_url: Option<String>,
    /// The one-time link that confirms without the code (`PUBLIC_BASE_URL/recover/link?token=`),
    /// when the service's address is known.
    pub confirm_url: Option<String>,
    pub mfa_required: bool,
    pub mfa_optional: bool,
}
email!(RecoveryCodeEmail: "recovery_code/subject.txt", "recovery_code/body.txt", "recovery_code/body.html");

impl RecoveryCodeEmail {
    fn ask_args(&self) -> Args {
        Args::new().flag("password", self.password_needed)
    }

    fn minutes_f64(&self) -> f64 {
        self.minutes as f64
    }
}

/// The authenticator was removed.
pub struct ResetNoticeEmail {
    /// When, as the words write times.
    pub at: String,
    /// The client address that confirmed.
    pub ip: String,
    /// "you, on the account recovery page" or "the support desk (agent NAME)".
    pub started_by: String,
    pub mfa_required: bool,
    pub mfa_optional: bool,
    /// The one-time link that resumes setting up a new authenticator, while there is none.
    pub enrol_url: Option<String>,
    /// A passkey is still registered (no admin API removes one): the owner is asked to remove
    /// it if it lived on the lost phone.
    pub passkey_remains: bool,
    /// SMS MFA was turned off with the authenticator: the owner is asked to set a new number.
    pub sms_removed: bool,
    /// Email MFA stays (the recovery just proved the mailbox): said, so that nobody wonders.
    pub email_mfa_remains: bool,
}
email!(ResetNoticeEmail: "reset_notice/subject.txt", "reset_notice/body.txt", "reset_notice/body.html");

/// The reset was confirmed and waits: when it will happen, and the one-time link that stops it.
pub struct ResetScheduledEmail {
    pub at: String,
    pub ip: String,
    pub started_by: String,
    pub reset_at: String,
    pub cancel_url: String,
    pub mfa_required: bool,
    pub mfa_optional: bool,
}
email!(ResetScheduledEmail: "reset_scheduled/subject.txt", "reset_scheduled/body.txt", "reset_scheduled/body.html");

impl ResetScheduledEmail {
    fn reset_at_args(&self) -> Args {
        Args::new().text("at", self.reset_at.clone())
    }
}

/// Someone entered wrong codes until the recovery locked.
pub struct RecoveryLockedEmail {
    pub at: String,
    pub ip: String,
    pub attempts: u32,
}
email!(RecoveryLockedEmail: "recovery_locked/subject.txt", "recovery_locked/body.txt", "recovery_locked/body.html");

impl RecoveryLockedEmail {
    fn attempts_f64(&self) -> f64 {
        f64::from(self.attempts)
    }
}

/// Wrong codes from addresses that never asked for one reached the account's daily ceiling.
pub struct GuessingEmail {
    pub failures: i64,
}
email!(GuessingEmail: "guessing/subject.txt", "guessing/body.txt", "guessing/body.html");

impl GuessingEmail {
    fn failures_f64(&self) -> f64 {
        self.failures as f64
    }
}

/// After the new authenticator, the passkeys the owner removed and those that remain (each
/// as its name and creation date, in the words' format).
pub struct PasskeysNoticeEmail {
    pub removed: Vec<String>,
    pub remaining: Vec<String>,
}
email!(PasskeysNoticeEmail: "passkeys_notice/subject.txt", "passkeys_notice/body.txt", "passkeys_notice/body.html");

impl PasskeysNoticeEmail {
    fn removed_count(&self) -> f64 {
        self.removed.len() as f64
    }

    fn remaining_count(&self) -> f64 {
        self.remaining.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RecoveryCode;

    fn to() -> EmailAddress {
        EmailAddress::parse("jane@example.com").unwrap()
    }

    #[test]
    fn every_email_is_signed_with_the_brand_and_support_contact_when_set() {
        let email = |s: &Signature| {
            GuessingEmail { failures: 20 }
                .render(to(), &Words::for_tag("de").unwrap(), s)
                .unwrap()
        };
        let signed = email(&Signature {
            name: Some("Example Corp".into()),
            support_contact: Some("help@corp.example".into()),
        });
        assert!(
            signed
                .text
                .ends_with("\n-- \nExample Corp\nBrauchen Sie Hilfe? help@corp.example\n"),
            "{:?}",
            signed.text
        );
        assert!(
            signed
                .html
                .contains("Example Corp<br>Brauchen Sie Hilfe? help@corp.example</p>"),
            "{}",
            signed.html
        );
        let plain = email(&Signature::default());
        assert!(!plain.text.contains("-- "), "{}", plain.text);
        assert!(!plain.html.contains("Hilfe"), "{}", plain.html);
    }

    #[test]
    fn the_recovery_email_holds_the_grouped_code_and_its_lifetime_in_both_parts() {
        let code = RecoveryCode::parse("12345678").unwrap();
        let email = RecoveryCodeEmail {
            code: code.grouped(),
            minutes: 10,
            password_needed: true,
            recover_url: Some("https://id.example.com/recover/code".into()),
            confirm_url: Some("https://id.example.com/recover/link?token=t0ken".into()),
            mfa_required: true,
            mfa_optional: false,
        }
        .render(to(), &Words::english(), &Signature::default())
        .unwrap();
        assert_eq!(email.subject, "Your account recovery code");
        for part in [&email.text, &email.html] {
            assert!(part.contains("1234 5678"), "{part}");
            assert!(part.contains("10 minutes"), "{part}");
            assert!(part.contains("did not ask"), "{part}");
            assert!(part.contains("together with your password"), "{part}");
            assert!(
                part.contains("https://id.example.com/recover/code"),
                "{part}"
            );
            assert!(
                part.contains("https://id.example.com/recover/link?token=t0ken"),
                "{part}"
            );
            assert!(part.contains("next sign-in"), "{part}");
        }
    }

    #[test]
    fn in_an_optional_pool_no_email_promises_that_the_next_sign_in_asks_for_an_authenticator() {
        let optional = |required: bool| (required, !required);
        for (mfa_required, mfa_optional) in [optional(true), optional(false)] {
            let notice = ResetNoticeEmail {
                at: "now".into(),
                ip: "192.0.2.1".into(),
                started_by: "you".into(),
                mfa_required,
                mfa_optional,
                enrol_url: None,
                passkey_remains: false,
                sms_removed: false,
                email_mfa_remains: false,
            }
            .render(to(), &Words::english(), &Signature::default())
            .unwrap();
            let code = RecoveryCodeEmail {
                code: "1234 5678".into(),
                minutes: 10,
                password_needed: true,
                recover_url: None,
                confirm_url: None,
                mfa_required,
                mfa_optional,
            }
            .render(to(), &Words::english(), &Signature::default())
            .unwrap();
            for part in [&notice.text, &notice.html, &code.text, &code.html] {
                assert_eq!(part.contains("password alone"), mfa_optional, "{part}");
                assert_eq!(part.contains("next sign-in"), mfa_required, "{part}");
            }
        }
    }

    #[test]
    fn html_parts_escape_what_they_show() {
        let email = ResetNoticeEmail {
            at: "2026-01-01 00:00 UTC".into(),
            ip: "<script>".into(),
            started_by: "you".into(),
            mfa_required: true,
            mfa_optional: false,
            enrol_url: None,
            passkey_remains: false,
            sms_removed: false,
            email_mfa_remains: false,
        }
        .render(to(), &Words::english(), &Signature::default())
        .unwrap();
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(
            email.text.contains("<script>"),
            "text parts are not HTML-escaped"
        );
        assert!(!email.html.contains("<img"), "no remote images");
    }

    /// Every sentence of every email, in every variant, comes from the words: none shows a
    /// message's id for a message that is missing (`[id]`).
    #[test]
    fn every_variant_of_every_email_is_all_words() {
        let w = Words::english();
        for flags in 0..32u8 {
            let on = |bit: u8| flags & (1 << bit) != 0;
            let emails = [
                RecoveryCodeEmail {
                    code: "1234 5678".into(),
                    minutes: 1 + u64::from(flags),
                    password_needed: on(0),
                    recover_url: on(1).then(|| "https://x.test/recover/code".into()),
                    confirm_url: on(1).then(|| "https://x.test/recover/link?token=t".into()),
                    mfa_required: on(2),
                    mfa_optional: on(3),
                }
                .render(to(), &w, &Signature::default()),
                ResetNoticeEmail {
                    at: "now".into(),
                    ip: "192.0.2.1".into(),
                    started_by: "you".into(),
                    mfa_required: on(0),
                    mfa_optional: on(1),
                    enrol_url: on(2).then(|| "https://x.test/e".into()),
                    passkey_remains: on(3),
                    sms_removed: on(4),
                    email_mfa_remains: on(4),
                }
                .render(to(), &w, &Signature::default()),
                ResetScheduledEmail {
                    at: "now".into(),
                    ip: "192.0.2.1".into(),
                    started_by: "you".into(),
                    reset_at: "later".into(),
                    cancel_url: "https://x.test/c?token=t".into(),
                    mfa_required: on(0),
                    mfa_optional: on(1),
                }
                .render(to(), &w, &Signature::default()),
                RecoveryLockedEmail {
                    at: "now".into(),
                    ip: "192.0.2.1".into(),
                    attempts: u32::from(flags),
                }
                .render(to(), &w, &Signature::default()),
                GuessingEmail {
                    failures: i64::from(flags),
                }
                .render(to(), &w, &Signature::default()),
            ];
            for email in emails {
                let email = email.unwrap();
                for part in [&email.subject, &email.text, &email.html] {
                    assert!(!part.contains('[') && !part.contains('{'), "{part}");
                }
            }
        }
    }

    #[test]
    fn every_notice_has_a_subject_of_one_line() {
        let locked = RecoveryLockedEmail {
            at: "now".into(),
            ip: "192.0.2.1".into(),
            attempts: 5,
        }
        .render(to(), &Words::english(), &Signature::default())
        .unwrap();
        let scheduled = ResetScheduledEmail {
            at: "now".into(),
            ip: "192.0.2.1".into(),
            started_by: "you".into(),
            reset_at: "later".into(),
            cancel_url: "https://x.test/c?token=t".into(),
            mfa_required: false,
            mfa_optional: true,
        }
        .render(to(), &Words::english(), &Signature::default())
        .unwrap();
        for email in [locked, scheduled] {
            assert!(!email.subject.is_empty() && !email.subject.contains('\n'));
        }
    }
}
