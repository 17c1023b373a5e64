//! The language a request is answered in: the one the person picked on a page (`?lang=`, which
//! every link, form and redirect of the pages carries on, as do the links in emails), else the
//! best of the browser's `Accept-Language` (weights honoured), else `DEFAULT_LOCALE`.

use actix_web::{web, HttpRequest};
use serde::Deserialize;

use crate::settings::RecoverySettings;
use crate::words::Words;

#[derive(Deserialize)]
struct Picked {
    #[serde(default)]
    lang: Option<String>,
}

/// The shipped language the request asks for, if it names one.
pub fn requested(req: &HttpRequest) -> Option<Words> {
    let picked = web::Query::<Picked>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().lang)
        .and_then(|tag| Words::for_tag(&tag));
    picked.or_else(|| {
        req.headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Words::negotiate)
    })
}

/// The language to answer `req` in.
pub fn of(req: &HttpRequest) -> Words {
    requested(req).unwrap_or_else(|| {
        req.app_data::<web::Data<RecoverySettings>>()
            .map_or_else(Words::english, |rules| rules.default_language.clone())
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn lang(req: TestRequest) -> Option<String> {
        requested(&req.to_http_request()).map(|w| w.lang())
    }

    #[test]
    fn the_picked_language_wins_then_the_heaviest_accepted_one() {
        let accept = |value: &str| TestRequest::default().insert_header(("Accept-Language", value));
        assert_eq!(lang(accept("de-AT,de;q=0.9,en;q=0.8")), Some("de".into()));
        // Weights, not order.
        assert_eq!(
            lang(accept("en;q=0.5, es;q=0.9, de;q=0.7")),
            Some("es".into())
        );
        // A language not shipped is passed over for the next one.
        assert_eq!(lang(accept("fr-FR, fr;q=0.9, es;q=0.8")), Some("es".into()));
        assert_eq!(lang(accept("fr, it")), None);
        // q=0 refuses a language.
        assert_eq!(lang(accept("de;q=0, es;q=0.1")), Some("es".into()));
        assert_eq!(lang(accept("%%%, ;;;")), None);
        assert_eq!(lang(accept(&"de,".repeat(400))), None, "too long: not read");
        let picked = TestRequest::with_uri("/recover?token=x&lang=es")
            .insert_header(("Accept-Language", "de"));
        assert_eq!(lang(picked), Some("es".into()));
        let unknown =
            TestRequest::with_uri("/recover?lang=xx").insert_header(("Accept-Language", "de"));
        assert_eq!(
            lang(unknown),
            Some("de".into()),
            "an unknown pick is ignored"
        );
        assert_eq!(lang(TestRequest::default()), None);
    }
}
