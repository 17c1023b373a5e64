//! mfa-recovery: gets people who lost their authenticator phone back into their AWS Cognito
//! account, safely.

pub mod audit;
pub mod aws;
pub mod brand;
pub mod clock;
pub mod doctor;
pub mod domain;
pub mod idp;
pub mod mail;
pub mod oidc;
pub mod recovery;
pub mod routes;
pub mod settings;
pub mod siem;
pub mod sms;
pub mod staff;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod words;
pub mod worker;
