//! Who may use the staff console, and their sessions: a person their company's OpenID Connect
//! provider signed in, with a second factor, in at least one of the console's groups. Sessions
//! live in PostgreSQL (idle and absolute limits, sign-out that ends them); every sign-in, refusal
//! and sign-out is audited with the person.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use super::sign_in::{Asserted, ProviderError, SignInFlow, StaffSignIn};
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::clock::Clock;
use crate::domain::{
    random_token, sealed, token_digest, Actor, Agent, ClientInfo, StaffName, StaffRole,
};
use crate::settings::{OidcSettings, StaffSettings};
use crate::store::staff_sessions::{self, NewStaffSession, StaffSessionRow};

/// RFC 8176 authentication methods that prove more than a password: several factors, or a
/// factor of possession or inherence.
const SECOND_FACTORS: &[&str] = &[
    "mfa", "mca", "otp", "hwk", "swk", "sc", "sms", "tel", "fpt", "face", "iris", "retina", "vbm",
];

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person {
    /// As the audit log and the console show them: their email, else their preferred
    /// username, else their name, else the provider's subject.
    pub name: StaffName,
    pub issuer: String,
    pub subject: String,
    /// Their email and username at the company's provider: the names under which they may
    /// themselves be a user of the pool.
    pub email: Option<String>,
    pub username: Option<String>,
    pub roles: Vec<StaffRole>,
    /// How they signed in (RFC 8176 `amr`).
    pub amr: Vec<String>,
    pub signed_in_at: DateTime<Utc>,
}

impl Person {
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.name.clone())
    }

    pub fn has(&self, role: StaffRole) -> bool {
        self.roles.contains(&role)
    }

    /// The person acting for the support desk in the session `token`: named in the audit log
    /// with the session (the first characters of its token's hash, which tell nothing of it).
    pub fn agent(&self, token: &SecretString) -> Agent {
        let session: String = token_digest(token).chars().take(12).collect();
        Agent {
            name: self.name.clone(),
            own_names: [self.email.clone(), self.username.clone()]
                .into_iter()
                .flatten()
                .chain(std::iter::once(self.name.to_string()))
                .collect(),
            via: format!(
                "console session {session} (subject {} at {})",
                self.subject, self.issuer
            ),
        }
    }
}

/// Why a verified sign-in does not open the console.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the sign-in shows no second factor (amr: {0})")]
    NoSecondFactor(String),
    #[error("the person is in none of the console's groups")]
    NoRole,
    #[error("the provider gave no usable name for the person")]
    NoName,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The callback does not match a sign-in this browser started (no such sign-in, another
    /// browser's, or started too long ago).
    #[error("the callback matches no sign-in this browser started")]
    Mismatch,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the sign-in was refused: {0}")]
    Refused(Refusal),
    #[error("the store failed")]
    Store(#[from] sqlx::Error),
}

/// The console's roles of a person in `groups` (the settings' group names, exactly).
fn roles_of(settings: &OidcSettings, groups: &[String]) -> Vec<StaffRole> {
    [
        (&settings.support_group, StaffRole::Support),
        (&settings.approver_group, StaffRole::Approver),
        (&settings.auditor_group, StaffRole::Auditor),
    ]
    .into_iter()
    .filter(|(group, _)| groups.iter().any(|g| g == *group))
    .map(|(_, role)| role)
    .collect()
}

/// The console's rule: who the verified sign-in `asserted` (at `now`) is, and what they may do.
pub fn admit(
    settings: &OidcSettings,
    asserted: &Asserted,
    now: DateTime<Utc>,
) -> Result<Person, Refusal> {
    if settings.require_mfa
        && !asserted
            .amr
            .iter()
            .any(|m| SECOND_FACTORS.contains(&m.as_str()))
    {
        return Err(Refusal::NoSecondFactor(asserted.amr.join(" ")));
    }
    let roles = roles_of(settings, &asserted.groups);
    if roles.is_empty() {
        return Err(Refusal::NoRole);
    }
    let name = [
        asserted.email.as_deref(),
        asserted.preferred_username.as_deref(),
        asserted.name.as_deref(),
        Some(asserted.subject.as_str()),
    ]
    .into_iter()
    .flatten()
    .find_map(|n| StaffName::parse(n).ok())
    .ok_or(Refusal::NoName)?;
    Ok(Person {
        name,
        issuer: asserted.issuer.clone(),
        subject: asserted.subject.clone(),
        email: asserted.email.clone(),
        username: asserted.preferred_username.clone(),
        roles,
        amr: asserted.amr.clone(),
        signed_in_at: now,
    })
}

/// The staff console's use cases: sign-in, the session of a request, sign-out.
pub struct Console {
    db: PgPool,
    sign_in: Arc<dyn StaffSignIn>,
    oidc: OidcSettings,
    settings: StaffSettings,
    clock: Arc<dyn Clock>,
}

impl Console {
    /// The console, signing staff in through `sign_in` (the provider `oidc` describes).
    pub fn new(
        db: PgPool,
        settings: &StaffSettings,
        oidc: OidcSettings,
        sign_in: Arc<dyn StaffSignIn>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            db,
            sign_in,
            oidc,
            settings: settings.clone(),
            clock,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// How long a session lasts at most (its cookie's lifetime).
    pub fn session_lifetime(&self) -> std::time::Duration {
        self.settings.session_lifetime
    }

    /// Where to send the browser to sign in, and what its callback must match.
    pub async fn begin_sign_in(&self) -> Result<(String, SignInFlow), ProviderError> {
        self.sign_in.begin().await
    }

    /// The provider sent the browser back with `code`: the person is verified and admitted, and
    /// a new session begins; returns its token (for the cookie) and the person.
    pub async fn finish_sign_in(
        &self,
        flow: SignInFlow,
        code: SecretString,
        client: &ClientInfo,
    ) -> Result<(SecretString, Person), SignInError> {
        let answer = self.sign_in.finish(flow, code).await?;
        let asserted = &answer.asserted;
        let person = match admit(&self.oidc, asserted, self.now()) {
            Ok(person) => person,
            Err(refusal) => {
                let mut tx = self.db.begin().await?;
                let who = StaffName::parse(&asserted.subject).map_or(Actor::System, Actor::Staff);
                audit::append(
                    &mut tx,
                    AuditEvent::new(Action::StaffSignInRefused, &who, Outcome::Rejected)
                        .client(client)
                        .detail(format!("{refusal} (issuer {})", asserted.issuer)),
                )
                .await?;
                tx.commit().await?;
                return Err(SignInError::Refused(refusal));
            }
        };
        let token = random_token();
        let token_hash = token_digest(&token);
        let roles = role_names(&person.roles);
        // With a refresh token, the roles are read again at every request; without one, they
        // are relied on until the ID token expires.
        let (refresh_sealed, roles_until) = match &answer.refresh_token {
            Some(refresh) => (Some(seal_refresh(&token, &token_hash, refresh)), None),
            None => (None, Some(answer.expires_at)),
        };
        let mut tx = self.db.begin().await?;
        staff_sessions::create(
            &mut tx,
            self.now(),
            NewStaffSession {
                token_hash: &token_hash,
                issuer: &person.issuer,
                subject: &person.subject,
                display_name: person.name.as_str(),
                email: person.email.as_deref(),
                username: person.username.as_deref(),
                roles: roles.clone(),
                amr: &person.amr,
                refresh_sealed,
                roles_until,
            },
        )
        .await?;
        audit::append(
            &mut tx,
            AuditEvent::new(Action::StaffSignedIn, &person.actor(), Outcome::Success)
                .client(client)
                .detail(format!(
                    "signed in to the console through {} as {} (subject {}), roles {}, amr {}; {}",
                    person.issuer,
                    person.name,
                    person.subject,
                    roles.join(" "),
                    person.amr.join(" "),
                    match roles_until {
                        None => "roles read again at each request".to_owned(),
                        Some(until) => format!(
                            "no refresh token: roles held until the ID token expires at {}",
                            until.to_rfc3339()
                        ),
                    }
                )),
        )
        .await?;
        tx.commit().await?;
        Ok((token, person))
    }

    /// The person whose session `token` is, while it lasts (each request keeps it alive), with
    /// the roles their provider gives them now: their groups are read again with the refresh
    /// token of their sign-in, so that a person who lost a role has lost it at this request,
    /// and a person who lost every role, or whom the provider no longer renews (disabled,
    /// removed), is signed out (audited). A provider that gave no refresh token is relied on
    /// until the sign-in's ID token expires. The provider unreachable: an error, nothing allowed.
    pub async fn session(&self, token: &SecretString) -> Result<Option<Person>, SignInError> {
        let now = self.now();
        let token_hash = token_digest(token);
        let mut tx = self.db.begin().await?;
        let Some(mut row) = staff_sessions::touch(
            &mut tx,
            now,
            &token_hash,
            seconds(self.settings.session_idle),
            seconds(self.settings.session_lifetime),
        )
        .await?
        else {
            return Ok(None);
        };
        let (roles_until, refresh_sealed) = (row.roles_until, row.refresh_sealed.take());
        let Some(mut person) = person_of(row) else {
            return Ok(None);
        };
        let renewed = match &refresh_sealed {
            Some(sealed) => self.ask_again(token, &token_hash, sealed, &person).await?,
            None if roles_until.is_some_and(|until| until > now) => Renewed::Kept,
            None => Renewed::Ended(format!(
                "{} gave no refresh token: the roles of the sign-in held until its ID token expired",
                person.issuer
            )),
        };
        match renewed {
            Renewed::Kept => {}
            Renewed::Roles(roles, refresh_sealed) => {
                let names = role_names(&roles);
                staff_sessions::renew(&mut tx, &token_hash, names.clone(), refresh_sealed).await?;
                if roles != person.roles {
                    audit::append(
                        &mut tx,
                        AuditEvent::new(
                            Action::StaffRolesChanged,
                            &person.actor(),
                            Outcome::Success,
                        )
                        .detail(format!(
                            "roles read again from {} (subject {}): {} → {}",
                            person.issuer,
                            person.subject,
                            role_names(&person.roles).join(" "),
                            names.join(" ")
                        )),
                    )
                    .await?;
                    person.roles = roles;
                }
            }
            Renewed::Ended(why) => {
                staff_sessions::end(&mut tx, now, &token_hash).await?;
                audit::append(
                    &mut tx,
                    AuditEvent::new(Action::StaffSessionEnded, &person.actor(), Outcome::Success)
                        .detail(format!(
                            "console session of subject {} ended: {why}",
                            person.subject
                        )),
                )
                .await?;
                tx.commit().await?;
                return Ok(None);
            }
        }
        tx.commit().await?;
        Ok(Some(person))
    }

    /// What the provider says about `person` now, asked with their sealed refresh token.
    async fn ask_again(
        &self,
        token: &SecretString,
        token_hash: &str,
        sealed: &[u8],
        person: &Person,
    ) -> Result<Renewed, ProviderError> {
        let Ok(refresh) = sealed::open(token, refresh_context(token_hash).as_bytes(), sealed)
            .map(|bytes| SecretString::from(String::from_utf8_lossy(&bytes).into_owned()))
        else {
            return Ok(Renewed::Ended("its refresh token does not open".to_owned()));
        };
        let answer = match self.sign_in.refresh(&refresh).await {
            Ok(answer) => answer,
            Err(ProviderError::Invalid(why)) => {
                return Ok(Renewed::Ended(format!(
                    "{} no longer renews the sign-in ({why})",
                    person.issuer
                )))
            }
            Err(unavailable) => return Err(unavailable),
        };
        if answer.asserted.issuer != person.issuer || answer.asserted.subject != person.subject {
            return Ok(Renewed::Ended(format!(
                "the renewed sign-in names another person (subject {} at {})",
                answer.asserted.subject, answer.asserted.issuer
            )));
        }
        let roles = roles_of(&self.oidc, &answer.asserted.groups);
        if roles.is_empty() {
            return Ok(Renewed::Ended(format!(
                "no longer in any of the console's groups at {}",
                person.issuer
            )));
        }
        let rotated = answer
            .refresh_token
            .map(|new| seal_refresh(token, token_hash, &new));
        Ok(Renewed::Roles(roles, rotated))
    }

    /// Ends the session `token` (audited); nothing when it had ended.
    pub async fn sign_out(
        &self,
        token: &SecretString,
        client: &ClientInfo,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.begin().await?;
        let ended = staff_sessions::end(&mut tx, self.now(), &token_digest(token)).await?;
        if let Some(person) = ended.and_then(person_of) {
            audit::append(
                &mut tx,
                AuditEvent::new(Action::StaffSignedOut, &person.actor(), Outcome::Success)
                    .client(client)
                    .detail(format!(
                        "signed out of the console (subject {})",
                        person.subject
                    )),
            )
            .await?;
        }
        tx.commit().await
    }

    /// The CSRF token of the console's forms for the session `token`: derived from it, so that
    /// only its holder can know it, and nothing more is stored.
    pub fn csrf(token: &SecretString) -> String {
        token_digest(&SecretString::from(format!(
            "staff console forms:{}",
            token.expose_secret()
        )))
    }

    /// Whether `csrf`, from a form, is the session `token`'s (compared in constant time).
    pub fn csrf_matches(token: &SecretString, csrf: &str) -> bool {
        use subtle::ConstantTimeEq;
        Self::csrf(token).as_bytes().ct_eq(csrf.as_bytes()).into()
    }
}

/// What reading a session's person again found.
enum Renewed {
    /// Nothing to read again (no refresh token; the ID token has not expired).
    Kept,
    /// Their roles now, and the provider's new refresh token (sealed) when it rotated it.
    Roles(Vec<StaffRole>, Option<Vec<u8>>),
    /// The session must end, for this reason.
    Ended(String),
}

/// What a sealed refresh token is bound to: its session.
fn refresh_context(token_hash: &str) -> String {
    format!("staff session {token_hash} refresh token")
}

/// The refresh token, sealed with the session's own token: the database alone cannot use it.
fn seal_refresh(token: &SecretString, token_hash: &str, refresh: &SecretString) -> Vec<u8> {
    sealed::seal(
        token,
        refresh_context(token_hash).as_bytes(),
        refresh.expose_secret().as_bytes(),
    )
}

fn role_names(roles: &[StaffRole]) -> Vec<String> {
    roles.iter().map(|r| r.to_string()).collect()
}

fn seconds(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn person_of(row: StaffSessionRow) -> Option<Person> {
    Some(Person {
        name: StaffName::parse(&row.display_name).ok()?,
        issuer: row.issuer,
        subject: row.subject,
        email: row.email,
        username: row.username,
        roles: row.roles.iter().filter_map(|r| r.parse().ok()).collect(),
        amr: row.amr,
        signed_in_at: row.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit_now(settings: &OidcSettings, asserted: &Asserted) -> Result<Person, Refusal> {
        admit(settings, asserted, Utc::now())
    }

    fn settings(require_mfa: bool) -> OidcSettings {
        OidcSettings {
            issuer: "https://id.example.com".into(),
            client_id: "console".into(),
            client_secret: None,
            redirect_url: "https://recovery.example.com/staff/callback".into(),
            roles_claim: "groups".into(),
            support_group: "desk".into(),
            approver_group: "approvers".into(),
            auditor_group: "audit".into(),
            require_mfa,
        }
    }

    fn asserted(amr: &[&str], groups: &[&str]) -> Asserted {
        Asserted {
            issuer: "https://id.example.com".into(),
            subject: "00u1".into(),
            email: Some("zoë+desk@example.com".into()),
            preferred_username: None,
            name: None,
            amr: amr.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn only_a_sign_in_with_a_second_factor_opens_the_console() {
        let s = settings(true);
        assert_eq!(
            admit_now(&s, &asserted(&["pwd"], &["desk"])).unwrap_err(),
            Refusal::NoSecondFactor("pwd".into())
        );
        assert!(matches!(
            admit_now(&s, &asserted(&[], &["desk"])),
            Err(Refusal::NoSecondFactor(_))
        ));
        for second in ["mfa", "otp", "hwk", "swk", "fpt"] {
            assert!(
                admit_now(&s, &asserted(&["pwd", second], &["desk"])).is_ok(),
                "{second}"
            );
        }
        assert!(admit_now(&settings(false), &asserted(&["pwd"], &["desk"])).is_ok());
    }

    #[test]
    fn roles_come_from_the_configured_groups_only() {
        let s = settings(true);
        let person = admit_now(&s, &asserted(&["mfa"], &["audit", "desk", "other"])).unwrap();
        assert_eq!(person.roles, [StaffRole::Support, StaffRole::Auditor]);
        assert_eq!(person.name.as_str(), "zoë+desk@example.com");
        assert_eq!(
            admit_now(&s, &asserted(&["mfa"], &["support", "auditors"])).unwrap_err(),
            Refusal::NoRole,
            "group names are the settings', not look-alikes"
        );
    }
}
