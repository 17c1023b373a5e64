//! Pages for people: server-rendered, no scripts, calling the same use cases as the JSON API.

pub mod cancel;
