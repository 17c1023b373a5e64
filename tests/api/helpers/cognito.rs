//! Users and their Cognito state, set up and read through the emulator.

use super::*;

impl TestApp {
    pub async fn create_user(&self) -> TestUser {
        self.create_user_with(UserOptions::default()).await
    }

    pub async fn create_user_with(&self, options: UserOptions) -> TestUser {
        let id = Uuid::new_v4().simple().to_string();
        let email = options
            .email
            .clone()
            .unwrap_or_else(|| format!("{}@example.com", &id[..16]));
        let mut user = TestUser {
            // In a pool that signs in with email, the email is what the user types.
            username: if let Some(name) = &options.username {
                name.clone()
            } else if self.email_as_username {
                email.clone()
            } else {
                format!("user-{}", &id[..12])
            },
            email,
            password: format!("Pw-{}!A1", &id[..20]),
            totp_secret: None,
        };
        let locale = options.locale.as_ref().map(|locale| {
            AttributeType::builder()
                .name("locale")
                .value(locale)
                .build()
                .unwrap()
        });
        self.cognito
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .set_user_attributes(locale.map(|l| vec![l]))
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&user.email)
                    .build()
                    .unwrap(),
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value(if options.email_verified {
                        "true"
                    } else {
                        "false"
                    })
                    .build()
                    .unwrap(),
            )
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("admin_create_user");
        self.cognito
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .password(&user.password)
            .permanent(true)
            .send()
            .await
            .expect("admin_set_user_password");
        if options.totp {
            user.totp_secret = Some(self.enrol_totp(&user).await);
        }
        user
    }

    /// Registers a TOTP authenticator the way an app does: sign in, associate a software token,
    /// verify it, and make it the preferred MFA. Returns the authenticator's secret.
    pub async fn enrol_totp(&self, user: &TestUser) -> String {
        let auth = self.admin_auth(user).await.expect("sign in to enrol");
        let (session, access_token) = match auth.authentication_result() {
            Some(tokens) => (None, tokens.access_token().map(str::to_owned)),
            None => (auth.session().map(str::to_owned), None),
        };
        let associated = self
            .cognito
            .associate_software_token()
            .set_session(session)
            .set_access_token(access_token.clone())
            .send()
            .await
            .expect("associate_software_token");
        let secret = associated
            .secret_code()
            .expect("a secret for the authenticator")
            .to_owned();
        self.cognito
            .verify_software_token()
            .set_session(associated.session().map(str::to_owned))
            .set_access_token(access_token)
            .user_code(totp_now(&secret))
            .friendly_device_name("phone")
            .send()
            .await
            .expect("verify_software_token");
        self.cognito
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await
            .expect("admin_set_user_mfa_preference");
        self.assert_totp_still_asked(user).await;
        secret
    }

    pub(super) async fn admin_auth(
        &self,
        user: &TestUser,
    ) -> Result<
        aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput,
        String,
    > {
        let mut request = self
            .cognito
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", &user.username)
            .auth_parameters("PASSWORD", &user.password);
        if let Some(secret) = &self.client_secret {
            request = request.auth_parameters(
                "SECRET_HASH",
                secret_hash(secret, &self.client_id, &user.username),
            );
        }
        request.send().await.map_err(|e| format!("{e:?}"))
    }

    /// A call to the emulator's test harness for this app's pool
    /// (`/_harness/cognito/{pool_id}/{path}`); panics unless it succeeds.
    pub(super) async fn harness(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.emulator(method, &format!("cognito/{}/{path}", self.pool_id))
            .await
    }

    /// The emulator's harness at `/_harness/{path}` (what it adds for tests: mail and texts
    /// sent, account states, faults).
    pub async fn emulator(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.http
            .request(method, format!("{}/_harness/{path}", self.env.aws_endpoint))
            .send()
            .await
            .expect("emulator answers")
            .error_for_status()
            .expect("the emulator's harness accepts it")
    }

    /// Makes AdminDeleteSoftwareToken unknown in this test's pool, as in a region without it.
    pub async fn without_delete_software_token(&self) {
        self.harness(reqwest::Method::POST, "without-delete-software-token")
            .await;
    }

    /// Gives the user `count` remembered devices in the emulator (as `count` phones and laptops
    /// that skip MFA would); returns the keys of all the user's devices.
    pub async fn remember_devices(&self, user: &TestUser, count: usize) -> Vec<String> {
        let path = format!("devices/{}?count={count}", user.username);
        self.harness(reqwest::Method::POST, &path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// Gives the user a verified phone number and SMS MFA (as a user who set up text-message
    /// codes on the phone they lost); returns the number.
    pub async fn enable_sms_mfa(&self, user: &TestUser) -> String {
        let phone = format!("+1555{:07}", rand::random::<u32>() % 10_000_000);
        self.cognito
            .admin_update_user_attributes()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .user_attributes(
                AttributeType::builder()
                    .name("phone_number")
                    .value(&phone)
                    .build()
                    .unwrap(),
            )
            .user_attributes(
                AttributeType::builder()
                    .name("phone_number_verified")
                    .value("true")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("admin_update_user_attributes");
        self.cognito
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .sms_mfa_settings(
                aws_sdk_cognitoidentityprovider::types::SmsMfaSettingsType::builder()
                    .enabled(true)
                    .build(),
            )
            .send()
            .await
            .expect("admin_set_user_mfa_preference (SMS)");
        phone
    }

    /// Turns on email MFA for the user (codes to their verified address), not preferred: as a
    /// user who has it beside their authenticator app.
    pub async fn enable_email_mfa(&self, user: &TestUser) {
        self.cognito
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .email_mfa_settings(
                aws_sdk_cognitoidentityprovider::types::EmailMfaSettingsType::builder()
                    .enabled(true)
                    .build(),
            )
            .send()
            .await
            .expect("admin_set_user_mfa_preference (email)");
    }

    /// The code Cognito last sent the user by text or email for a sign-in's MFA challenge, as
    /// they read it on their phone or in their mailbox: (challenge, code).
    pub async fn mfa_code_sent(&self, user: &TestUser) -> Option<(String, String)> {
        let path = format!("mfa-code/{}", user.username);
        let sent: Option<serde_json::Value> = self
            .harness(reqwest::Method::GET, &path)
            .await
            .json()
            .await
            .unwrap();
        sent.map(|s| {
            (
                s["challenge"].as_str().unwrap().to_owned(),
                s["code"].as_str().unwrap().to_owned(),
            )
        })
    }

    /// AdminGetUser's answer for the user.
    pub(super) async fn cognito_user(
        &self,
        user: &TestUser,
    ) -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput {
        self.cognito
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .send()
            .await
            .expect("admin_get_user")
    }

    /// The user's attribute `name` in Cognito, if set.
    pub async fn attribute(&self, user: &TestUser, name: &str) -> Option<String> {
        self.cognito_user(user)
            .await
            .user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value().map(str::to_owned))
    }

    /// Registers a passkey (WEB_AUTHN) for the user in the emulator.
    pub async fn register_passkey(&self, user: &TestUser) {
        self.register_passkey_named(user, "Passkey").await;
    }

    /// Registers a passkey named `name` for the user, as a phone or laptop would; its id.
    pub async fn register_passkey_named(&self, user: &TestUser, name: &str) -> String {
        let path = format!("passkeys/{}?name={name}", user.username);
        self.harness(reqwest::Method::POST, &path).await;
        let listed = self.passkeys(user).await;
        let last = listed.last().expect("registered");
        assert_eq!(last.1, name);
        last.0.clone()
    }

    /// The user's passkeys in the emulator: (id, name), oldest first.
    pub async fn passkeys(&self, user: &TestUser) -> Vec<(String, String)> {
        let path = format!("passkeys/{}", user.username);
        let listed: Vec<serde_json::Value> = self
            .harness(reqwest::Method::GET, &path)
            .await
            .json()
            .await
            .unwrap();
        listed
            .iter()
            .map(|p| {
                (
                    p["CredentialId"].as_str().unwrap().to_owned(),
                    p["FriendlyCredentialName"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// How many of the user's access tokens Cognito still honours (none once signed out
    /// everywhere).
    pub async fn live_tokens(&self, user: &TestUser) -> u64 {
        let path = format!("live-tokens/{}", user.username);
        self.harness(reqwest::Method::GET, &path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// The keys of the user's remembered devices in the emulator.
    pub async fn devices(&self, user: &TestUser) -> Vec<String> {
        let path = format!("devices/{}", user.username);
        self.harness(reqwest::Method::GET, &path)
            .await
            .json()
            .await
            .unwrap()
    }

    /// What the user meets when signing in with their password.
    pub async fn sign_in(&self, user: &TestUser) -> SignIn {
        let auth = self.admin_auth(user).await.expect("sign in");
        match auth.challenge_name() {
            Some(challenge) => SignIn::Challenge(challenge.as_str().to_owned()),
            None => SignIn::Tokens,
        }
    }

    /// Signs in with the password and answers the SOFTWARE_TOKEN_MFA challenge with the current
    /// code of an authenticator holding `secret`: whether Cognito let the user in.
    pub async fn sign_in_with_totp(&self, user: &TestUser, secret: &str) -> bool {
        let auth = self.admin_auth(user).await.expect("sign in");
        assert_eq!(
            auth.challenge_name().map(|c| c.as_str()),
            Some("SOFTWARE_TOKEN_MFA"),
            "the sign-in asks for a TOTP code"
        );
        let mut answer = self
            .cognito
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool_id)
            .client_id(&self.client_id)
            .challenge_name(
                aws_sdk_cognitoidentityprovider::types::ChallengeNameType::SoftwareTokenMfa,
            )
            .set_session(auth.session().map(str::to_owned))
            .challenge_responses("USERNAME", &user.username)
            .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_now(secret));
        if let Some(client_secret) = &self.client_secret {
            answer = answer.challenge_responses(
                "SECRET_HASH",
                secret_hash(client_secret, &self.client_id, &user.username),
            );
        }
        match answer.send().await {
            Ok(out) => out.authentication_result().is_some(),
            Err(_) => false,
        }
    }

    /// Sign-in still asks for the user's TOTP code: nothing was reset.
    pub async fn assert_totp_still_asked(&self, user: &TestUser) {
        assert_eq!(
            self.sign_in(user).await,
            SignIn::Challenge("SOFTWARE_TOKEN_MFA".into())
        );
    }

    /// What AdminGetUser lists as the user's MFA settings.
    pub async fn mfa_settings(&self, user: &TestUser) -> Vec<String> {
        self.cognito_user(user)
            .await
            .user_mfa_setting_list()
            .to_vec()
    }

    /// Disables the user in Cognito (AdminDisableUser).
    pub async fn disable_user(&self, user: &TestUser) {
        self.cognito
            .admin_disable_user()
            .user_pool_id(&self.pool_id)
            .username(&user.username)
            .send()
            .await
            .expect("admin_disable_user");
    }
}
