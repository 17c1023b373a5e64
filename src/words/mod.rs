//! One way to say words: every sentence a person reads (pages, errors, emails, texts) is a
//! Fluent message in `locales/<language>/*.ftl`, read through `Words`, with named arguments,
//! the language's plural rules (`{ $minutes -> [one] … *[other] … }`) and times formatted by the
//! language's own pattern. English is the only language shipped so far; a language is a folder
//! of the same files.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./src/words/locales",
        fallback_language: "en",
        // Words go into HTML and plain text as they are: no Unicode isolation marks around
        // arguments.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The named arguments of a message.
#[derive(Default)]
pub struct Args(HashMap<Cow<'static, str>, FluentValue<'static>>);

impl Args {
    pub fn new() -> Self {
        Self::default()
    }

    /// A text argument (also what a selector such as `[yes]` matches).
    #[must_use]
    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), FluentValue::from(value.into()));
        self
    }

    /// A number, which plural selectors (`[one]`, `*[other]`) read by the language's rules.
    #[must_use]
    pub fn number(mut self, name: &'static str, value: impl Into<f64>) -> Self {
        self.0.insert(name.into(), FluentValue::from(value.into()));
        self
    }

    /// `yes` or `no`, for a selector.
    #[must_use]
    pub fn flag(self, name: &'static str, on: bool) -> Self {
        self.text(name, if on { "yes" } else { "no" })
    }
}

/// The words of one language.
#[derive(Debug, Clone)]
pub struct Words {
    lang: LanguageIdentifier,
}

impl Words {
    /// English, the language every message exists in.
    pub fn english() -> Self {
        Self {
            lang: fluent_templates::langid!("en"),
        }
    }

    /// The language's tag, for `<html lang>` and `Content-Language`.
    pub fn lang(&self) -> String {
        self.lang.to_string()
    }

    /// The message `id`, without arguments.
    pub fn get(&self, id: &str) -> String {
        self.lookup(id, None)
    }

    /// The message `id` with its arguments.
    pub fn with(&self, id: &str, args: impl std::borrow::Borrow<Args>) -> String {
        self.lookup(id, Some(args.borrow()))
    }

    /// The message `id` with one number (such as minutes, or attempts).
    pub fn number(&self, id: &str, name: &'static str, value: impl Into<f64>) -> String {
        self.with(id, Args::new().number(name, value))
    }

    /// A time, as the language writes it (its `time-format` message: a strftime pattern).
    pub fn time(&self, at: DateTime<Utc>) -> String {
        at.format(&self.get("time-format")).to_string()
    }

    fn lookup(&self, id: &str, args: Option<&Args>) -> String {
        match LOCALES.try_lookup_complete(&self.lang, id, args.map(|a| &a.0)) {
            Some(words) => words,
            None => {
                // Every message is checked to exist (tests); should one be missing anyway,
                // the page still renders, and the log says which.
                tracing::error!(message = id, lang = %self.lang, "a message is missing");
                format!("[{id}]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plural_follows_the_number_and_arguments_are_named() {
        let words = Words::english();
        let wait = |minutes: u32| words.number("error-address-limited", "minutes", minutes);
        assert!(wait(1).ends_with("Try again in 1 minute."), "{}", wait(1));
        assert!(wait(2).ends_with("Try again in 2 minutes."), "{}", wait(2));
        let quota = |per_day: &str| {
            words.with(
                "error-support-quota-spent",
                Args::new().number("started", 3).text("per-day", per_day),
            )
        };
        assert_eq!(
            quota("none"),
            "3 recoveries were started for this user in the last 24 hours."
        );
        assert_eq!(
            quota("5"),
            "3 recoveries were started for this user in the last 24 hours (at most 5)."
        );
    }

    #[test]
    fn times_are_written_by_the_language_and_missing_messages_show_their_id() {
        let words = Words::english();
        let at = DateTime::parse_from_rfc3339("2026-12-02T08:05:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(words.time(at), "2026-12-02 08:05:09 UTC");
        assert_eq!(words.get("no-such-message"), "[no-such-message]");
        assert_eq!(words.lang(), "en");
    }

    /// Every message of every shipped file parses and resolves without a missing argument or
    /// reference: a message with a fault would not resolve, and would show as `[id]`.
    #[test]
    fn every_message_resolves_with_its_arguments() {
        let words = Words::english();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/words/locales/en");
        let args = Args::new()
            .number("minutes", 2)
            .number("attempts", 5)
            .number("failures", 20)
            .number("started", 3)
            .number("count", 2)
            .number("events", 7)
            .number("seq", 3)
            .number("pending", 1)
            .number("max", 500)
            .text("per-day", "none")
            .text("missing", "no authenticator")
            .text("status", "completed")
            .text("agent", "sam")
            .text("name", "Example")
            .text("at", "2026-12-02 08:05:09 UTC")
            .flag("password", true);
        let mut count = 0;
        for file in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for line in text.lines() {
                let Some((id, _)) = line.split_once(" = ") else {
                    continue;
                };
                if id.starts_with(char::is_alphabetic) && !id.contains(' ') {
                    count += 1;
                    let said = words.with(id, &args);
                    assert!(!said.starts_with('['), "{id} does not resolve");
                    assert!(!said.contains('{') && !said.contains('}'), "{id}: {said}");
                }
            }
        }
        assert!(count > 100, "only {count} messages found");
    }
}
