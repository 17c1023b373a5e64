use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_stops_answering_and_200_when_it_is_back() {
    let app = TestApp::spawn().await;
    let ready = || async {
        app.http
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ready().await, 200);

    // Take the service's database away: refuse new connections and end the open ones.
    let name = app.db_url.rsplit('/').next().unwrap().to_owned();
    let admin = sqlx::PgPool::connect(&app.env.admin_db_url).await.unwrap();
    sqlx::query(&format!(
        r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#
    ))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(ready().await, 503);

    sqlx::query(&format!(
        r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#
    ))
    .execute(&admin)
    .await
    .unwrap();
    assert_eq!(ready().await, 200);
}

#[tokio::test]
async fn metrics_are_served_on_the_internal_listener_only() {
    let app = TestApp::spawn().await;
    let get = |url: String| {
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(format!("{}/metrics", app.address)).await, 404);
    assert_eq!(get(format!("{}/metrics", app.admin_address)).await, 200);
    assert_eq!(get(format!("{}/healthz", app.admin_address)).await, 200);
    assert_eq!(get(format!("{}/readyz", app.admin_address)).await, 200);
    // Nothing but probes and metrics there.
    assert_eq!(get(format!("{}/recover", app.admin_address)).await, 404);
}
