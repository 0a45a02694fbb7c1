//! TOTP two-factor sign-in over HTTP, on both engines. Codes are computed with `totp-rs` as the
//! reference implementation, from the `otpauth://` URI the server hands out (so the URI itself
//! is checked by a parser nobody here wrote).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kanri::domain::KeyKind;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, SignedIn, TestApp, expect_error, read, use_redis};

/// A signing key on every engine: the TOTP secrets are encrypted with it.
async fn spawn() -> TestApp {
    TestApp::spawn_with(with_key).await
}

fn with_key(c: &mut kanri::Config) {
    c.storage.signing_key = Some(kanri::config::Secret::new("k".repeat(48)));
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The user's authenticator app: the reference implementation on the enrolment's URI, and
/// the last step it gave a code for (the server accepts each step once, in order).
struct Authenticator {
    totp: totp_rs::Totp,
    last_step: Option<u64>,
}

impl Authenticator {
    fn from_enrollment(data: &Value) -> Self {
        let uri = data["otpauth_uri"].as_str().unwrap();
        let totp = totp_rs::Totp::from_url(uri).expect("a valid otpauth URI");
        assert_eq!(totp.secret().to_base32(), data["secret"].as_str().unwrap());
        assert_eq!(totp.issuer(), Some("Kanri"));
        assert_eq!(totp.digits(), 6);
        assert_eq!(totp.step(), 30);
        assert_eq!(totp.algorithm(), totp_rs::Algorithm::SHA1);
        Self {
            totp,
            last_step: None,
        }
    }

    /// A code for a step not used yet that the server accepts now (within one step of its
    /// clock), waiting for the next step when both near ones are used.
    async fn next_code(&mut self) -> String {
        loop {
            let now = unix_secs();
            let step = now / 30;
            let want = self.last_step.map_or(step, |last| (last + 1).max(step));
            if want <= step + 1 {
                self.last_step = Some(want);
                return self.totp.generate(want * 30).to_string();
            }
            let wait = 30 - now % 30;
            tokio::time::sleep(Duration::from_millis(wait * 1000 + 200)).await;
        }
    }

    /// A well-formed code that is no near step's code.
    fn wrong_code(&self) -> String {
        let step = unix_secs() / 30;
        let near: Vec<String> = (step.saturating_sub(2)..=step + 2)
            .map(|s| self.totp.generate(s * 30).to_string())
            .collect();
        (0..)
            .map(|n| format!("{:06}", (123_456 + n * 7919) % 1_000_000))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = app.request(Method::POST, path).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    read(req.send().await.unwrap()).await
}

/// Starts the enrolment and returns the app that computes its codes.
async fn start(app: &TestApp, user: &SignedIn) -> Authenticator {
    let (status, body) = post(
        app,
        "/v1/auth/two-factor/enrollment",
        Some(&user.token),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Authenticator::from_enrollment(&body["data"])
}

/// Enrols and confirms; returns the app and the recovery codes.
async fn enable(app: &TestApp, user: &SignedIn) -> (Authenticator, Vec<String>) {
    let mut authenticator = start(app, user).await;
    let code = authenticator.next_code().await;
    let (status, body) = post(
        app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&user.token),
        json!({"totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (authenticator, codes)
}

/// The password step: the challenge of a two-factor account.
async fn challenge(app: &TestApp, email: &str) -> String {
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    let body = expect_error(res, StatusCode::UNAUTHORIZED, "two_factor_required").await;
    assert!(body.get("data").is_none(), "no session: {body}");
    assert_eq!(body["details"]["methods"], json!(["totp", "recovery_code"]));
    body["details"]["challenge"].as_str().unwrap().to_string()
}

async fn second_step(app: &TestApp, body: Value) -> (StatusCode, Value) {
    post(app, "/v1/auth/login/two-factor", None, body).await
}

async fn status_of(app: &TestApp, token: &str) -> Value {
    let (status, body) = app
        .call(Method::GET, "/v1/auth/two-factor", token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn enrol_confirm_and_sign_in_with_a_code_that_cannot_be_replayed() {
    let app = spawn().await;
    let user = app.register("ann@example.com").await;
    let before = status_of(&app, &user.token).await;
    assert_eq!(before["enabled"], false);
    assert_eq!(before["pending"], false);

    let mut authenticator = start(&app, &user).await;
    assert_eq!(status_of(&app, &user.token).await["pending"], true);
    // Not active until confirmed: the password alone still signs in.
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // A wrong code does not confirm.
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&user.token),
        json!({"totp_code": authenticator.wrong_code()}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "totp_code");
    assert_eq!(status_of(&app, &user.token).await["enabled"], false);

    // The right one does, and hands out ten distinct recovery codes, once.
    let code = authenticator.next_code().await;
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&user.token),
        json!({"totp_code": spaced}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["enabled"], true);
    let codes: std::collections::BTreeSet<&str> = body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 10);
    let status = status_of(&app, &user.token).await;
    assert_eq!(
        (&status["enabled"], &status["pending"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(status["recovery_codes_remaining"], 10);
    assert!(status.get("secret").is_none());

    // Enrolling again while active is refused.
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment",
        Some(&user.token),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("two_factor_enabled"))
    );

    // A wrong password says nothing about two-factor.
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "ann@example.com", "password": "wrong-password-9"}),
        )
        .await;
    let body = expect_error(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert!(body.get("details").is_none(), "{body}");

    // The password alone gets a challenge, on v1 and on the seed's route alike.
    let first = challenge(&app, "ann@example.com").await;
    let res = app
        .post_json(
            "/auth/login",
            &json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "two_factor_required").await;

    // A wrong code is refused and the challenge stays usable.
    let (status, body) = second_step(
        &app,
        json!({"challenge": first, "totp_code": authenticator.wrong_code()}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_two_factor_code"))
    );

    let code = authenticator.next_code().await;
    let (status, body) = second_step(&app, json!({"challenge": first, "totp_code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["data"]["token"].as_str().unwrap();
    let (status, me) = app.me(token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["user"]["id"], user.user_id.as_str());

    // The same code again, on a fresh challenge: a replay.
    let second = challenge(&app, "ann@example.com").await;
    let (status, body) = second_step(&app, json!({"challenge": second, "totp_code": code})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_two_factor_code"))
    );
    // The used challenge is gone, whatever comes with it.
    let (status, body) = second_step(&app, json!({"challenge": first, "totp_code": code})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_challenge"))
    );
    let (status, body) = second_step(
        &app,
        json!({"challenge": "x".repeat(43), "totp_code": code}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_challenge"))
    );
}

#[tokio::test]
async fn concurrent_sign_ins_with_one_code_let_only_one_in() {
    let app = spawn().await;
    let user = app.register("race@example.com").await;
    let (mut authenticator, _) = enable(&app, &user).await;
    let mut challenges = Vec::new();
    for _ in 0..8 {
        challenges.push(challenge(&app, "race@example.com").await);
    }
    let code = authenticator.next_code().await;
    let answers = futures_util::future::join_all(
        challenges
            .iter()
            .map(|c| second_step(&app, json!({"challenge": c, "totp_code": code}))),
    )
    .await;
    let signed_in = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(signed_in, 1, "{answers:?}");
    // The rest are refused as a used code, or, past five failures counted at once, limited.
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        let code = body["code"].as_str();
        assert!(
            (*status, code) == (StatusCode::UNAUTHORIZED, Some("invalid_two_factor_code"))
                || (*status, code) == (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_recovery_code_works_once_and_disabling_needs_the_password_and_a_code() {
    let app = spawn().await;
    let user = app.register("rec@example.com").await;
    let (mut authenticator, codes) = enable(&app, &user).await;

    // Typed differently from how it was shown: case, spaces for dashes.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let c = challenge(&app, "rec@example.com").await;
    let (status, body) = second_step(&app, json!({"challenge": c, "recovery_code": typed})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        status_of(&app, &user.token).await["recovery_codes_remaining"],
        9
    );
    let c = challenge(&app, "rec@example.com").await;
    let (status, body) =
        second_step(&app, json!({"challenge": c, "recovery_code": codes[0]})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_two_factor_code"))
    );

    // Disabling: a wrong password with a right code, then the right password with a wrong code.
    let code = authenticator.next_code().await;
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/disable",
        Some(&user.token),
        json!({"password": "not-the-password", "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "password");
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/disable",
        Some(&user.token),
        json!({"password": PASSWORD, "totp_code": authenticator.wrong_code()}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "totp_code");
    assert_eq!(status_of(&app, &user.token).await["enabled"], true);
    // The code the wrong password came with was not used up.
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/disable",
        Some(&user.token),
        json!({"password": PASSWORD, "totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["enabled"], false);

    let status = status_of(&app, &user.token).await;
    assert_eq!(
        (&status["enabled"], &status["recovery_codes_remaining"]),
        (&json!(false), &json!(0))
    );
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "rec@example.com", "password": PASSWORD}),
        )
        .await;
    let (status, body) = read(res).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "no code needed after disabling: {body}"
    );
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/disable",
        Some(&user.token),
        json!({"password": PASSWORD, "recovery_code": codes[1]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("two_factor_not_enabled"))
    );
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn().await;
    let user = app.register("regen@example.com").await;
    let (_, old) = enable(&app, &user).await;
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/recovery-codes",
        Some(&user.token),
        json!({"recovery_code": old[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new: Vec<String> = body["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new.len(), 10);
    let c = challenge(&app, "regen@example.com").await;
    let (status, _) = second_step(&app, json!({"challenge": c, "recovery_code": old[1]})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old codes are void");
    let (status, body) = second_step(&app, json!({"challenge": c, "recovery_code": new[3]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_secret_is_encrypted_at_rest_and_never_shown_again() {
    let app = spawn().await;
    let user = app.register("vault@example.com").await;
    let (authenticator, codes) = enable(&app, &user).await;
    let secret = authenticator.totp.secret().to_base32();
    let raw_hex = hex::encode(authenticator.totp.secret().as_bytes());
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT user_id, tenant_id, secret_sealed FROM user_two_factor")
            .fetch_all(app.db.read())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    let stored = &rows[0].2;
    assert!(stored.starts_with("v1."), "{stored}");
    for plain in [secret.clone(), secret.to_lowercase(), raw_hex] {
        assert!(!stored.contains(&plain), "the secret is stored as {stored}");
    }
    let hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM two_factor_recovery_codes")
        .fetch_all(app.db.read())
        .await
        .unwrap();
    assert_eq!(hashes.len(), 10);
    for code in &codes {
        let bare = code.replace('-', "");
        assert!(hashes.iter().all(|h| !h.contains(&bare) && h.len() == 64));
    }
    let status = status_of(&app, &user.token).await.to_string();
    assert!(!status.contains(&secret), "{status}");
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_per_account() {
    let app = spawn().await;
    let user = app.register("guess@example.com").await;
    let (mut authenticator, _) = enable(&app, &user).await;
    let other = app.register("bystander@example.com").await;
    let (mut theirs, _) = enable(&app, &other).await;
    let c = challenge(&app, "guess@example.com").await;
    for _ in 0..5 {
        let (status, _) = second_step(
            &app,
            json!({"challenge": c, "totp_code": authenticator.wrong_code()}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right code waits.
    let code = authenticator.next_code().await;
    let res = app
        .post_json(
            "/v1/auth/login/two-factor",
            &json!({"challenge": c, "totp_code": code}),
        )
        .await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    expect_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Per account: someone else signs in as usual.
    let c = challenge(&app, "bystander@example.com").await;
    let code = theirs.next_code().await;
    let (status, body) = second_step(&app, json!({"challenge": c, "totp_code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_code_limit_is_shared_through_redis() {
    let Ok(url) = std::env::var("KANRI_TEST_REDIS_URL") else {
        return;
    };
    let a = TestApp::spawn_with(|c| {
        with_key(c);
        use_redis(c, &url);
    })
    .await;
    if a.config.database.engine != kanri::config::Engine::Postgres {
        // Two instances need one database: Postgres.
        return;
    }
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let user = a.register("shared@example.com").await;
    let (authenticator, _) = enable(&a, &user).await;
    let c = challenge(&a, "shared@example.com").await;
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, _) = second_step(
            app,
            json!({"challenge": c, "totp_code": authenticator.wrong_code()}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    for app in [&a, &b] {
        let (status, _) = second_step(
            app,
            json!({"challenge": c, "totp_code": authenticator.wrong_code()}),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    b.stop().await;
}

#[tokio::test]
async fn another_users_session_cannot_confirm_or_disable_yours() {
    let app = spawn().await;
    let ann = app.register("owner@example.com").await;
    let bob = app.register("intruder@example.com").await;
    let mut anns = start(&app, &ann).await;
    let code = anns.next_code().await;
    // Bob's session acts on Bob's account only: he has nothing pending.
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&bob.token),
        json!({"totp_code": code}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_pending_enrollment"))
    );
    assert_eq!(status_of(&app, &ann.token).await["pending"], true);
    // Ann's code still confirms hers.
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&ann.token),
        json!({"totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = anns.next_code().await;
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/disable",
        Some(&bob.token),
        json!({"password": PASSWORD, "totp_code": code}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("two_factor_not_enabled"))
    );
    // Bob's own enrolment does not take Ann's codes.
    start(&app, &bob).await;
    let (status, _) = post(
        &app,
        "/v1/auth/two-factor/enrollment/confirm",
        Some(&bob.token),
        json!({"totp_code": code}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(status_of(&app, &ann.token).await["enabled"], true);
    // Without a session, nothing.
    let res = app
        .post_json(
            "/v1/auth/two-factor/disable",
            &json!({"password": PASSWORD, "totp_code": code}),
        )
        .await;
    expect_error(res, StatusCode::UNAUTHORIZED, "missing_auth").await;
}

#[tokio::test]
async fn input_is_strict() {
    let app = spawn().await;
    let user = app.register("strict@example.com").await;
    let path = "/v1/auth/two-factor/enrollment/confirm";
    let (status, body) = post(
        &app,
        path,
        Some(&user.token),
        json!({"totp_code": "123456", "remember": true}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed")),
        "{body}"
    );
    let (status, body) = post(&app, path, Some(&user.token), json!({"totp_code": 123456})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
        "{body}"
    );
    let res = app
        .as_user(Method::POST, path, &user.token)
        .header("content-type", "application/json")
        .body("{\"totp_code\": ")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "invalid_json").await;
    // The second step takes exactly one of the two codes.
    for body in [
        json!({"challenge": "x".repeat(43)}),
        json!({"challenge": "x".repeat(43), "totp_code": "123456", "recovery_code": "aaaa-bbbb-cccc-dddd"}),
    ] {
        let (status, answer) = second_step(&app, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    let (status, _) = second_step(
        &app,
        json!({"challenge": "c", "totp_code": "1", "extra": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_operator_can_reset_a_locked_out_user() {
    let app = spawn().await;
    let user = app.register("lost@example.com").await;
    enable(&app, &user).await;
    let (_, key) = kanri::services::tenants::create_key(&app.cx, "default", KeyKind::Secret, "ops")
        .await
        .unwrap();
    let path = format!("/v1/admin/users/{}/two-factor", user.user_id);
    let (status, _) = app.call(Method::DELETE, &path, &user.token, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a session is not the secret key"
    );
    let res = app
        .request(Method::DELETE, &path)
        .header("X-Api-Key", key.expose())
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["was_enabled"], true);
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "lost@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::DELETE, "/v1/admin/users/nobody/two-factor")
        .header("X-Api-Key", key.expose())
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn the_console_asks_for_the_code_and_then_sets_its_cookie() {
    let app = spawn().await;
    let user = app.register("console2fa@example.com").await;
    let (mut authenticator, _) = enable(&app, &user).await;
    let res = app
        .post_json(
            "/app/api/session",
            &json!({"email": "console2fa@example.com", "password": PASSWORD}),
        )
        .await;
    assert!(res.headers().get("set-cookie").is_none(), "no session yet");
    let body = expect_error(res, StatusCode::UNAUTHORIZED, "two_factor_required").await;
    let challenge = body["details"]["challenge"].as_str().unwrap();
    let code = authenticator.next_code().await;
    let res = app
        .post_json(
            "/app/api/session/two-factor",
            &json!({"challenge": challenge, "totp_code": code}),
        )
        .await;
    let cookie = res
        .headers()
        .get("set-cookie")
        .expect("the session cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("kanri_session="), "{cookie}");
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"].get("token").is_none());
    let res = app
        .request(Method::GET, "/v1/auth/me")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let (status, me) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["user"]["id"], user.user_id.as_str());
}

#[tokio::test]
async fn a_password_reset_keeps_two_factor_on_and_ends_pending_challenges() {
    let app = spawn().await;
    let user = app.register("reset2fa@example.com").await;
    let (mut authenticator, _) = enable(&app, &user).await;
    let pending = challenge(&app, "reset2fa@example.com").await;
    let (status, _) = post(
        &app,
        "/v1/auth/password-reset/request",
        None,
        json!({"email": "reset2fa@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.run_due_jobs(kanri::clock::now_ms()).await;
    let mail = app.sent_mail();
    let token = mail
        .last()
        .expect("a reset email")
        .text
        .split("token=")
        .nth(1)
        .unwrap();
    let token = token.split_whitespace().next().unwrap();
    let new_password = "brand-new-pass-9";
    let (status, body) = post(
        &app,
        "/v1/auth/password-reset/complete",
        None,
        json!({"token": token, "password": new_password}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = authenticator.next_code().await;
    let (status, body) = second_step(&app, json!({"challenge": pending, "totp_code": code})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_challenge"))
    );
    let res = app
        .post_json(
            "/v1/auth/login",
            &json!({"email": "reset2fa@example.com", "password": new_password}),
        )
        .await;
    let body = expect_error(res, StatusCode::UNAUTHORIZED, "two_factor_required").await;
    let (status, body) = second_step(
        &app,
        json!({"challenge": body["details"]["challenge"], "totp_code": code}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the code was not used up by the dead challenge: {body}"
    );
}

#[tokio::test]
async fn a_challenge_belongs_to_its_tenant() {
    let app = spawn().await;
    let acme = app.create_tenant("Acme").await;
    let other = app.create_tenant("Other").await;
    let user = app
        .register_with("tenant2fa@example.com", Some(&acme.publishable_key))
        .await;
    let (mut authenticator, _) = enable(&app, &user).await;
    let login = |key: &str| {
        app.request(Method::POST, "/v1/auth/login")
            .header("X-Api-Key", key)
            .json(&json!({"email": "tenant2fa@example.com", "password": PASSWORD}))
    };
    let res = login(&acme.publishable_key).send().await.unwrap();
    let body = expect_error(res, StatusCode::UNAUTHORIZED, "two_factor_required").await;
    let challenge = body["details"]["challenge"].as_str().unwrap().to_string();
    let code = authenticator.next_code().await;
    let second = |key: &str| {
        app.request(Method::POST, "/v1/auth/login/two-factor")
            .header("X-Api-Key", key)
            .json(&json!({"challenge": challenge, "totp_code": code}))
    };
    let res = second(&other.publishable_key).send().await.unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED, "invalid_challenge").await;
    let (status, body) = read(second(&acme.publishable_key).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_a_signing_key_enrolment_is_not_offered() {
    // SQLite makes a key in its data directory; only Postgres can be without one.
    let app = TestApp::spawn().await;
    if app.config.database.engine != kanri::config::Engine::Postgres {
        return;
    }
    let user = app.register("nokey@example.com").await;
    let (status, body) = post(
        &app,
        "/v1/auth/two-factor/enrollment",
        Some(&user.token),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("not_configured"))
    );
}
