//! One way to say words: every sentence a person reads (pages, errors, emails, texts) is a
//! Fluent message in `locales/<language>/*.ftl`, read through `Words`, with named arguments,
//! the language's plural rules (`{ $minutes -> [one] … *[other] … }`) and times formatted by the
//! language's own pattern. A language is a folder of the same files (English, German and
//! Spanish are shipped; `staff.ftl`, the staff console's words, is English only); the test
//! `every_language_has_every_message` fails on a message missing in any of them.

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    lang: LanguageIdentifier,
}

/// The languages shipped (a folder each under `locales/`), English first.
pub fn shipped() -> Vec<Words> {
    let mut all: Vec<Words> = LOCALES
        .locales()
        .map(|lang| Words { lang: lang.clone() })
        .collect();
    all.sort_by_key(|w| {
        (
            w.lang != fluent_templates::langid!("en"),
            w.lang.to_string(),
        )
    });
    all
}

/// The longest `Accept-Language` read: browsers send a few dozen characters.
const ACCEPT_LANGUAGE_MAX: usize = 512;

impl Words {
    /// English, the language every message exists in.
    pub fn english() -> Self {
        Self {
            lang: fluent_templates::langid!("en"),
        }
    }

    /// The shipped language a tag asks for: the same tag, or its language without the region
    /// or script (`de-AT` is German). None when no shipped language matches.
    pub fn for_tag(tag: &str) -> Option<Self> {
        let wanted: LanguageIdentifier = tag.trim().parse().ok()?;
        let available: Vec<LanguageIdentifier> = LOCALES.locales().cloned().collect();
        fluent_langneg::negotiate_languages(
            &[wanted],
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        )
        .first()
        .map(|lang| Self {
            lang: (*lang).clone(),
        })
    }

    /// The shipped language an `Accept-Language` header prefers: the one with the highest
    /// weight (`q`; `q=0` refuses a language), in the header's order between equal weights.
    /// None when it names none of them.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        if accept_language.len() > ACCEPT_LANGUAGE_MAX {
            return None;
        }
        accept_language::parse(accept_language)
            .iter()
            .find_map(|tag| Self::for_tag(tag))
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

    /// The message ids of one `.ftl` file.
    fn ids(path: &std::path::Path) -> std::collections::BTreeSet<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id))
            .filter(|id| id.starts_with(char::is_alphabetic) && !id.contains(' '))
            .map(str::to_owned)
            .collect()
    }

    const LOCALES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/words/locales");

    /// A language is complete: each of English's files but the staff console's, with the same
    /// messages, no more and no fewer (a missing one would silently show English).
    #[test]
    fn every_language_has_every_message() {
        let languages: Vec<String> = shipped().iter().map(Words::lang).collect();
        assert_eq!(languages, ["en", "de", "es"]);
        let english = std::path::Path::new(LOCALES_DIR).join("en");
        for lang in &languages[1..] {
            let dir = std::path::Path::new(LOCALES_DIR).join(lang);
            let mut files = 0;
            for file in std::fs::read_dir(&english).unwrap() {
                let file = file.unwrap().path();
                let name = file.file_name().unwrap().to_owned();
                if name == "staff.ftl" {
                    assert!(
                        !dir.join(&name).exists(),
                        "{lang}: the console is English only"
                    );
                    continue;
                }
                let theirs = dir.join(&name);
                assert!(theirs.exists(), "{lang} has no {name:?}");
                let (want, have) = (ids(&file), ids(&theirs));
                let missing: Vec<_> = want.difference(&have).collect();
                let extra: Vec<_> = have.difference(&want).collect();
                assert!(missing.is_empty(), "{lang}/{name:?} misses {missing:?}");
                assert!(extra.is_empty(), "{lang}/{name:?} has unknown {extra:?}");
                files += 1;
            }
            assert_eq!(files, 4, "{lang}");
        }
    }

    #[test]
    fn each_language_has_its_own_plurals_times_and_tags() {
        for (tag, one, two) in [
            ("de", "in 1 Minute erneut.", "in 2 Minuten erneut."),
            ("es", "en 1 minuto.", "en 2 minutos."),
        ] {
            let words = Words::for_tag(tag).unwrap();
            let wait = |minutes: u32| words.number("error-address-limited", "minutes", minutes);
            assert!(wait(1).ends_with(one), "{}", wait(1));
            assert!(wait(2).ends_with(two), "{}", wait(2));
        }
        let at = DateTime::parse_from_rfc3339("2026-12-02T08:05:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            Words::for_tag("de").unwrap().time(at),
            "02.12.2026 08:05:09 UTC"
        );
        assert_eq!(
            Words::for_tag("es-MX").unwrap().time(at),
            "02/12/2026 08:05:09 UTC"
        );
        assert_eq!(Words::for_tag("de_AT").map(|w| w.lang()), Some("de".into()));
        assert_eq!(Words::for_tag("fr"), None);
        assert_eq!(Words::for_tag(""), None);
        // The console's words, English only, are English in every language.
        assert_eq!(
            Words::for_tag("de").unwrap().get("page-staff-title"),
            Words::english().get("page-staff-title")
        );
    }

    /// Every message of every shipped file parses and resolves in its language without a
    /// missing argument or reference: a message with a fault would not resolve, and would show
    /// as `[id]`.
    #[test]
    fn every_message_resolves_with_its_arguments() {
        for words in shipped() {
            every_message_of_resolves(&words);
        }
    }

    fn every_message_of_resolves(words: &Words) {
        let dir = std::path::Path::new(LOCALES_DIR).join(words.lang());
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
            .text("destination", "j***@e***")
            .text("name", "Example")
            .text("at", "2026-12-02 08:05:09 UTC")
            .text("added", "2026-11-02 08:05 UTC")
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
