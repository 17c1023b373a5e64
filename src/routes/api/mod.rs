//! The JSON API: thin handlers that parse into domain types, call the use cases in
//! `crate::recovery` and `crate::audit`, and answer with the DTOs declared here (the OpenAPI
//! document is generated from them).

pub mod audit;
pub mod recovery;
pub mod support;
