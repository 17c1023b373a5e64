//! argon2id hashing of recovery codes, keyed with the pepper, off the async executor: on a fixed
//! set of dedicated threads (one per hashing slot), each with one reusable working memory, at a
//! lower CPU priority than the threads that answer requests.

use std::sync::{mpsc, Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::domain::RecoveryCode;
use crate::settings::HashingSettings;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 failed: {0}")]
    Argon2(String),
    #[error("the hashing thread was lost")]
    Lost,
    /// Every hashing slot stayed busy for the whole queue timeout.
    #[error("every hashing slot is busy")]
    Busy,
}

#[derive(Clone)]
pub struct CodeHasher {
    inner: Arc<Inner>,
}

/// Work for a hashing slot's thread, given that thread's working memory.
type SlotWork = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// How much lower than the rest of the service the hashing threads run (Linux `nice`): with
/// argon2 saturating every core, the threads that answer requests and probes still get a core
/// within a scheduler tick instead of queueing behind a 20 ms hash.
const SLOT_NICE: i32 = 10;

struct Inner {
    pepper: SecretString,
    params: Params,
    /// argon2 at OWASP cost takes ~20 ms of a core: without a bound, a burst of confirmations
    /// occupies every core and starves the rest of the service. One permit per slot thread.
    permits: Semaphore,
    /// How long to wait for a permit: the queue in front of the semaphore is bounded in time.
    queue_timeout: std::time::Duration,
    /// Compared against when there is no code to compare with, so that a confirmation for a
    /// name without a code costs the same as one with.
    dummy_hash: String,
    /// To the slot threads. Each keeps one working memory (`memory_kib`) for every hash it
    /// makes, so the service's memory stays flat; they end when the hasher is dropped.
    slots: mpsc::Sender<SlotWork>,
    /// How many times a slot's working memory was allocated (or grown): once per slot.
    allocations: std::sync::atomic::AtomicUsize,
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
        let slots = settings.concurrency.max(1);
        let (sender, receiver) = mpsc::channel::<SlotWork>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..slots {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || run_slot(&receiver))
                .map_err(|e| HashError::Argon2(format!("starting a hashing thread: {e}")))?;
        }
        let mut inner = Inner {
            pepper: settings.pepper.clone(),
            params,
            permits: Semaphore::new(slots),
            queue_timeout: settings.queue_timeout,
            dummy_hash: String::new(),
            slots: sender,
            allocations: Default::default(),
        };
        inner.dummy_hash = inner.hash(RecoveryCode::generate().expose(), &mut Vec::new())?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
    pub async fn hash(&self, code: &RecoveryCode) -> Result<String, HashError> {
        let digits = SecretString::from(code.expose());
        self.on_a_slot("hash", move |inner, memory| {
            inner.hash(digits.expose_secret(), memory)
        })
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
        self.on_a_slot("verify", move |inner, memory| {
            let matches = inner.verify(
                digits.expose_secret(),
                stored.as_deref().unwrap_or(&inner.dummy_hash),
                memory,
            )?;
            Ok(matches && stored.is_some())
        })
        .await?
    }

    /// Runs `work` on a free slot thread, once a permit says one is free (waiting at most the
    /// queue timeout for it).
    async fn on_a_slot<T: Send + 'static>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Inner, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let Ok(permit) =
            tokio::time::timeout(self.inner.queue_timeout, self.inner.permits.acquire()).await
        else {
            metrics::counter!("argon2_queue_timeouts_total").increment(1);
            return Err(HashError::Busy);
        };
        let _permit = permit.expect("the semaphore is never closed");
        let inner = Arc::clone(&self.inner);
        let (answer, answered) = tokio::sync::oneshot::channel();
        let started = std::time::Instant::now();
        self.inner
            .slots
            .send(Box::new(move |memory| {
                let _ = answer.send(work(&inner, memory));
            }))
            .map_err(|_| HashError::Lost)?;
        let result = answered.await.map_err(|_| HashError::Lost)?;
        metrics::histogram!("argon2_duration_seconds", "operation" => operation)
            .record(started.elapsed().as_secs_f64());
        Ok(result)
    }
}

/// A slot thread: at a lower priority, runs the work sent to it, one at a time, in its one
/// working memory (allocated at its first hash), until the hasher is dropped.
fn run_slot(receiver: &Mutex<mpsc::Receiver<SlotWork>>) {
    lower_this_threads_priority();
    let mut memory = Vec::new();
    loop {
        let next = receiver.lock().map(|r| r.recv());
        match next {
            Ok(Ok(work)) => work(&mut memory),
            _ => return,
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux, `nice` is per thread: PRIO_PROCESS with 0 names the calling thread.
    // SAFETY: setpriority only reads its integer arguments.
    let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, SLOT_NICE) } != 0;
    if failed {
        tracing::warn!("could not lower the hashing threads' priority; they run at the normal one");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

impl Inner {
    fn argon2(&self, params: Params) -> Result<Argon2<'_>, HashError> {
        Argon2::new_with_secret(
            self.pepper.expose_secret().as_bytes(),
            Algorithm::Argon2id,
            Version::V0x13,
            params,
        )
        .map_err(argon2_error)
    }

    /// Runs argon2 into `out` in the slot's working memory. A hash made with a larger memory
    /// cost than configured (stored before a change of settings) grows the memory.
    fn compute(
        &self,
        params: Params,
        digits: &str,
        salt: &[u8],
        out: &mut [u8],
        memory: &mut Vec<Block>,
    ) -> Result<(), HashError> {
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
            self.allocations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.argon2(params)?
            .hash_password_into_with_memory(digits.as_bytes(), salt, out, &mut memory[..blocks])
            .map_err(argon2_error)
    }

    fn hash(&self, digits: &str, memory: &mut Vec<Block>) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(argon2_error)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(self.params.clone(), digits, salt_bytes, &mut out, memory)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(argon2_error)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(argon2_error)?),
        };
        Ok(phc.to_string())
    }

    /// Recomputes the stored hash's argon2id (with its own parameters and salt) and compares
    /// the outputs in constant time (`Output`'s equality).
    fn verify(
        &self,
        digits: &str,
        stored: &str,
        memory: &mut Vec<Block>,
    ) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(stored).map_err(argon2_error)?;
        if parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed
                .version
                .is_some_and(|v| v != u32::from(Version::V0x13))
        {
            return Err(HashError::Argon2(format!(
                "not an argon2id v19 hash: {}",
                parsed.algorithm
            )));
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(HashError::Argon2("a hash without salt or output".into()));
        };
        let params = Params::try_from(&parsed).map_err(argon2_error)?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(argon2_error)?;
        let mut out = vec![0u8; expected.len()];
        self.compute(params, digits, salt_bytes, &mut out, memory)?;
        Ok(Output::new(&out).map_err(argon2_error)? == expected)
    }
}

fn argon2_error(err: impl std::fmt::Display) -> HashError {
    HashError::Argon2(err.to_string())
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

    /// Hashes stored before the reusable memories (made by the library's `hash_password`) still
    /// verify, and the library verifies the new ones: the stored format did not change.
    #[tokio::test]
    async fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let pepper = "pepper-pepper-pepper-pepper-pepper";
        let h = hasher(pepper);
        let library = Argon2::new_with_secret(
            pepper.as_bytes(),
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19456, 2, 1, None).unwrap(),
        )
        .unwrap();
        let code = RecoveryCode::parse("12345678").unwrap();
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let old = library
            .hash_password(b"12345678", &salt)
            .unwrap()
            .to_string();
        assert!(h.verify(&code, Some(&old)).await.unwrap());
        let other = RecoveryCode::parse("87654321").unwrap();
        assert!(!h.verify(&other, Some(&old)).await.unwrap());

        let new = h.hash(&code).await.unwrap();
        let parsed = PasswordHash::new(&new).unwrap();
        assert!(library.verify_password(b"12345678", &parsed).is_ok());
        assert!(library.verify_password(b"87654321", &parsed).is_err());
        // A hash made with other parameters (settings changed since) verifies with its own.
        let cheaper = Argon2::new_with_secret(
            pepper.as_bytes(),
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        )
        .unwrap()
        .hash_password(b"12345678", &salt)
        .unwrap()
        .to_string();
        assert!(h.verify(&code, Some(&cheaper)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_run_on_one_lower_priority_thread_per_slot_each_with_one_memory() {
        let h = hasher("pepper-pepper-pepper-pepper-pepper");
        let code = RecoveryCode::generate();
        let all = (0..16).map(|_| h.verify(&code, None));
        for result in futures::future::join_all(all).await {
            result.unwrap();
        }
        // new() hashed its dummy once outside the slots; the 16 hashes allocated one memory
        // per slot at most.
        let allocations = h
            .inner
            .allocations
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            (2..=3).contains(&allocations),
            "{allocations} memories allocated for 2 slots and the dummy"
        );
        // The slot threads run at nice 10 (field 19 of /proc/<pid>/task/<tid>/stat).
        let mut nice = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let dir = task.unwrap().path();
            // A thread of another test may end between the listing and the read.
            let Ok(name) = std::fs::read_to_string(dir.join("comm")) else {
                continue;
            };
            if name.trim() == "argon2-0" || name.trim() == "argon2-1" {
                let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
                let after_name = &stat[stat.rfind(')').unwrap() + 2..];
                nice.push(
                    after_name
                        .split(' ')
                        .nth(16)
                        .unwrap()
                        .parse::<i32>()
                        .unwrap(),
                );
            }
        }
        assert!(nice.len() >= 2, "slot threads: {nice:?}");
        assert!(nice.iter().all(|n| *n == SLOT_NICE), "{nice:?}");
    }

    #[tokio::test]
    async fn without_a_stored_hash_nothing_matches() {
        let h = hasher("pepper-pepper-pepper-pepper-pepper");
        let code = RecoveryCode::generate();
        assert!(!h.verify(&code, None).await.unwrap());
    }
}
