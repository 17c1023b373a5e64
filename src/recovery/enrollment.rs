//! A new authenticator before the user leaves: right after the reset is read back, the service
//! signs in with the password it was just given and starts TOTP association; the user proves
//! the new app with a code, and the service makes it the preferred factor, signs the user out
//! everywhere again and reads the result back.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::jobs::{EndEnrollment, PasskeysNotice, RecoveryJob};
use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::sealed::{open, seal};
use crate::domain::SignInCodeText;
use crate::domain::{otpauth_uri, random_token, token_digest, Actor, ClientInfo, TotpCode};
use crate::idp::{
    CodeAnswer, EnrollmentBegin, EnrollmentStart, EnrollmentState, IdpError, MfaFactor, Passkey,
    TotpCheck,
};
use crate::store::enrollments::{self, EnrollmentEnd, NewEnrollment};
use crate::store::recoveries::{self, RecoveryRow};
use crate::worker::JobError;

/// Wrong codes from the new authenticator before the enrollment token dies.
pub const ENROLLMENT_MAX_ATTEMPTS: i32 = 5;

/// What the person who just proved code and password gets, once: the token that finishes the
/// enrollment, and its step.
pub struct Enrollment {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    pub step: EnrollmentStep,
}

pub enum EnrollmentStep {
    /// The new authenticator's secret, as text and as a Key URI: verify it with a code from it.
    Authenticator {
        secret_code: SecretString,
        otpauth_uri: SecretString,
    },
    /// The sign-in met the user's other MFA factor (SMS or email) and sent a code there: it is
    /// typed first (`answer_sign_in_code`), then the new authenticator is offered.
    SignInCode {
        factor: MfaFactor,
        /// Where the code went, masked.
        destination: String,
    },
}

/// The code the user received on their other factor, for an enrollment waiting for it.
pub struct SignInCodeAnswer {
    pub token: SecretString,
    pub code: SignInCodeText,
    pub client: ClientInfo,
}

/// Resuming an enrollment from a notice's link, with the password.
pub struct EnrollmentResumption {
    pub link: SecretString,
    pub password: SecretString,
    pub client: ClientInfo,
}

/// Why no enrollment was started.
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// The sign-in with the password did not lead to an enrollment: a wrong password, or
    /// Cognito asked for another factor or a new password.
    #[error("the sign-in with the password asked for something other than a new authenticator")]
    NotOffered,
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(IdpError),
    #[error("the enrollment store failed: {0}")]
    Store(#[from] sqlx::Error),
}

pub struct EnrollmentVerification {
    pub token: SecretString,
    pub code: TotpCode,
    pub client: ClientInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    /// The code does not match the new authenticator.
    #[error("the code from the authenticator app is not valid")]
    InvalidTotp,
    /// Not the code the sign-in sent to the user's other factor.
    #[error("the code sent by text or email is not valid")]
    InvalidSignInCode,
    /// Unknown, used or expired token (or one that died after too many wrong codes).
    #[error("the enrollment is not valid: unknown, used or expired")]
    Invalid,
    /// The link of a reset notice is unknown, used or expired, the password is wrong, or the
    /// account already has a new authenticator: the caller is never told which.
    #[error("the enrollment link is not valid, or the password is wrong")]
    InvalidLink,
    #[error("the client address is over its hourly limit")]
    RateLimited { retry_after: u64 },
    #[error("the limit counters are unavailable")]
    LimitsUnavailable(#[source] sqlx::Error),
    #[error("the identity provider is unavailable")]
    IdentityProviderUnavailable(#[source] IdpError),
    /// Cognito accepted the code, but the read-back does not show TOTP as the preferred factor.
    #[error("the new authenticator could not be made the user's factor: {0}")]
    NotApplied(String),
    /// The user has no passkey by that id (or removed it already).
    #[error("the user has no such passkey")]
    PasskeyNotFound,
    /// Cognito answered the deletion, but the passkey is still listed.
    #[error("the passkey is still listed after its deletion")]
    PasskeyNotRemoved,
    #[error("the enrollment store failed")]
    Store(#[from] sqlx::Error),
}

impl From<super::LimitError> for EnrollmentError {
    fn from(err: super::LimitError) -> Self {
        match err {
            super::LimitError::Limited { retry_after } => Self::RateLimited { retry_after },
            super::LimitError::Unavailable(e) => Self::LimitsUnavailable(e),
        }
    }
}

/// What is sealed with the enrollment token.
#[derive(Serialize, Deserialize)]
#[serde(from = "SealedForm")]
struct Sealed {
    /// Where the enrollment stands at the identity provider (opaque).
    state: String,
    secret_code: String,
    /// The identity provider already accepted a code: a retry after an outage finishes the rest.
    verified: bool,
    /// The sign-in waits for the code sent to the user's other factor (no secret yet).
    awaiting_code: bool,
    /// The authenticator is the user's; `state` is their completed sign-in, kept while they see
    /// to their passkeys.
    enrolled: bool,
}

/// The sealed forms this release opens: its own, and that of earlier releases (which kept the
/// provider's credential as `kind` and `credential`; the provider's state is `kind:credential`),
/// so that an enrollment started before an upgrade can be finished after it.
#[derive(Deserialize)]
#[serde(untagged)]
enum SealedForm {
    Current {
        state: String,
        secret_code: String,
        verified: bool,
        #[serde(default)]
        awaiting_code: bool,
        #[serde(default)]
        enrolled: bool,
    },
    Earlier {
        kind: String,
        credential: String,
        secret_code: String,
        verified: bool,
    },
}

impl From<SealedForm> for Sealed {
    fn from(form: SealedForm) -> Self {
        match form {
            SealedForm::Current {
                state,
                secret_code,
                verified,
                awaiting_code,
                enrolled,
            } => Self {
                state,
                secret_code,
                verified,
                awaiting_code,
                enrolled,
            },
            SealedForm::Earlier {
                kind,
                credential,
                secret_code,
                verified,
            } => Self {
                state: format!("{kind}:{credential}"),
                secret_code,
                verified,
                awaiting_code: false,
                enrolled: false,
            },
        }
    }
}

impl Sealed {
    fn new(state: &EnrollmentState, secret_code: &str, verified: bool) -> Self {
        Self {
            state: state.expose_for_sealing().to_owned(),
            secret_code: secret_code.to_owned(),
            verified,
            awaiting_code: false,
            enrolled: false,
        }
    }

    /// The user's completed sign-in, once the authenticator is theirs.
    fn enrolled(signed_in: &EnrollmentState) -> Self {
        Self {
            enrolled: true,
            ..Self::new(signed_in, "", true)
        }
    }

    /// An enrollment whose sign-in waits for the code sent to the user's other factor.
    fn awaiting_code(state: &EnrollmentState) -> Self {
        Self {
            awaiting_code: true,
            ..Self::new(state, "", false)
        }
    }

    fn state(&self) -> EnrollmentState {
        EnrollmentState::from_sealed(self.state.clone())
    }

    fn seal(&self, token: &SecretString, id: Uuid) -> Vec<u8> {
        let plain = serde_json::to_vec(self).expect("strings and a bool serialise");
        seal(token, id.as_bytes(), &plain)
    }

    fn open(token: &SecretString, id: Uuid, sealed: &[u8]) -> Option<Self> {
        let plain = open(token, id.as_bytes(), sealed).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// An open enrollment whose attempt was counted.
struct Attempt {
    row: enrollments::EnrollmentRow,
    recovery: RecoveryRow,
    sealed: Sealed,
    attempts: i32,
}

/// An event of the user's enrollment.
fn enrollment_event<'a>(
    recovery: &'a RecoveryRow,
    client: &'a ClientInfo,
    outcome: Outcome,
    action: Action,
    detail: String,
) -> AuditEvent<'a> {
    AuditEvent::new(action, &Actor::User, outcome)
        .username(&recovery.username)
        .recovery(recovery.id)
        .client(client)
        .detail(detail)
}

impl RecoveryService {
    /// Starts the new authenticator's enrollment for a recovery whose reset was just applied
    /// and read back. It never undoes or fails the reset: when Cognito does not offer an
    /// enrollment (another factor is asked for, or it cannot be reached) there is none, and the
    /// user enrols at the next sign-in (required pools) or in the app (optional ones).
    pub(super) async fn start_enrollment(
        &self,
        recovery: &RecoveryRow,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Option<Enrollment> {
        match self.try_start_enrollment(recovery, password, client).await {
            Ok(enrollment) => Some(enrollment),
            Err(why) => {
                tracing::warn!(reason = %why, "no enrollment offered after the reset");
                self.audit_start_failed(recovery, client, &why).await;
                None
            }
        }
    }

    async fn audit_start_failed(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
        why: &StartError,
    ) {
        let event = enrollment_event(
            recovery,
            client,
            Outcome::Failed,
            Action::EnrollmentStarted,
            why.to_string(),
        );
        let appended = async {
            let mut conn = self.db.acquire().await?;
            audit::append(&mut conn, event).await
        };
        if let Err(err) = appended.await {
            crate::telemetry::log_unexpected("auditing a failed enrollment start", &err);
        }
    }

    async fn try_start_enrollment(
        &self,
        recovery: &RecoveryRow,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<Enrollment, StartError> {
        let account = recovery.account();
        let begun = self
            .idp
            .begin_enrollment(account, password, client)
            .await
            .map_err(StartError::Unavailable)?
            .ok_or(StartError::NotOffered)?;
        let token = random_token();
        let id = Uuid::new_v4();
        let expires_at = self.now() + self.enrollment_ttl();
        let (sealed, detail) = match &begun {
            EnrollmentBegin::Started(started) => (
                Sealed::new(&started.state, started.secret_code.expose_secret(), false),
                format!("new authenticator offered until {}", expires_at.to_rfc3339()),
            ),
            EnrollmentBegin::CodeSent(sent) => (
                Sealed::awaiting_code(&sent.state),
                format!(
                    "the sign-in asked for {} first: a code went to {}; the enrollment waits for it until {}",
                    sent.factor.name(),
                    sent.destination,
                    expires_at.to_rfc3339()
                ),
            ),
        };
        let mut tx = self.db.begin().await?;
        enrollments::insert(
            &mut tx,
            NewEnrollment {
                id,
                recovery_id: recovery.id,
                token_hash: &token_digest(&token),
                sealed: &sealed.seal(&token, id),
                expires_at,
            },
        )
        .await?;
        let event = enrollment_event(
            recovery,
            client,
            Outcome::Success,
            Action::EnrollmentStarted,
            detail,
        );
        audit::append(&mut tx, event).await?;
        tx.commit().await?;
        let step = match begun {
            EnrollmentBegin::Started(started) => self.authenticator_step(recovery, started),
            EnrollmentBegin::CodeSent(sent) => EnrollmentStep::SignInCode {
                factor: sent.factor,
                destination: sent.destination,
            },
        };
        Ok(Enrollment {
            token,
            expires_at,
            step,
        })
    }

    /// The new authenticator as the user adds it to an app.
    fn authenticator_step(
        &self,
        recovery: &RecoveryRow,
        started: EnrollmentStart,
    ) -> EnrollmentStep {
        let uri = otpauth_uri(
            &self.rules.totp_issuer,
            &recovery.username,
            started.secret_code.expose_secret(),
        );
        EnrollmentStep::Authenticator {
            secret_code: started.secret_code,
            otpauth_uri: SecretString::from(uri),
        }
    }

    /// Whether the enrollment a page holds the token of is still open: a page shows its secret
    /// only while it is (a replayed page cookie shows nothing once the enrollment ended).
    pub async fn enrollment_open(&self, token: &SecretString) -> Result<bool, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        enrollments::is_open(&mut conn, self.now(), &token_digest(token)).await
    }

    /// Resumes the new authenticator's enrollment from the one-time link of a reset-applied
    /// notice (after a waiting period, or when the user left the page early), with the
    /// password: only for a recovery that completed, only while the account has no
    /// authenticator (the link never replaces one), a few wrong passwords at most.
    #[tracing::instrument(skip_all)]
    pub async fn resume_enrollment(
        &self,
        resumption: EnrollmentResumption,
    ) -> Result<Enrollment, EnrollmentError> {
        let client = &resumption.client;
        self.limits.limit_client("enrollment", client).await?;
        let mut tx = self.db.begin().await?;
        let Some((recovery, attempts)) =
            recoveries::lock_by_enrol_link(&mut tx, self.now(), &token_digest(&resumption.link))
                .await?
        else {
            return Err(EnrollmentError::InvalidLink);
        };
        if attempts > ENROLLMENT_MAX_ATTEMPTS {
            recoveries::end_enrol_link(&mut tx, recovery.id).await?;
            tx.commit().await?;
            return Err(EnrollmentError::InvalidLink);
        }
        tx.commit().await?;
        let user = self
            .idp
            .find_user(recovery.account())
            .await
            .map_err(EnrollmentError::IdentityProviderUnavailable)?;
        if user.is_some_and(|u| u.totp_enabled) {
            let mut conn = self.db.acquire().await?;
            recoveries::end_enrol_link(&mut conn, recovery.id).await?;
            return Err(EnrollmentError::InvalidLink);
        }
        match self
            .try_start_enrollment(&recovery, &resumption.password, client)
            .await
        {
            Ok(enrollment) => {
                let mut conn = self.db.acquire().await?;
                recoveries::end_enrol_link(&mut conn, recovery.id).await?;
                Ok(enrollment)
            }
            Err(StartError::NotOffered) => {
                self.audit_start_failed(&recovery, client, &StartError::NotOffered)
                    .await;
                Err(EnrollmentError::InvalidLink)
            }
            Err(StartError::Unavailable(err)) => {
                Err(EnrollmentError::IdentityProviderUnavailable(err))
            }
            Err(StartError::Store(err)) => Err(EnrollmentError::Store(err)),
        }
    }

    /// The code the user received on their other factor (SMS or email), for an enrollment whose
    /// sign-in waits for it: the sign-in completes and the new authenticator is offered, under
    /// the same token. Wrong codes count against the enrollment's attempts.
    #[tracing::instrument(skip_all)]
    pub async fn answer_sign_in_code(
        &self,
        answer: SignInCodeAnswer,
    ) -> Result<Enrollment, EnrollmentError> {
        let client = &answer.client;
        let Attempt {
            row,
            recovery,
            sealed,
            attempts,
        } = self.attempt(&answer.token, client, true).await?;
        let event = |outcome: Outcome, action: Action, detail: String| {
            enrollment_event(&recovery, client, outcome, action, detail)
        };
        let answered = self
            .idp
            .answer_sign_in_code(recovery.account(), &sealed.state(), answer.code.as_str())
            .await;
        match answered {
            Ok(CodeAnswer::Started(started)) => {
                let mut tx = self.db.begin().await?;
                let resealed =
                    Sealed::new(&started.state, started.secret_code.expose_secret(), false)
                        .seal(&answer.token, row.id);
                enrollments::reseal(&mut tx, row.id, &resealed).await?;
                let detail = format!(
                    "the code sent for the sign-in was right; new authenticator offered until {}",
                    row.expires_at.to_rfc3339()
                );
                audit::append(
                    &mut tx,
                    event(Outcome::Success, Action::EnrollmentStarted, detail),
                )
                .await?;
                tx.commit().await?;
                Ok(Enrollment {
                    token: answer.token,
                    expires_at: row.expires_at,
                    step: self.authenticator_step(&recovery, started),
                })
            }
            Ok(CodeAnswer::Mismatch) => {
                let what = "wrong code for the sign-in";
                self.wrong_code(row.id, attempts, &recovery, client, what)
                    .await?;
                Err(EnrollmentError::InvalidSignInCode)
            }
            Err(err) => Err(self
                .provider_unavailable(row.id, &recovery, client, err)
                .await?),
        }
    }

    /// The open enrollment of `token` with its attempt counted, before anything is compared:
    /// past the attempts it ends. `awaiting_code`: the step the caller takes (the sign-in's
    /// code, or the new authenticator's); an enrollment at the other step is not valid here.
    async fn attempt(
        &self,
        token: &SecretString,
        client: &ClientInfo,
        awaiting_code: bool,
    ) -> Result<Attempt, EnrollmentError> {
        self.limits.limit_client("enrollment", client).await?;
        let mut tx = self.db.begin().await?;
        let (row, recovery, sealed) = self
            .open_at(&mut tx, token, |s| {
                s.awaiting_code == awaiting_code && !s.enrolled
            })
            .await?;
        let attempts = enrollments::count_attempt(&mut tx, row.id).await?;
        if attempts > ENROLLMENT_MAX_ATTEMPTS {
            enrollments::finish(&mut tx, self.now(), row.id, EnrollmentEnd::TooManyAttempts)
                .await?;
            tx.commit().await?;
            return Err(EnrollmentError::Invalid);
        }
        tx.commit().await?;
        Ok(Attempt {
            row,
            recovery,
            sealed,
            attempts,
        })
    }

    /// A wrong code (`what`), audited; the last allowed attempt ends the enrollment.
    async fn wrong_code(
        &self,
        id: Uuid,
        attempts: i32,
        recovery: &RecoveryRow,
        client: &ClientInfo,
        what: &str,
    ) -> Result<(), EnrollmentError> {
        let mut tx = self.db.begin().await?;
        let died = attempts >= ENROLLMENT_MAX_ATTEMPTS;
        if died {
            enrollments::finish(&mut tx, self.now(), id, EnrollmentEnd::TooManyAttempts).await?;
        }
        let detail = format!(
            "{what} (attempt {attempts} of {ENROLLMENT_MAX_ATTEMPTS}){}",
            if died { "; the enrollment ended" } else { "" }
        );
        let event = enrollment_event(
            recovery,
            client,
            Outcome::Rejected,
            Action::EnrollmentFailed,
            detail,
        );
        audit::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The provider could not be reached: the attempt is given back and the enrollment stays
    /// open (audited).
    async fn provider_unavailable(
        &self,
        id: Uuid,
        recovery: &RecoveryRow,
        client: &ClientInfo,
        err: IdpError,
    ) -> Result<EnrollmentError, EnrollmentError> {
        let mut conn = self.db.acquire().await?;
        enrollments::refund_attempt(&mut conn, id).await?;
        let detail = format!("{err}; the enrollment stays open");
        let event = enrollment_event(
            recovery,
            client,
            Outcome::Retryable,
            Action::EnrollmentFailed,
            detail,
        );
        audit::append(&mut conn, event).await?;
        Ok(EnrollmentError::IdentityProviderUnavailable(err))
    }

    /// Verifies a code from the new authenticator and makes it the user's TOTP factor: Cognito
    /// checks the code, the MFA_SETUP challenge is completed (required pools), TOTP is enabled
    /// and preferred, every session is signed out, and the result is read back.
    #[tracing::instrument(skip_all)]
    pub async fn verify_enrollment(
        &self,
        verification: EnrollmentVerification,
    ) -> Result<Enrolled, EnrollmentError> {
        let client = &verification.client;

        // 1. The open enrollment, its attempt counted before anything is compared (an
        // enrollment still waiting for the sign-in's code has no authenticator to verify).
        let Attempt {
            row,
            recovery,
            sealed,
            attempts,
        } = self.attempt(&verification.token, client, false).await?;
        let event = |outcome: Outcome, action: Action, detail: String| {
            enrollment_event(&recovery, client, outcome, action, detail)
        };
        let unavailable = |err: IdpError| self.provider_unavailable(row.id, &recovery, client, err);

        // 2. Cognito checks the code (once: a retry after an outage skips what is done).
        let account = recovery.account();
        let mut state = sealed.state();
        if !sealed.verified {
            match self
                .idp
                .check_enrollment_code(&state, verification.code.as_str())
                .await
            {
                Ok(TotpCheck::Verified(next)) => {
                    state = next;
                    let resealed = Sealed::new(&state, &sealed.secret_code, true)
                        .seal(&verification.token, row.id);
                    enrollments::reseal(&mut *self.db.acquire().await?, row.id, &resealed).await?;
                }
                Ok(TotpCheck::Mismatch) => {
                    let what = "wrong code from the new authenticator";
                    self.wrong_code(row.id, attempts, &recovery, client, what)
                        .await?;
                    return Err(EnrollmentError::InvalidTotp);
                }
                Err(err) => return Err(unavailable(err).await?),
            }
        }

        // 3. The factor becomes the user's (the sign-in completes), and it is read back.
        let finish = match self.idp.finish_enrollment(account, &state).await {
            Ok(finish) => finish,
            Err(err) => return Err(unavailable(err).await?),
        };
        let enrolled = finish
            .user
            .as_ref()
            .is_some_and(|u| u.totp_enabled && u.totp_preferred);
        if !enrolled {
            let mut tx = self.db.begin().await?;
            enrollments::finish(&mut tx, self.now(), row.id, EnrollmentEnd::NotApplied).await?;
            let why = format!(
                "after verification, {} is not the preferred factor",
                MfaFactor::Totp.name()
            );
            audit::append(
                &mut tx,
                event(Outcome::Failed, Action::EnrollmentFailed, why.clone()),
            )
            .await?;
            tx.commit().await?;
            tracing::error!(reason = %why, "the new authenticator was not applied");
            if let Err(err) = self.idp.revoke_sessions(account).await {
                crate::telemetry::log_unexpected("signing out after a failed enrollment", &err);
            }
            return Err(EnrollmentError::NotApplied(why));
        }

        // 4. The user's passkeys, listed with their own sign-in: one may live on the lost phone,
        // and no admin API removes it. With none, the sign-in ends now; with some, it is kept
        // (sealed) while the user chooses, and a job ends it when the time runs out.
        let (passkeys, listed) = match self.idp.list_passkeys(&finish.signed_in).await {
            Ok(passkeys) => {
                let listed = match passkeys.len() {
                    0 => "no passkey".to_owned(),
                    n => format!("{n} passkey(s) listed for the user to keep or remove"),
                };
                (passkeys, listed)
            }
            Err(err) => {
                tracing::warn!(reason = %err, "the user's passkeys could not be listed");
                (Vec::new(), format!("passkeys not listed ({err})"))
            }
        };
        let until = if passkeys.is_empty() {
            self.now()
        } else {
            self.now() + self.enrollment_ttl()
        };
        let step = (!passkeys.is_empty()).then(|| PasskeyStep {
            listed: passkeys.clone(),
            removed: Vec::new(),
        });
        let mut tx = self.db.begin().await?;
        let resealed = Sealed::enrolled(&finish.signed_in).seal(&verification.token, row.id);
        let step = step.map(|s| s.to_json());
        enrollments::mark_enrolled(&mut tx, self.now(), row.id, &resealed, until, step.as_ref())
            .await?;
        let detail = format!(
            "new authenticator verified; read back: {} preferred; {listed}",
            MfaFactor::Totp.name()
        );
        audit::append(&mut tx, event(Outcome::Success, Action::Enrolled, detail)).await?;
        // Whatever happens to this process, the sign-in ends by `until`.
        crate::store::jobs::enqueue(
            &mut tx,
            EndEnrollment::KIND,
            Some(recovery.id),
            serde_json::Value::Null,
            until,
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("mfa_enrollments_total", "outcome" => "enrolled").increment(1);
        tracing::info!("new authenticator enrolled and read back");
        if passkeys.is_empty() {
            if let Err(err) = self.end_enrollment_now(&recovery, client).await {
                // The job queued above signs the user out when the provider is back.
                tracing::warn!(reason = %err, "signing out after the enrollment is left to its job");
            }
            return Ok(Enrolled {
                passkeys,
                until: None,
            });
        }
        Ok(Enrolled {
            passkeys,
            until: Some(until),
        })
    }

    fn enrollment_ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.rules.enrollment_ttl).unwrap_or(chrono::Duration::MAX)
    }

    /// The user's passkeys, listed with their own sign-in, while their enrollment keeps it.
    #[tracing::instrument(skip_all)]
    pub async fn passkeys(
        &self,
        token: &SecretString,
        client: &ClientInfo,
    ) -> Result<Enrolled, EnrollmentError> {
        let (row, _, sealed) = self.signed_in(token, client).await?;
        let passkeys = self
            .idp
            .list_passkeys(&sealed.state())
            .await
            .map_err(EnrollmentError::IdentityProviderUnavailable)?;
        Ok(Enrolled {
            passkeys,
            until: Some(row.expires_at),
        })
    }

    /// Removes one of the user's passkeys with their own sign-in (one that lived on the lost
    /// phone, say), reads the list back and audits it (`passkeys.removed`, with the count left).
    #[tracing::instrument(skip_all)]
    pub async fn remove_passkey(
        &self,
        removal: PasskeyRemoval,
    ) -> Result<Enrolled, EnrollmentError> {
        let client = &removal.client;
        let (row, recovery, sealed) = self.signed_in(&removal.token, client).await?;
        let signed_in = sealed.state();
        let unavailable = EnrollmentError::IdentityProviderUnavailable;
        let before = self
            .idp
            .list_passkeys(&signed_in)
            .await
            .map_err(unavailable)?;
        let Some(passkey) = before.iter().find(|p| p.id == removal.id).cloned() else {
            return Err(EnrollmentError::PasskeyNotFound);
        };
        self.idp
            .delete_passkey(&signed_in, &passkey.id)
            .await
            .map_err(unavailable)?;
        let after = self
            .idp
            .list_passkeys(&signed_in)
            .await
            .map_err(unavailable)?;
        let gone = !after.iter().any(|p| p.id == passkey.id);
        let mut tx = self.db.begin().await?;
        let mut step = enrollments::lock_enrolled(&mut tx, recovery.id)
            .await?
            .and_then(|e| e.passkey_step)
            .map(PasskeyStep::from_json)
            .unwrap_or_default();
        step.listed.clone_from(&after);
        if gone {
            step.removed.push(passkey.clone());
        }
        enrollments::record_passkeys(&mut tx, row.id, &step.to_json()).await?;
        let (outcome, detail) = if gone {
            (
                Outcome::Success,
                format!(
                    "passkey \"{}\" (created {}) removed by the user; read back: {} removed, {} left",
                    passkey.name,
                    passkey.created_at.to_rfc3339(),
                    step.removed.len(),
                    after.len()
                ),
            )
        } else {
            (
                Outcome::Failed,
                format!(
                    "passkey \"{}\" still listed after its deletion; {} left",
                    passkey.name,
                    after.len()
                ),
            )
        };
        let event = enrollment_event(&recovery, client, outcome, Action::PasskeysRemoved, detail);
        audit::append(&mut tx, event).await?;
        tx.commit().await?;
        if !gone {
            return Err(EnrollmentError::PasskeyNotRemoved);
        }
        Ok(Enrolled {
            passkeys: after,
            until: Some(row.expires_at),
        })
    }

    /// The user is done with their passkeys: the sign-in ends (every session revoked) and the
    /// notice of the passkeys that remain is queued. Returns those that remain.
    #[tracing::instrument(skip_all)]
    pub async fn finish_passkeys(
        &self,
        token: &SecretString,
        client: &ClientInfo,
    ) -> Result<Vec<Passkey>, EnrollmentError> {
        let (_, recovery, _) = self.signed_in(token, client).await?;
        self.end_enrollment_now(&recovery, client).await
    }

    /// Ends the enrollment for the user, in a transaction of its own.
    async fn end_enrollment_now(
        &self,
        recovery: &RecoveryRow,
        client: &ClientInfo,
    ) -> Result<Vec<Passkey>, EnrollmentError> {
        let mut tx = self.db.begin().await?;
        let ended = self.end_enrollment(&mut tx, recovery, Some(client)).await?;
        tx.commit().await?;
        Ok(match ended {
            Ended::SignedOut(left) => left,
            Ended::Nothing | Ended::NotYet(_) => Vec::new(),
        })
    }

    /// The job of an enrollment whose time ran out: it ends (see `end_enrollment`), unless the
    /// user finished first.
    pub(super) async fn end_enrollment_when_due(
        &self,
        conn: &mut PgConnection,
        recovery_id: Uuid,
    ) -> Result<(), JobError> {
        let Some(recovery) = recoveries::get(conn, recovery_id).await? else {
            return Ok(());
        };
        match self.end_enrollment(conn, &recovery, None).await {
            Ok(Ended::NotYet(until)) => Err(JobError::NotYet {
                until,
                why: "the user still has time for their passkeys",
            }),
            Ok(Ended::Nothing | Ended::SignedOut(_)) => Ok(()),
            Err(EnrollmentError::Store(err)) => Err(err.into()),
            Err(err) => Err(JobError::transient(
                "signing the user out at the end of the enrollment",
                err,
            )),
        }
    }

    /// The open enrollment of `token` whose authenticator is the user's, with the user's
    /// sign-in.
    async fn signed_in(
        &self,
        token: &SecretString,
        client: &ClientInfo,
    ) -> Result<(enrollments::EnrollmentRow, RecoveryRow, Sealed), EnrollmentError> {
        self.limits.limit_client("enrollment", client).await?;
        let mut tx = self.db.begin().await?;
        let found = self.open_at(&mut tx, token, |s| s.enrolled).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// The open enrollment of `token` (row-locked in `tx`), its recovery and what is sealed
    /// with it, when it is at a step `at` accepts.
    async fn open_at(
        &self,
        tx: &mut PgConnection,
        token: &SecretString,
        at: impl Fn(&Sealed) -> bool,
    ) -> Result<(enrollments::EnrollmentRow, RecoveryRow, Sealed), EnrollmentError> {
        let Some(row) = enrollments::lock_open(tx, self.now(), &token_digest(token)).await? else {
            return Err(EnrollmentError::Invalid);
        };
        let recovery = recoveries::get(tx, row.recovery_id)
            .await?
            .ok_or(EnrollmentError::Invalid)?;
        let sealed = Sealed::open(token, row.id, &row.sealed)
            .filter(at)
            .ok_or(EnrollmentError::Invalid)?;
        Ok((row, recovery, sealed))
    }

    /// Ends the recovery's enrollment that still holds the user's sign-in: every session is
    /// revoked (audited), the enrollment closes, and when the user had passkeys the notice
    /// naming those that remain is queued. `client`: the user finishing, or `None` when the
    /// time ran out (not before).
    async fn end_enrollment(
        &self,
        tx: &mut PgConnection,
        recovery: &RecoveryRow,
        client: Option<&ClientInfo>,
    ) -> Result<Ended, EnrollmentError> {
        let Some(open) = enrollments::lock_enrolled(tx, recovery.id).await? else {
            return Ok(Ended::Nothing);
        };
        if client.is_none() && open.expires_at > self.now() {
            return Ok(Ended::NotYet(open.expires_at));
        }
        self.idp
            .revoke_sessions(recovery.account())
            .await
            .map_err(EnrollmentError::IdentityProviderUnavailable)?;
        enrollments::finish(tx, self.now(), open.id, EnrollmentEnd::Enrolled).await?;
        let step = open.passkey_step.map(PasskeyStep::from_json);
        let why = match (client, &step) {
            (_, None) => "the new authenticator is set up",
            (Some(_), Some(_)) => "the user finished with their passkeys",
            (None, Some(_)) => "the time to see to the passkeys ran out",
        };
        let left = step.as_ref().map(|s| s.listed.clone()).unwrap_or_default();
        let detail = match &step {
            Some(s) => format!(
                "{why}; signed out everywhere; passkeys removed: {}, left: {}",
                s.removed.len(),
                s.listed.len()
            ),
            None => format!("{why}; signed out everywhere"),
        };
        let actor = client.map_or(Actor::System, |_| Actor::User);
        let event = AuditEvent::new(Action::SessionsRevoked, &actor, Outcome::Success)
            .username(&recovery.username)
            .recovery(recovery.id)
            .detail(detail);
        let event = match client {
            Some(client) => event.client(client),
            None => event,
        };
        audit::append(tx, event).await?;
        if step.is_some() {
            crate::store::jobs::enqueue(
                tx,
                PasskeysNotice::KIND,
                Some(recovery.id),
                serde_json::Value::Null,
                self.now(),
            )
            .await?;
        }
        Ok(Ended::SignedOut(left))
    }
}

/// What ending an enrollment did.
enum Ended {
    /// No enrollment holds the user's sign-in (the user finished first).
    Nothing,
    /// Its time has not run out: the job comes back then.
    NotYet(DateTime<Utc>),
    /// Signed out; the passkeys left, as last read back.
    SignedOut(Vec<Passkey>),
}

/// The new authenticator is the user's; the passkeys their sign-in lists, kept or removed by
/// the user until `until` (`None`: there were none, and the sign-in already ended).
pub struct Enrolled {
    pub passkeys: Vec<Passkey>,
    pub until: Option<DateTime<Utc>>,
}

/// The passkeys of an enrollment's last step, as stored with it (JSON): as last read back, and
/// those the user removed. Names, ids and dates: no secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct PasskeyStep {
    pub listed: Vec<Passkey>,
    pub removed: Vec<Passkey>,
}

impl PasskeyStep {
    pub(super) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("names, ids and dates serialise")
    }

    /// The step as stored; an unreadable one (never written so) reads as empty.
    pub(super) fn from_json(stored: serde_json::Value) -> Self {
        serde_json::from_value(stored).unwrap_or_default()
    }
}

/// A passkey the user removes, by its id, with the enrollment token.
pub struct PasskeyRemoval {
    pub token: SecretString,
    pub id: String,
    pub client: ClientInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enrollment_sealed_by_an_earlier_release_still_opens() {
        let token = SecretString::from("token");
        let id = Uuid::new_v4();
        let earlier = serde_json::json!({
            "kind": "session", "credential": "abc", "secret_code": "S", "verified": true
        });
        let sealed = seal(
            &token,
            id.as_bytes(),
            &serde_json::to_vec(&earlier).unwrap(),
        );
        let opened = Sealed::open(&token, id, &sealed).expect("opens");
        assert_eq!(opened.state, "session:abc");
        assert!(opened.verified);

        let current = Sealed::new(&EnrollmentState::from_sealed("x:y".into()), "S", false);
        let reopened = Sealed::open(&token, id, &current.seal(&token, id)).expect("opens");
        assert_eq!((reopened.state.as_str(), reopened.verified), ("x:y", false));
    }
}
