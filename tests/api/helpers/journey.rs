//! The steps a person takes (requests, confirmations) and what reaches their inbox.

use super::*;

impl TestApp {
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.address))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn request_recovery(&self, username: &str) -> reqwest::Response {
        self.post_json("/v1/recovery", serde_json::json!({ "username": username }))
            .await
    }

    pub async fn confirm(&self, username: &str, code: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/recovery/confirm",
            serde_json::json!({ "username": username, "code": code, "password": password }),
        )
        .await
    }

    /// A request from the client address `ip` (needs `AppOptions::behind_proxy`).
    pub async fn request_recovery_from(&self, username: &str, ip: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/recovery", self.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "username": username }))
            .send()
            .await
            .expect("request sent")
    }

    /// A confirmation from the client address `ip` (needs `AppOptions::behind_proxy`).
    pub async fn confirm_from(
        &self,
        username: &str,
        code: &str,
        password: &str,
        ip: &str,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/recovery/confirm", self.address))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "username": username, "code": code, "password": password }))
            .send()
            .await
            .expect("request sent")
    }

    /// Confirms with the right code and password and asserts the reset, showing the problem
    /// body when it did not happen.
    pub async fn confirm_ok(&self, username: &str, code: &str, password: &str) {
        let response = self.confirm(username, code, password).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "confirm answered {status}: {body}");
    }

    /// Every email SES accepted for `address`, oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<SentEmail> {
        let all: Vec<SentEmail> = self
            .emulator(reqwest::Method::GET, "ses/messages")
            .await
            .json()
            .await
            .expect("message list");
        all.into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Every text SNS accepted for `phone`, oldest first.
    pub async fn texts_to(&self, phone: &str) -> Vec<String> {
        let all: Vec<serde_json::Value> = self
            .emulator(reqwest::Method::GET, "sns/texts")
            .await
            .json()
            .await
            .expect("text list");
        all.into_iter()
            .filter(|t| t["phone"] == phone)
            .map(|t| t["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Runs due jobs until `address` has received `n` emails (up to 20 s, for jobs retried
    /// later); returns the n-th. Every job due by then has finished, so the code in the email
    /// is usable.
    pub async fn wait_for_email(&self, address: &str, n: usize) -> SentEmail {
        let what = format!("{address} receives {n} email(s)");
        eventually(&what, Duration::from_secs(20), || async {
            self.run_pending_jobs().await;
            let mut emails = self.emails_to(address).await;
            (emails.len() >= n).then(|| emails.swap_remove(n - 1))
        })
        .await
    }

    /// Requests a recovery and returns the code from the email it produces.
    /// The code emailed for a request from the client address `ip` (needs `behind_proxy`).
    pub async fn code_from(&self, user: &TestUser, ip: &str) -> String {
        self.run_pending_jobs().await;
        let before = self.emails_to(&user.email).await.len();
        let response = self.request_recovery_from(&user.username, ip).await;
        assert_eq!(response.status(), 202);
        self.wait_for_email(&user.email, before + 1).await.code()
    }

    pub async fn code_for(&self, user: &TestUser) -> String {
        // Notices still queued would otherwise be taken for the code's email.
        self.run_pending_jobs().await;
        let before = self.emails_to(&user.email).await.len();
        assert_eq!(self.request_recovery(&user.username).await.status(), 202);
        self.wait_for_email(&user.email, before + 1).await.code()
    }
}
