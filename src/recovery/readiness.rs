//! Whether the service can do its work: it can read its user pool (asked of the identity
//! provider at most every `POOL_CHECK_TTL`). One value `/readyz` and the use cases that meet a
//! refusal share.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::idp::{IdentityProvider, IdpError};

/// How long a readiness answer about the pool is reused (probes come every few seconds; the
/// identity provider is not asked that often).
const POOL_CHECK_TTL: Duration = Duration::from_secs(30);

/// The last answer to "can the service read its user pool?".
#[derive(Clone, Copy)]
struct PoolCheck {
    at: Option<Instant>,
    readable: bool,
}

pub struct Readiness {
    idp: Arc<dyn IdentityProvider>,
    pool_check: Mutex<PoolCheck>,
}

impl Readiness {
    pub(super) fn new(idp: Arc<dyn IdentityProvider>) -> Self {
        Self {
            idp,
            pool_check: Mutex::new(PoolCheck {
                at: None,
                readable: true,
            }),
        }
    }

    /// Whether the service can read its user pool: `false` once the provider refused to (no
    /// such pool, no permission), until it answers again. An unreachable provider says nothing
    /// about the configuration and keeps the last answer.
    pub async fn pool_readable(&self) -> bool {
        let last = *self.pool_check.lock().expect("not poisoned");
        if last.at.is_some_and(|at| at.elapsed() < POOL_CHECK_TTL) {
            return last.readable;
        }
        let readable = match self.idp.mfa_config().await {
            Ok(_) => true,
            Err(err @ IdpError::Refused { .. }) => {
                self.pool_refused(&err);
                false
            }
            Err(IdpError::Unavailable { .. }) => last.readable,
        };
        *self.pool_check.lock().expect("not poisoned") = PoolCheck {
            at: Some(Instant::now()),
            readable,
        };
        readable
    }

    /// The provider refused to let the service read its pool: loud, counted, and not ready.
    pub(super) fn pool_refused(&self, err: &IdpError) {
        if let IdpError::Refused { operation, code } = err {
            metrics::counter!("identity_provider_refusals_total", "operation" => *operation, "code" => code.clone())
                .increment(1);
            tracing::error!(%operation, %code, "Cognito refused to let the service read its user pool: check COGNITO_USER_POOL_ID, AWS_REGION and the IAM policy");
        }
        *self.pool_check.lock().expect("not poisoned") = PoolCheck {
            at: Some(Instant::now()),
            readable: false,
        };
    }
}
