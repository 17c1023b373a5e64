//! Codes as a person reads them: from an email, from an authenticator app.

use super::*;

#[derive(Debug, Clone, Deserialize)]
pub struct SentEmail {
    pub source: String,
    pub to: Vec<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

impl SentEmail {
    /// The path and query of the email's first link to `path` (such as `/recover/link`), as a
    /// person following it opens it.
    pub fn link(&self, path: &str) -> String {
        // The body is the HTML part: `&` is written `&amp;` in its links.
        let body = self
            .body
            .as_deref()
            .unwrap_or_default()
            .replace("&amp;", "&");
        let start = body
            .find(&format!("{path}?"))
            .unwrap_or_else(|| panic!("no link to {path} in {body}"));
        body[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
            .collect()
    }

    /// The 8-digit code as a person reads it from the email (`1234 5678`), without the space.
    pub fn code(&self) -> String {
        find_code(self.body.as_deref().unwrap_or_default()).expect("the email holds a code")
    }
}

/// The current 6-digit code of an authenticator holding `secret` (base32, as Cognito's
/// AssociateSoftwareToken returns it), computed with an RFC 6238 implementation.
pub fn totp_now(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("a base32 secret");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .generate_current()
        .unwrap()
}

/// Any 6-digit TOTP code other than `code`.
pub fn other_totp(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 500_000) % 1_000_000)
}

/// Any 8-digit code other than `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:08}", (n + 1) % 100_000_000)
}

/// The first `dddd dddd` group in `text`, as 8 digits.
pub fn find_code(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(8)).find_map(|i| {
        let w = &b[i..i + 9];
        let boundary_before = i == 0 || !b[i - 1].is_ascii_digit();
        let boundary_after = b.get(i + 9).is_none_or(|c| !c.is_ascii_digit());
        let shape = w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b' '
            && w[5..].iter().all(u8::is_ascii_digit);
        (boundary_before && boundary_after && shape)
            .then(|| format!("{}{}", &text[i..i + 4], &text[i + 5..i + 9]))
    })
}
