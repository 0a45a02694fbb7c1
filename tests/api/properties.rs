//! The seed's properties, checked over HTTP against one running server.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, read};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

fn credentials() -> impl Strategy<Value = (String, String, String)> {
    (
        "[a-z0-9]{1,8}([._][a-z0-9]{1,8}){0,2}",
        "[a-z]{2,10}\\.(com|org|dev)",
        "[A-Za-z]{6,20}[0-9]{2,6}[!-~]{0,10}",
        "\\PC{1,40}",
    )
        .prop_filter("name must have visible text", |(_, _, _, name)| {
            !name.trim().is_empty()
        })
        .prop_map(|(local, domain, password, name)| (format!("{local}@{domain}"), password, name))
}

#[test]
fn valid_registration_and_login_round_trip_and_bad_credentials_fail() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let seen = std::cell::RefCell::new(std::collections::HashSet::new());
    runner(16)
        .run(&credentials(), |(email, password, name)| {
            if !seen.borrow_mut().insert(email.to_lowercase()) {
                return Ok(());
            }
            rt.block_on(async {
                let res = app
                    .post_json(
                        "/v1/auth/register",
                        &json!({"email": email, "password": password, "name": name}),
                    )
                    .await;
                let (status, body) = read(res).await;
                prop_assert_eq!(status, StatusCode::CREATED, "{}", body);
                let user_id = body["data"]["user"]["id"].clone();
                let (status, me) = app.me(body["data"]["token"].as_str().unwrap()).await;
                prop_assert_eq!(status, StatusCode::OK);
                prop_assert_eq!(&me["data"]["user"]["id"], &user_id);

                let res = app
                    .post_json(
                        "/v1/auth/login",
                        &json!({"email": email, "password": password}),
                    )
                    .await;
                let (status, body) = read(res).await;
                prop_assert_eq!(status, StatusCode::OK);
                let (_, me) = app.me(body["data"]["token"].as_str().unwrap()).await;
                prop_assert_eq!(&me["data"]["user"]["id"], &user_id);

                let wrong = format!("{password}x");
                let res = app
                    .post_json(
                        "/v1/auth/login",
                        &json!({"email": email, "password": wrong}),
                    )
                    .await;
                let (status, body) = read(res).await;
                prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
                prop_assert_eq!(&body["code"], "invalid_credentials");
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn random_tokens_and_keys_never_authenticate() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::spawn_with(|c| c.auth.multi_tenant = true));
    runner(32)
        .run(&"[!-~]{0,60}", |credential| {
            rt.block_on(async {
                let res = app
                    .request(reqwest::Method::GET, "/v1/admin/users")
                    .header("X-Api-Key", &credential)
                    .send()
                    .await
                    .unwrap();
                prop_assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
                let res = app
                    .request(reqwest::Method::GET, "/v1/auth/me")
                    .header("Authorization", format!("Bearer {credential}"))
                    .send()
                    .await
                    .unwrap();
                prop_assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
                Ok(())
            })
        })
        .unwrap();
}
