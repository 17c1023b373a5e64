//! The audit log, staff keys and the CLI, as auditors and operators use them.

use super::*;

impl TestApp {
    /// A new database role holding exactly the documented grants (config/service-role-grants.sql)
    /// on this test's database, as an operator would create it; its DATABASE_URL.
    pub async fn documented_role(&self) -> String {
        let role = format!("svc_{}", uuid::Uuid::new_v4().simple());
        let grants = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/service-role-grants.sql"
        ))
        .unwrap();
        sqlx::query(&format!("CREATE ROLE {role} LOGIN"))
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::raw_sql(&grants.replace("mfa_recovery", &role))
            .execute(&self.db)
            .await
            .unwrap();
        self.db_url.replacen("postgres@", &format!("{role}@"), 1)
    }

    /// (action, outcome) of every audit event about `username`, in order.
    /// The events about a name: under it, or under its redacted form (how the service records
    /// a name until it proves to be a user's).
    /// Chains every recorded audit event now (the service's sequencer does it within
    /// `AUDIT_CHAIN_INTERVAL_MS`): for tests that read `audit_events` right after an action.
    pub async fn chained(&self) {
        mfa_recovery::audit::chain_all_pending(&self.db)
            .await
            .expect("audit events chained");
    }

    pub async fn audit_trail(&self, username: &str) -> Vec<(String, String)> {
        self.chained().await;
        sqlx::query_as(
            "SELECT action, outcome FROM audit_events WHERE username = $1 OR username = $2
             ORDER BY seq",
        )
        .bind(username)
        .bind(self.redacted(username))
        .fetch_all(&self.db)
        .await
        .unwrap()
    }

    /// The `(outcome, detail)` of each chained event of `action` about `username`, oldest first.
    pub async fn audit_details(&self, username: &str, action: &str) -> Vec<(String, String)> {
        self.chained().await;
        sqlx::query_as(
            "SELECT outcome, coalesce(detail, '') FROM audit_events
             WHERE action = $1 AND username = $2 ORDER BY seq",
        )
        .bind(action)
        .bind(username)
        .fetch_all(&self.db)
        .await
        .unwrap()
    }

    /// The detail of the one event of `action` about `username`.
    pub async fn audit_detail(&self, username: &str, action: &str) -> String {
        let events = self.audit_details(username, action).await;
        assert_eq!(events.len(), 1, "one {action} event: {events:?}");
        events.into_iter().next().unwrap().1
    }

    /// How the service records `name` while it is not known to be a user's.
    pub fn redacted(&self, name: &str) -> String {
        mfa_recovery::domain::NameKeys::new(&PEPPER.to_owned().into(), !self.case_insensitive)
            .redacted(&mfa_recovery::domain::Username::parse(name).unwrap())
    }

    /// A fresh staff key with `role`, made the way `mfa-recovery staff add` makes one.
    pub async fn staff_key(&self, name: &str, role: &str) -> String {
        use secrecy::ExposeSecret;
        let name = mfa_recovery::domain::StaffName::parse(name).unwrap();
        let made_by = mfa_recovery::domain::Provenance::parse("the test's setup", None).unwrap();
        let key = mfa_recovery::staff::add(&self.db, &name, role.parse().unwrap(), None, &made_by)
            .await
            .unwrap();
        key.expose_secret().to_owned()
    }

    /// Runs the real binary's command line against this app's database.
    /// The public key that checks this service's audit checkpoints.
    pub fn audit_public_key(&self) -> ed25519_dalek::VerifyingKey {
        mfa_recovery::settings::Settings::load_from(self.settings_env.clone())
            .expect("the test's settings load")
            .audit
            .signing_key
            .verifying_key()
    }

    /// Runs an administrative command of the binary on the test's database. Awaited, never
    /// blocked on: the service runs on this test's runtime, and a blocked runtime freezes its
    /// tasks wherever they are, a sequencer inside its transaction holding the chain's lock
    /// that `audit archive` then waits for, for ever (a CI run hung so for 80 minutes).
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        self.cli_as(None, args).await
    }

    /// `cli`, run by the operating-system account `user` (`USER`; no `SUDO_USER`).
    pub async fn cli_as(&self, user: Option<&str>, args: &[&str]) -> std::process::Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mfa-recovery"));
        command
            .args(args)
            .env("DATABASE_URL", &self.db_url)
            .env("RUST_LOG", "warn");
        if let Some(user) = user {
            command
                .env("USER", user)
                .env_remove("SUDO_USER")
                .env_remove("LOGNAME");
        }
        command.output().await.expect("the binary runs")
    }

    pub async fn get_with_key(&self, path: &str, key: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_with_key(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn actions(&self, username: &str) -> Vec<String> {
        self.audit_trail(username)
            .await
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }
}

/// A transaction on `db` holding the audit chain's advisory lock (as a stuck sequencer, or a
/// session keeping events out of the chain, would) until it is rolled back or dropped.
pub async fn hold_chain_lock(db: &sqlx::PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(7883095260043502697)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}
