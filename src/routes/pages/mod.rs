//! Pages for people: server-rendered, no scripts, no external assets, calling the same use
//! cases as the JSON API. Words live in `text`.

pub mod approvals;
pub mod auditors;
pub mod cancel;
pub mod desk;
pub mod passkeys;
pub mod recover;
pub mod service_accounts;
mod session;
pub mod staff;
pub mod text;

pub use recover::PagesConfig;
pub use session::CookieConfig;
