//! The write path: every change commits with its event, and event ids follow commit order, so
//! a client resuming from an id never misses an event that committed after it.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, shared_cache};
use crate::realtime::{Sse, activity_ids, world};

const WRITERS: usize = 8;
const TASKS_PER_WRITER: usize = 12;
/// The reader disconnects after this many events and resumes from the last id it saw.
const EVENTS_PER_CONNECTION: usize = 5;

#[tokio::test]
async fn a_resuming_client_gets_every_event_exactly_once_under_concurrent_writers() {
    // Two instances on one database: on Postgres two servers sharing it, on SQLite two
    // servers on one file.
    let a = TestApp::spawn_with(shared_cache).await;
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let w = world(&a).await;
    // The reader starts from the log's newest event, so writes that commit before its first
    // connection are replayed, not missed.
    let before = activity_ids(&a, &w.owner.token, &w.project).await;
    let base = [a.base.clone(), b.base.clone()];
    let client = reqwest::Client::new();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (client, token, project) = (client.clone(), w.owner.token.clone(), w.project.clone());
        let url = format!("{}/v1/projects/{project}/tasks", base[writer % 2]);
        writers.spawn(async move {
            let mut ids = Vec::new();
            for n in 0..TASKS_PER_WRITER {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("writer {writer} task {n}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
                let body: serde_json::Value = res.json().await.unwrap();
                ids.push(body["data"]["id"].as_str().unwrap().to_string());
            }
            ids
        });
    }

    let expected = WRITERS * TASKS_PER_WRITER;
    let mut seen: Vec<String> = Vec::new();
    let mut last: Option<i64> = before.last().copied();
    let mut resumes = 0;
    while seen.len() < expected {
        // Alternate the instance the reader resumes on, too.
        let app = if resumes % 2 == 0 { &a } else { &b };
        let mut sse = Sse::open(app, &w.member.token, &w.project, last).await;
        for _ in 0..EVENTS_PER_CONNECTION {
            if seen.len() == expected {
                break;
            }
            let e = sse.next_event().await;
            assert_eq!(e.event, "task.created", "{:?}", e.data);
            let id = e.id.expect("an id line");
            assert!(last.is_none_or(|l| id > l), "id {id} after {last:?}");
            last = Some(id);
            seen.push(e.data["data"]["id"].as_str().unwrap().to_string());
        }
        resumes += 1;
    }
    let written: HashSet<String> = writers.join_all().await.into_iter().flatten().collect();
    let received: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(received.len(), seen.len(), "an event came twice");
    assert_eq!(
        received, written,
        "every committed task's event, exactly once"
    );
    assert!(resumes > 10, "the reader resumed {resumes} times");

    // The log agrees: the project's creation, then one event per task, ids only growing.
    let log = activity_ids(&a, &w.owner.token, &w.project).await;
    assert_eq!(log.len(), expected + 1);
    assert!(log.windows(2).all(|p| p[0] < p[1]));
    b.stop().await;
}
