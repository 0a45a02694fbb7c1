//! OpenID Connect sign-in against a real provider process written here (discovery, an
//! authorization endpoint that redirects back with a code, a token endpoint that checks the
//! client secret and the PKCE verifier, and a JWKS): the browser's redirects are followed by
//! hand, as a browser would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{StatusCode, redirect};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::external_jwt::{FORGED, KEY_A, jwk, now, sign};
use crate::helpers::{TestApp, read};

const CLIENT_ID: &str = "kanri-test";
const CLIENT_SECRET: &str = "s3cret:with/odd chars";

/// Who the provider signs in next, and how it may misbehave.
#[derive(Clone, Default)]
struct NextUser {
    sub: String,
    email: String,
    verified: bool,
    wrong_nonce: bool,
    forged: bool,
}

/// Codes the provider issued: code → (nonce, code challenge, redirect URI).
type Codes = Arc<Mutex<HashMap<String, (String, String, String)>>>;

#[derive(Clone, Default)]
struct ProviderState {
    base: String,
    next: Arc<Mutex<NextUser>>,
    codes: Codes,
}

async fn provider() -> ProviderState {
    use axum::extract::{Form, Query, State};
    use axum::http::{HeaderMap, StatusCode as S};
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::{get, post};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = ProviderState {
        base: base.clone(),
        ..ProviderState::default()
    };
    let discovery = |State(s): State<ProviderState>| async move {
        axum::Json(json!({
            "issuer": s.base,
            "authorization_endpoint": format!("{}/authorize", s.base),
            "token_endpoint": format!("{}/token", s.base),
            "jwks_uri": format!("{}/jwks", s.base),
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }))
    };
    let authorize = |State(s): State<ProviderState>, Query(q): Query<HashMap<String, String>>| async move {
        if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || q.get("code_challenge_method").map(String::as_str) != Some("S256")
            || q.get("response_type").map(String::as_str) != Some("code")
            || !q
                .get("scope")
                .is_some_and(|s| s.split(' ').any(|w| w == "openid"))
        {
            return (S::BAD_REQUEST, "bad authorization request").into_response();
        }
        let code = uuid::Uuid::now_v7().simple().to_string();
        let redirect_uri = q["redirect_uri"].clone();
        s.codes.lock().unwrap().insert(
            code.clone(),
            (
                q["nonce"].clone(),
                q["code_challenge"].clone(),
                redirect_uri.clone(),
            ),
        );
        Redirect::to(&format!("{redirect_uri}?code={code}&state={}", q["state"])).into_response()
    };
    let token = |State(s): State<ProviderState>,
                 headers: HeaderMap,
                 Form(f): Form<HashMap<String, String>>| async move {
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!(
                "{CLIENT_ID}:{}",
                url::form_urlencoded::byte_serialize(CLIENT_SECRET.as_bytes()).collect::<String>()
            ))
        );
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return (
                S::UNAUTHORIZED,
                axum::Json(json!({"error": "invalid_client"})),
            )
                .into_response();
        }
        let Some((nonce, challenge, redirect_uri)) = s.codes.lock().unwrap().remove(&f["code"])
        else {
            return (
                S::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_grant"})),
            )
                .into_response();
        };
        let verifier_ok =
            URL_SAFE_NO_PAD.encode(Sha256::digest(f["code_verifier"].as_bytes())) == challenge;
        if !verifier_ok
            || f["redirect_uri"] != redirect_uri
            || f["grant_type"] != "authorization_code"
        {
            return (
                S::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_grant"})),
            )
                .into_response();
        }
        let user = s.next.lock().unwrap().clone();
        let claims = json!({
            "iss": s.base, "aud": CLIENT_ID, "sub": user.sub, "email": user.email,
            "email_verified": user.verified, "name": "Grace Hopper",
            "nonce": if user.wrong_nonce { "someone-elses".to_string() } else { nonce },
            "iat": now(), "exp": now() + 300,
        });
        let key = if user.forged { FORGED } else { KEY_A.0 };
        let id_token = sign(key, "k1", &claims);
        axum::Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}))
            .into_response()
    };
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route(
            "/jwks",
            get(|| async { axum::Json(json!({"keys": [jwk("k1", KEY_A)]})) }),
        )
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    state
}

async fn spawn(provider: &ProviderState) -> TestApp {
    let issuer = provider.base.clone();
    TestApp::spawn_with(move |c| {
        c.identity.oidc = Some(kanri::config::OidcConfig {
            name: "sso".into(),
            issuer,
            client_id: CLIENT_ID.into(),
            client_secret: Some(kanri::config::Secret::new(CLIENT_SECRET.into())),
        });
    })
    .await
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// Follows a sign-in from `start` through the provider back to the callback; the callback's
/// response. The callback URL is taken at the app's address (its `app_url` may differ).
async fn sign_in(
    app: &TestApp,
    as_user: NextUser,
    query: &str,
    provider: &ProviderState,
) -> reqwest::Response {
    *provider.next.lock().unwrap() = as_user;
    let b = browser();
    let start = b
        .get(format!("{}/v1/auth/oidc/sso/start{query}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::FOUND);
    let at_provider = b.get(location(&start)).send().await.unwrap();
    assert!(
        at_provider.status().is_redirection(),
        "{}",
        at_provider.status()
    );
    let back = url::Url::parse(&location(&at_provider)).unwrap();
    assert!(
        back.path().ends_with("/v1/auth/oidc/sso/callback"),
        "{back}"
    );
    b.get(format!(
        "{}{}?{}",
        app.base,
        back.path(),
        back.query().unwrap()
    ))
    .send()
    .await
    .unwrap()
}

fn user(sub: &str, email: &str) -> NextUser {
    NextUser {
        sub: sub.into(),
        email: email.into(),
        verified: true,
        ..NextUser::default()
    }
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.me(token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["user"].clone()
}

#[tokio::test]
async fn members_sign_in_with_the_provider_and_are_linked_by_subject_or_verified_email() {
    let provider = provider().await;
    let app = spawn(&provider).await;
    let (status, listed) = read(app.get("/v1/auth/oidc").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["data"][0]["name"], "sso");

    // First sign-in: a new account; the console flow lands on return_to with its cookie.
    let res = sign_in(
        &app,
        user("kc-1", "grace@example.com"),
        "?return_to=/app/",
        &provider,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/app/");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("kanri_session=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let token = cookie
        .trim_start_matches("kanri_session=")
        .split(';')
        .next()
        .unwrap();
    let first = me(&app, token).await;
    assert_eq!(first["email"], "grace@example.com");

    // Again, as an API client (JSON): the same user, by subject, even with a new email.
    let res = sign_in(
        &app,
        user("kc-1", "grace.hopper@example.com"),
        "",
        &provider,
    )
    .await;
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["id"], first["id"]);
    assert_eq!(
        me(&app, body["data"]["token"].as_str().unwrap()).await["id"],
        first["id"]
    );

    // A password account is linked by its verified email.
    let ada = app.register("ada@example.com").await;
    let (_, body) = read(sign_in(&app, user("kc-2", "ADA@example.com"), "", &provider).await).await;
    assert_eq!(body["data"]["user"]["id"], ada.user_id.as_str(), "{body}");

    // An unverified email never links or creates an account.
    let mut unverified = user("kc-3", "ada@example.com");
    unverified.verified = false;
    let (status, body) = read(sign_in(&app, unverified, "", &provider).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(users, 2, "grace and ada only");
}

#[tokio::test]
async fn a_replayed_forged_or_mismatched_sign_in_is_refused() {
    let provider = provider().await;
    let app = spawn(&provider).await;
    // The same callback twice: the state works once.
    *provider.next.lock().unwrap() = user("kc-1", "grace@example.com");
    let b = browser();
    let start = b
        .get(format!("{}/v1/auth/oidc/sso/start", app.base))
        .send()
        .await
        .unwrap();
    let back = url::Url::parse(&location(&b.get(location(&start)).send().await.unwrap())).unwrap();
    let callback = format!("{}{}?{}", app.base, back.path(), back.query().unwrap());
    assert_eq!(
        b.get(&callback).send().await.unwrap().status(),
        StatusCode::OK
    );
    let (status, body) = read(b.get(&callback).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "sso_failed");

    for spoil in [
        |u: &mut NextUser| u.wrong_nonce = true,
        |u: &mut NextUser| u.forged = true,
    ] {
        let mut next = user("kc-9", "mallory@example.com");
        spoil(&mut next);
        let (status, body) = read(sign_in(&app, next, "", &provider).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["code"], "sso_failed");
    }
    // A made-up state or code, the provider's refusal, an open redirect, an unknown provider.
    for query in ["code=x&state=made-up", "error=access_denied&state=s", ""] {
        let (status, body) = read(
            b.get(format!("{}/v1/auth/oidc/sso/callback?{query}", app.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{query}: {body}");
    }
    let (status, _) = read(
        b.get(format!(
            "{}/v1/auth/oidc/sso/start?return_to=https://evil.example/",
            app.base
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = read(
        b.get(format!("{}/v1/auth/oidc/other/start", app.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mallory: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'mallory@example.com'")
            .fetch_one(app.db.read())
            .await
            .unwrap();
    assert_eq!(mallory, 0, "no refused sign-in made an account");
}
