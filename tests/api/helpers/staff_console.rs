//! The staff console's tests: a client of the app's own registered at the test OpenID provider
//! (oidc-provider, started by scripts/services.sh), staff accounts there, and a browser-like
//! HTTP client that keeps cookies and follows redirects by hand through the sign-in.

use super::*;

/// Settings that turn the console on, on a listener of its own at a free loopback port, with a
/// client registered for its callback at the provider (allowed refresh tokens when `refresh`).
pub(super) async fn settings(issuer: &str, refresh: bool) -> Vec<(String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let registered: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/reg"))
        .json(&serde_json::json!({
            "redirect_uris": [format!("{base}/staff/callback")],
            "grant_types": if refresh {
                vec!["authorization_code", "refresh_token"]
            } else {
                vec!["authorization_code"]
            },
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }))
        .send()
        .await
        .expect("the OpenID provider answers (scripts/services.sh starts it)")
        .error_for_status()
        .expect("the client is registered")
        .json()
        .await
        .unwrap();
    [
        ("STAFF_BIND_ADDR", format!("127.0.0.1:{port}")),
        ("STAFF_BASE_URL", base),
        ("STAFF_OIDC_ISSUER", issuer.to_owned()),
        (
            "STAFF_OIDC_CLIENT_ID",
            registered["client_id"].as_str().unwrap().to_owned(),
        ),
        (
            "STAFF_OIDC_CLIENT_SECRET",
            registered["client_secret"].as_str().unwrap().to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A person at the company's provider.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub sub: String,
    pub email: String,
}

/// A browser for the console: keeps cookies (the service's and the provider's), follows no
/// redirect on its own.
pub struct StaffBrowser {
    pub http: reqwest::Client,
    /// The console's address.
    pub base: String,
}

impl TestApp {
    /// A new person at the test provider, in `groups`, whose sign-in records `amr`.
    pub async fn staff_account(&self, groups: &[&str], amr: &[&str]) -> StaffAccount {
        let sub = format!("staff-{}", uuid::Uuid::new_v4().simple());
        let email = format!("{sub}+desk@corp.example");
        self.put_staff_account(&sub, &email, groups, amr).await;
        StaffAccount { sub, email }
    }

    /// A person in `groups`, signed in with a second factor: their browser, the console's
    /// CSRF token and their email (their name in the log).
    pub async fn signed_in_staff(&self, groups: &[&str]) -> (StaffBrowser, String, String) {
        let person = self.staff_account(groups, &["pwd", "otp"]).await;
        let browser = self.staff_browser();
        let page = browser.sign_in(&person).await;
        assert_eq!(page.status(), 200);
        let csrf = StaffBrowser::csrf(&page.text().await.unwrap());
        (browser, csrf, person.email)
    }

    /// Puts `account` in `groups` at the provider (or in none), as the company's administrator
    /// would.
    pub async fn set_staff_groups(&self, account: &StaffAccount, groups: &[&str]) {
        self.put_staff_account(&account.sub, &account.email, groups, &["pwd", "otp"])
            .await;
    }

    /// Removes `account` from the provider (a person who left the company).
    pub async fn remove_staff_account(&self, account: &StaffAccount) {
        reqwest::Client::new()
            .post(format!("{}/_harness/accounts/remove", self.env.oidc_issuer))
            .json(&serde_json::json!({ "sub": account.sub }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    async fn put_staff_account(&self, sub: &str, email: &str, groups: &[&str], amr: &[&str]) {
        reqwest::Client::new()
            .post(format!("{}/_harness/accounts", self.env.oidc_issuer))
            .json(&serde_json::json!({
                "sub": sub, "email": email, "name": "Zoë Desk",
                "groups": groups, "amr": amr,
            }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    pub fn staff_browser(&self) -> StaffBrowser {
        StaffBrowser::at(
            &self
                .staff_address
                .clone()
                .expect("AppOptions::staff_console"),
        )
    }
}

impl StaffBrowser {
    /// A browser for the console at `base`.
    pub fn at(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// Follows redirects from `response` (relative ones against `from`) to the first page.
    pub async fn follow(&self, mut response: reqwest::Response) -> reqwest::Response {
        for _ in 0..10 {
            if !response.status().is_redirection() {
                return response;
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let next = response.url().join(&location).unwrap();
            response = self.http.get(next).send().await.unwrap();
        }
        panic!("more than 10 redirects");
    }

    /// `GET path` in the console, its redirects not followed.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Opens `/staff`: the console, or (signed out) the provider's sign-in page.
    pub async fn open(&self) -> reqwest::Response {
        let response = self.get("/staff").await;
        self.follow(response).await
    }

    /// Signs `account` in at the provider, from `/staff`; the page it ends on.
    pub async fn sign_in(&self, account: &StaffAccount) -> reqwest::Response {
        let login = self.open().await;
        assert_eq!(login.status(), 200, "the provider's sign-in page");
        let action = login
            .url()
            .join(&format!("{}/login", login.url().path()))
            .unwrap();
        let response = self
            .http
            .post(action)
            .form(&[("login", account.sub.as_str())])
            .send()
            .await
            .unwrap();
        self.follow(response).await
    }

    /// The console page's CSRF token.
    pub fn csrf(html: &str) -> String {
        html.split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form with a CSRF token")
            .to_owned()
    }

    /// Posts `form` to the console's `path`, as the page's form does.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Searches the support desk for `query` (username or email); the user page.
    pub async fn find(&self, csrf: &str, query: &str) -> reqwest::Response {
        self.post("/staff/users", &[("csrf", csrf), ("username", query)])
            .await
    }

    pub async fn sign_out(&self, csrf: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/staff/sign-out", self.base))
            .form(&[("csrf", csrf)])
            .send()
            .await
            .unwrap()
    }
}
