//! Password hashing (argon2id) on a fixed pool of worker threads, each owning its argon2
//! memory from start to end.
//!
//! Argon2 needs 19 MiB per hash. Run on tokio's blocking threads, each sign-in allocated its
//! own on a new thread: 100 parallel wrong logins took the process from 194 MB to 2.1 GB, and
//! the allocator kept it. Here a burst waits in a bounded queue instead; beyond the queue it
//! is refused with 429. Unknown users are checked against a hash of the same parameters, so
//! the answer's timing does not tell which user names exist.

use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Longest accepted password, in bytes: hashing cost does not grow with it, but the queue's
/// memory does.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks waiting for a worker before new ones are refused (at most this many passwords held).
const QUEUE: usize = 256;

/// At most this many workers, hence this many times 19 MiB, whatever the core count.
const MAX_WORKERS: usize = 4;

enum Job {
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String>>,
    },
    Verify {
        password: String,
        hash: String,
        reply: oneshot::Sender<bool>,
    },
}

/// The pool; dropping the last clone lets its workers finish the queue and exit.
#[derive(Clone)]
pub struct Passwords {
    jobs: SyncSender<Job>,
    /// A hash with the parameters of real ones, checked when the user has no password.
    decoy: Arc<str>,
}

impl Passwords {
    pub fn start(metrics: Arc<Metrics>) -> Passwords {
        let (jobs, queue) = std::sync::mpsc::sync_channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_WORKERS);
        for i in 0..workers {
            let (queue, metrics) = (queue.clone(), metrics.clone());
            // A worker that cannot start leaves the others; with none, every check is refused
            // by `submit` as the queue fills.
            if let Err(e) = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || work(&queue, &metrics))
            {
                tracing::error!(error = %e, "starting a password worker");
            }
        }
        Passwords {
            jobs,
            decoy: decoy_hash().into(),
        }
    }

    /// A new argon2id hash of `password` in PHC form.
    pub async fn hash(&self, password: String) -> Result<String> {
        check_length(&password)?;
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| stopped())?
    }

    /// Whether `password` matches `hash`; with no hash (unknown user, or a user without a
    /// password) the same work is done and the answer is no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        check_length(&password)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })?;
        Ok(answer.await.map_err(|_| stopped())? && known)
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => AppError::TooManyRequests {
                message: "too many sign-ins in progress; retry shortly".into(),
                retry_after: Duration::from_secs(1),
            },
            TrySendError::Disconnected(_) => stopped(),
        })
    }
}

fn check_length(password: &str) -> Result<()> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest(format!(
            "password is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

fn stopped() -> AppError {
    AppError::Internal(anyhow::anyhow!("the password workers stopped"))
}

/// One worker: its argon2 memory is allocated here, once, and reused for every job.
fn work(queue: &Mutex<Receiver<Job>>, metrics: &Metrics) {
    let mut memory = vec![Block::default(); Params::default().block_count()];
    loop {
        let job = match queue.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        metrics.password_hashes.fetch_add(1, Relaxed);
        match job {
            Job::Hash { password, reply } => {
                let _ = reply.send(hash(&password, &mut memory).map_err(AppError::Internal));
            }
            Job::Verify {
                password,
                hash,
                reply,
            } => {
                let _ = reply.send(verify(&password, &hash, &mut memory));
            }
        }
    }
}

fn hash(password: &str, memory: &mut [Block]) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut *memory)
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies in the worker's memory. A stored hash whose parameters need more memory (made by
/// another version) grows it: stored hashes are the server's own, not request input.
fn verify(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("a stored password hash does not parse");
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        tracing::error!("a stored password hash is not argon2 with salt and output");
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let mut salt_bytes = [0u8; 64];
    let (Ok(version), Ok(salt)) = (version, salt.decode_b64(&mut salt_bytes)) else {
        return false;
    };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|o| o == expected)
}

/// The decoy: real parameters, a fixed salt and an output no password is known to give.
fn decoy_hash() -> String {
    let p = Params::default();
    format!(
        "$argon2id$v=19$m={},t={},p={}$cnVsZXN0dWRpby1kZWNveQ${}",
        p.m_cost(),
        p.t_cost(),
        p.p_cost(),
        "A".repeat(43)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_cost_a_check() {
        let metrics = Arc::<Metrics>::default();
        let p = Passwords::start(metrics.clone());
        let h = p.hash("s3cret".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(p.verify("s3cret".into(), Some(h.clone())).await.unwrap());
        assert!(!p.verify("other".into(), Some(h)).await.unwrap());
        assert!(!p.verify("s3cret".into(), None).await.unwrap());
        assert_eq!(metrics.password_hashes.load(Relaxed), 4);
    }

    #[test]
    fn the_decoy_parses_with_the_parameters_of_real_hashes() {
        let decoy = decoy_hash();
        let parsed = PasswordHash::new(&decoy).unwrap();
        assert_eq!(
            Params::try_from(&parsed).unwrap().m_cost(),
            Params::DEFAULT_M_COST
        );
        assert!(parsed.salt.is_some() && parsed.hash.is_some());
        let mut memory = vec![Block::default(); Params::default().block_count()];
        assert!(!verify("", &decoy, &mut memory));
    }

    #[tokio::test]
    async fn overlong_passwords_are_refused_before_hashing() {
        let p = Passwords::start(Arc::default());
        let e = p
            .hash("x".repeat(MAX_PASSWORD_BYTES + 1))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("longer than 1024 bytes"), "{e}");
    }
}
