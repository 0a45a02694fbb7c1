//! Session tokens of an outside identity provider (seed 002's Clerk) as bearer tokens: a token
//! signed by one of the provider's published keys, from its issuer, for our audience and live,
//! is the user identity sync created for its `sub`; anything else is refused. The provider here
//! is a real HTTP server publishing a JWKS; its keys rotate during the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::identity::{Delivery, SECRET, V1, deliver, user_event};

const ISSUER: &str = "https://clerk.kanri.test";
const AUDIENCE: &str = "kanri-frontend";

/// Test-only P-256 keys (PKCS#8) and their public points.
pub(crate) const KEY_A: (&str, &str, &str) = (
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggHRSZ0Zcz45o1pkeRUfMjWqKs0WchhZ+NX1ejL3+5lmhRANCAAT8Zlriny/V9eD4dy3TULILhyz11VViEqrEqh9uATy0Ye7rf31xmTHLTXpsGpMlb7lWcC4rzj0QulVlWuOmgyoZ",
    "_GZa4p8v1fXg-Hct01CyC4cs9dVVYhKqxKofbgE8tGE",
    "7ut_fXGZMctNemwakyVvuVZwLivOPRC6VWVa46aDKhk",
);
const KEY_B: (&str, &str, &str) = (
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgygqzy0x2mPhHpu1F+oBZ70N8S2w0dvMQ0DEDPDnhndWhRANCAATUzFAQsF2CQOnMv2k5VHxpY2DfTeygS3uEzexwWmmt/rjh6rOVPz2QwjlLdxtEjKtPmTXre73tiQdoXx5o1wnJ",
    "1MxQELBdgkDpzL9pOVR8aWNg303soEt7hM3scFpprf4",
    "uOHqs5U_PZDCOUt3G0SMq0-ZNet7ve2JB2hfHmjXCck",
);
/// A key the provider never published: what a forger holds.
pub(crate) const FORGED: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2zF188V8S74/9bXZWY8KulwkdvtAwlv2dKFOkEk9J4ChRANCAASjawjOXq+Rs2CU6Zrf53NlSVUxt4vxpjb9GPkRGkjtDJMI/FLb6vMHqLUBIkNVdVRF3oSWw+Lw4Pzb7NWJtO6D";

pub(crate) fn jwk(kid: &str, key: (&str, &str, &str)) -> Value {
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": key.1, "y": key.2})
}

/// The provider's published key set, served over HTTP; counts its fetches.
struct Provider {
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    url: String,
}

async fn provider(keys: Value) -> Provider {
    let keys = Arc::new(Mutex::new(keys));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                axum::Json(k.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Provider { keys, fetches, url }
}

pub(crate) fn now() -> i64 {
    kanri::clock::now_ms() / 1000
}

pub(crate) fn sign(der_b64: &str, kid: &str, claims: &Value) -> String {
    // The server's JWT backend; this process signs with it too (no other is compiled in).
    kanri::crypto::install_providers();
    let der = STANDARD.decode(der_b64).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&der)).unwrap()
}

fn claims(sub: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "sid": "sess_1", "iat": now(), "nbf": now() - 5, "exp": now() + 60})
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.call(Method::GET, "/v1/auth/me", token, None).await
}

#[tokio::test]
async fn a_providers_session_token_is_its_synced_user_and_forgeries_are_refused() {
    let provider = provider(json!({"keys": [jwk("k1", KEY_A)]})).await;
    let url = provider.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.identity.webhook_key = Some(kanri::config::WebhookKey::parse(SECRET).unwrap());
        c.identity.external_jwt = Some(kanri::config::ExternalJwtConfig {
            issuer: ISSUER.into(),
            jwks_url: url,
            audience: Some(AUDIENCE.into()),
            min_refetch: Duration::from_millis(200),
        });
    })
    .await;
    // The provider's webhook creates the user, as in production.
    let event = user_event("user.created", "user_2abc", "ada@example.com", "Ada", "");
    deliver(
        &app,
        &Delivery::new(V1, "msg_1", &event),
        StatusCode::ACCEPTED,
        "queued",
    )
    .await;
    app.run_due_jobs(kanri::clock::now_ms()).await;

    let token = sign(KEY_A.0, "k1", &claims("user_2abc"));
    let (status, body) = me(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["user"]["email"], "ada@example.com");
    // Seed 002's own routes take it unchanged, and it acts as that user.
    let (status, body) = app.call(Method::GET, "/api/workspace", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ws = app.create_workspace(&token, "Ada's").await;
    let (_, listed) = app.call(Method::GET, "/v1/workspaces", &token, None).await;
    assert_eq!(listed["data"]["items"][0]["id"], ws.as_str(), "{listed}");

    let wrong = |f: &dyn Fn(&mut Value)| {
        let mut c = claims("user_2abc");
        f(&mut c);
        sign(KEY_A.0, "k1", &c)
    };
    let refused = [
        ("forged signature", sign(FORGED, "k1", &claims("user_2abc"))),
        (
            "another issuer",
            wrong(&|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "another audience",
            wrong(&|c| c["aud"] = json!("someone-else")),
        ),
        ("expired", wrong(&|c| c["exp"] = json!(now() - 120))),
        ("not yet valid", wrong(&|c| c["nbf"] = json!(now() + 120))),
        (
            "no expiry",
            wrong(&|c| c.as_object_mut().unwrap().remove("exp").map(drop).unwrap()),
        ),
        (
            "an unsynced subject",
            wrong(&|c| c["sub"] = json!("user_nobody")),
        ),
        ("an unknown key", sign(KEY_A.0, "k9", &claims("user_2abc"))),
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
                URL_SAFE_NO_PAD.encode(claims("user_2abc").to_string())
            ),
        ),
        ("HS256 keyed with the public key", {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".into());
            jsonwebtoken::encode(
                &header,
                &claims("user_2abc"),
                &EncodingKey::from_secret(KEY_A.1.as_bytes()).unwrap(),
            )
            .unwrap()
        }),
    ];
    for (why, token) in refused {
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        assert_eq!(body["code"], "invalid_token", "{why}: {body}");
    }

    // Key rotation: the provider publishes a new key; a token under it is accepted after one
    // early re-fetch, and made-up key ids do not make the server fetch on every request.
    tokio::time::sleep(Duration::from_millis(250)).await;
    *provider.keys.lock().unwrap() = json!({"keys": [jwk("k2", KEY_B)]});
    let rotated = sign(KEY_B.0, "k2", &claims("user_2abc"));
    let (status, body) = me(&app, &rotated).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = provider.fetches.load(Ordering::SeqCst);
    for i in 0..20 {
        let (status, _) = me(
            &app,
            &sign(KEY_B.0, &format!("junk{i}"), &claims("user_2abc")),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(
        provider.fetches.load(Ordering::SeqCst) - before <= 1,
        "re-fetches are limited"
    );
    // Kanri's own sessions still work beside it.
    let own = app.register("bob@example.com").await;
    assert_eq!(me(&app, &own.token).await.0, StatusCode::OK);
}
