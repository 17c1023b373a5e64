//! Integration tests: the real service against a real PostgreSQL server and the AWS emulator
//! (moto, Cognito + SES v2), both started by scripts/test.sh on 127.0.0.1.

mod abuse;
mod audit;
mod audit_archive;
mod audit_stream;
mod audit_verifier;
mod bad_input;
mod brand;
mod browser;
mod confirm;
mod delivery;
mod denial;
mod doctor;
mod enrollment;
mod fairness;
mod faults;
mod fuzz;
mod health;
mod helpers;
mod intake;
mod jobs;
mod languages;
mod names;
mod openapi;
mod operations;
mod passkeys;
mod proxy;
mod request;
mod secrets;
mod staff;
mod staff_approval;
mod staff_audit;
mod staff_console;
mod staff_desk;
mod support;
mod throttling;
