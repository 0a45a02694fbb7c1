//! `/docs`: the vendored Swagger UI, served by the binary itself. (That it renders, under its
//! content security policy, is checked in a real browser by tests/contract/docs_browser.py.)

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};

use crate::helpers::TestApp;

#[tokio::test]
async fn docs_page_and_its_assets_are_served_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let res = app.get("/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let header = |res: &reqwest::Response, name| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(header(&res, CONTENT_TYPE).starts_with("text/html"));
    let policy = header(&res, CONTENT_SECURITY_POLICY);
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    let page = res.text().await.unwrap();
    // Every script and stylesheet the page loads is one this server serves.
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/docs/assets/"))
        .collect();
    assert_eq!(assets.len(), 3, "{page}");
    for asset in assets {
        let res = app
            .request(reqwest::Method::GET, asset)
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        let cache = header(&res, CACHE_CONTROL);
        if asset.contains("swagger-ui") {
            assert!(cache.contains("immutable"), "{asset}: {cache}");
            assert_eq!(header(&res, CONTENT_ENCODING), "gzip", "{asset}");
        }
        let plain = app.get(asset).await;
        assert!(header(&plain, CONTENT_ENCODING).is_empty(), "{asset}");
        assert!(!plain.bytes().await.unwrap().is_empty(), "{asset}");
    }
    // The page points at this server's own document, and is not an operation in it.
    let init = app
        .get("/docs/assets/5.35.0/init.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/openapi.json\""), "{init}");
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"].get("/docs").is_none());
    assert_eq!(
        app.get("/docs/assets/0.0.0/swagger-ui.css").await.status(),
        StatusCode::NOT_FOUND
    );
}
