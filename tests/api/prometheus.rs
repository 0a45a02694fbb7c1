//! Scraping `/metrics` and reading it through the official Prometheus text parser (Python's
//! `prometheus_client`, run as `tests/prometheus_parse.py`), so the tests check what a real
//! Prometheus would read, not what a hand-written parser accepts.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde::Deserialize;

use crate::helpers::TestApp;

#[derive(Debug, Deserialize)]
pub(crate) struct Family {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Sample {
    pub name: String,
    pub labels: HashMap<String, String>,
    pub value: serde_json::Value,
}

pub(crate) struct Scrape {
    families: Vec<Family>,
}

impl Scrape {
    pub fn family(&self, name: &str) -> &Family {
        self.families
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no family {name} in {:?}", self.names()))
    }

    pub fn names(&self) -> Vec<&str> {
        self.families.iter().map(|f| f.name.as_str()).collect()
    }

    pub fn samples(&self, sample: &str) -> impl Iterator<Item = &Sample> {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .filter(move |s| s.name == sample)
    }

    /// The value of the one sample named `sample` whose labels include `labels`.
    pub fn value(&self, sample: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .samples(sample)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert!(
            matching.len() <= 1,
            "{sample} {labels:?} is ambiguous: {matching:?}"
        );
        matching
            .first()
            .map(|s| s.value.as_f64().expect("a finite value"))
    }

    /// Like `value`, 0 when the series does not exist yet.
    pub fn count(&self, sample: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(sample, labels).unwrap_or(0.0)
    }
}

/// Runs the official parser. `None` (the test returns early) only when python3 or
/// `prometheus_client` is missing outside CI; under `CI=true` that is a failure.
pub(crate) fn parse(text: &str) -> Option<Scrape> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/prometheus_parse.py");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let missing = |what: &str| {
        assert!(!in_ci, "{what} is missing; .ci/run installs it");
        eprintln!("skipping the /metrics parse: {what} is missing (pip install prometheus_client)");
        None
    };
    let Ok(mut child) = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return missing("python3");
    };
    // A script that exits early (its module missing) closes the pipe: its exit code says why.
    let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        return missing("prometheus_client");
    }
    assert!(
        out.status.success(),
        "the Prometheus parser rejected /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    Some(Scrape { families })
}

pub(crate) async fn scrape_text(app: &TestApp) -> String {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    res.text().await.unwrap()
}

pub(crate) async fn scrape(app: &TestApp) -> Option<Scrape> {
    parse(&scrape_text(app).await)
}
