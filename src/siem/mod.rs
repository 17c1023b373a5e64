//! Where the audit stream goes (`crate::audit::stream::EventSink`): an HTTPS endpoint, signed
//! in the Standard Webhooks format, and a JSON-lines file for a log shipper.

mod file;
mod webhook;

pub use file::FileSink;
pub use webhook::{sign, WebhookSink};

/// A destination's cursor key: its kind and a digest of where it points (a URL may carry a
/// token, which does not belong in the database).
fn destination(kind: &str, target: &str) -> String {
    format!(
        "{kind}:{}",
        &crate::domain::sha256_hex(target.as_bytes())[..16]
    )
}
