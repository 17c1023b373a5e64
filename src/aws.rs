//! What the three AWS adapters (Cognito, SES, SNS) share about a failed call: the service
//! refused it (it would refuse again; named by its error code), or it is worth trying again
//! later (throttling or the service's own fault, a timeout, a dropped connection).

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Why a call is worth trying again.
pub type Transient = Box<dyn std::error::Error + Send + Sync>;

/// `Ok(code)` when the service refused the call (`Unknown` when it named no code); `Err` when it
/// is worth trying again: no answer, or an answer whose code is in `transient` (each service
/// spells throttling and its own faults in its own way).
pub fn refusal<E, R>(err: SdkError<E, R>, transient: &[&str]) -> Result<String, Transient>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err {
        let code = service.err().code().unwrap_or("Unknown");
        if !transient.contains(&code) {
            return Ok(code.to_owned());
        }
    }
    Err(Box::new(err))
}
