//! argon2id hashing of recovery codes, keyed with the pepper, off the async executor.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::domain::RecoveryCode;
use crate::settings::HashingSettings;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 failed: {0}")]
    Argon2(String),
    #[error("the hashing task was lost")]
    Task(#[from] tokio::task::JoinError),
    /// Every hashing slot stayed busy for the whole queue timeout.
    #[error("every hashing slot is busy")]
    Busy,
}

#[derive(Clone)]
pub struct CodeHasher {
    inner: Arc<Inner>,
}

struct Inner {
    pepper: SecretString,
    params: Params,
    /// argon2 at OWASP cost takes ~20 ms of a core: without a bound, a burst of confirmations
    /// occupies every blocking thread and starves the rest of the service.
    permits: Semaphore,
    /// How long to wait for a permit: the queue in front of the semaphore is bounded in time.
    queue_timeout: std::time::Duration,
    /// Compared against when there is no code to compare with, so that a confirmation for a
    /// name without a code costs the same as one with.
    dummy_hash: String,
}

impl CodeHasher {
    pub fn new(settings: &HashingSettings) -> Result<Self, HashError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| HashError::Argon2(e.to_string()))?;
        let mut inner = Inner {
            pepper: settings.pepper.clone(),
            params,
            permits: Semaphore::new(settings.concurrency.max(1)),
            queue_timeout: settings.queue_timeout,
            dummy_hash: String::new(),
        };
        inner.dummy_hash = inner.hash(RecoveryCode::generate().expose())?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
    pub async fn hash(&self, code: &RecoveryCode) -> Result<String, HashError> {
        let digits = SecretString::from(code.expose());
        self.blocking("hash", move |inner| inner.hash(digits.expose_secret()))
            .await?
    }

    /// Whether `code` matches `stored`. With no stored hash, the same work is done against a
    /// dummy and the answer is `false`.
    pub async fn verify(
        &self,
        code: &RecoveryCode,
        stored: Option<&str>,
    ) -> Result<bool, HashError> {
        let digits = SecretString::from(code.expose());
        let stored = stored.map(str::to_owned);
        self.blocking("verify", move |inner| {
            let matches = inner.verify(
                digits.expose_secret(),
                stored.as_deref().unwrap_or(&inner.dummy_hash),
            )?;
            Ok(matches && stored.is_some())
        })
        .await?
    }

    async fn blocking<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let Ok(permit) =
            tokio::time::timeout(self.inner.queue_timeout, self.inner.permits.acquire()).await
        else {
            metrics::counter!("argon2_queue_timeouts_total").increment(1);
            return Err(HashError::Busy);
        };
        let _permit = permit.expect("the semaphore is never closed");
        let inner = Arc::clone(&self.inner);
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || work(&inner)).await?;
        metrics::histogram!("argon2_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
        Ok(result)
    }
}

impl Inner {
    fn argon2(&self) -> Result<Argon2<'_>, HashError> {
        Argon2::new_with_secret(
            self.pepper.expose_secret().as_bytes(),
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        )
        .map_err(|e| HashError::Argon2(e.to_string()))
    }

    fn hash(&self, digits: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        self.argon2()?
            .hash_password(digits.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError::Argon2(e.to_string()))
    }

    fn verify(&self, digits: &str, stored: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(stored).map_err(|e| HashError::Argon2(e.to_string()))?;
        // The comparison inside verify_password is constant-time.
        match self.argon2()?.verify_password(digits.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::Password) => Ok(false),
            Err(e) => Err(HashError::Argon2(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(pepper: &str) -> CodeHasher {
        CodeHasher::new(&HashingSettings {
            pepper: SecretString::from(pepper),
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            concurrency: 2,
            queue_timeout: std::time::Duration::from_secs(5),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_code_matches_its_own_hash_and_no_other_code() {
        let h = hasher("pepper-pepper-pepper-pepper-pepper");
        let code = RecoveryCode::parse("12345678").unwrap();
        let stored = h.hash(&code).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains("12345678"));
        assert!(h.verify(&code, Some(&stored)).await.unwrap());
        let other = RecoveryCode::parse("12345679").unwrap();
        assert!(!h.verify(&other, Some(&stored)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_made_with_another_pepper_does_not_match() {
        let code = RecoveryCode::parse("12345678").unwrap();
        let stored = hasher("first-pepper-first-pepper-first-pepper")
            .hash(&code)
            .await
            .unwrap();
        let h = hasher("second-pepper-second-pepper-second-pepper");
        assert!(!h.verify(&code, Some(&stored)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_that_waits_too_long_for_a_slot_is_refused_not_queued() {
        let h = CodeHasher::new(&HashingSettings {
            pepper: SecretString::from("pepper-pepper-pepper-pepper-pepper"),
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
            concurrency: 1,
            queue_timeout: std::time::Duration::from_millis(1),
        })
        .unwrap();
        let code = RecoveryCode::generate();
        let results = futures::future::join_all((0..4).map(|_| h.verify(&code, None))).await;
        assert!(results.iter().any(|r| r.is_ok()), "the first one runs");
        assert!(
            results.iter().any(|r| matches!(r, Err(HashError::Busy))),
            "the others do not wait 20 ms each"
        );
    }

    #[tokio::test]
    async fn without_a_stored_hash_nothing_matches() {
        let h = hasher("pepper-pepper-pepper-pepper-pepper");
        let code = RecoveryCode::generate();
        assert!(!h.verify(&code, None).await.unwrap());
    }
}
