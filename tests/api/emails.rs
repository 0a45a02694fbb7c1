//! The email jobs end to end: an HTTP write enqueues them in its transaction, running the
//! queue sends them (through the file mailer), and each re-checks its subject when it runs.

use kanri::clock::now_ms;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp};

const DAY: i64 = 24 * 3_600_000;

struct Team {
    owner: SignedIn,
    member: SignedIn,
    ws: String,
    project: String,
}

async fn team(app: &TestApp) -> Team {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Launch", "members": [member.user_id]}),
        )
        .await;
    Team {
        owner,
        member,
        ws,
        project,
    }
}

async fn create_task(app: &TestApp, t: &Team, body: Value) -> Value {
    app.create_task(&t.owner.token, &t.project, body).await
}

async fn jobs_of(app: &TestApp, kind: &str) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT state, run_at FROM jobs WHERE kind = $1 ORDER BY created_at, id")
        .bind(kind)
        .fetch_all(app.db.read())
        .await
        .unwrap()
}

#[tokio::test]
async fn assigning_a_task_emails_the_assignee_with_escaped_text() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let task = create_task(
        &app,
        &t,
        json!({"title": "<script>alert(1)</script> ship it", "description": "Tom & Jerry", "assignee_id": t.member.user_id, "due_date": "2030-01-31"}),
    )
    .await;
    assert_eq!(
        jobs_of(&app, "task:assigned").await.len(),
        1,
        "the seed's queue name"
    );
    assert_eq!(
        app.run_due_jobs(now_ms()).await,
        2,
        "the email and the task's search embedding; the reminder waits for its due date"
    );
    let mail = app.sent_mail();
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m.to, "member@example.com");
    assert!(m.subject.contains("ship it"), "{}", m.subject);
    assert!(
        m.text.contains("<script>alert(1)</script> ship it"),
        "plain text keeps the title as typed"
    );
    assert!(!m.html.contains("<script>"), "{}", m.html);
    assert!(m.html.contains("&lt;script&gt;"), "{}", m.html);
    assert!(m.html.contains("Tom &amp; Jerry"));
    assert!(m.html.contains("Launch"), "project name");
    let link = format!("/app/tasks/{}", task["id"].as_str().unwrap());
    assert!(
        m.html.contains(&link) && m.text.contains(&link),
        "a View task link"
    );
    assert!(m.html.contains(&app.config.server.app_url));

    // Assigning oneself sends nothing; reassigning to someone else does.
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    app.call(
        Method::PATCH,
        &path,
        &t.owner.token,
        Some(json!({"assignee_id": t.owner.user_id})),
    )
    .await;
    assert_eq!(jobs_of(&app, "task:assigned").await.len(), 1);
    app.call(
        Method::PATCH,
        &path,
        &t.owner.token,
        Some(json!({"assignee_id": t.member.user_id})),
    )
    .await;
    assert_eq!(jobs_of(&app, "task:assigned").await.len(), 2);
    app.run_due_jobs(now_ms()).await;
    assert_eq!(app.sent_mail().len(), 2);
}

#[tokio::test]
async fn an_assignment_email_for_a_stale_assignment_is_skipped() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let task = create_task(
        &app,
        &t,
        json!({"title": "Flip", "assignee_id": t.member.user_id}),
    )
    .await;
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    // Unassigned before the job ran: it finds the task changed and sends nothing.
    app.call(
        Method::PATCH,
        &path,
        &t.owner.token,
        Some(json!({"assignee_id": null})),
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    assert!(app.sent_mail().is_empty());
    assert_eq!(jobs_of(&app, "task:assigned").await[0].0, "succeeded");
    // A deleted task is done, not an error.
    let again = create_task(
        &app,
        &t,
        json!({"title": "Gone", "assignee_id": t.member.user_id}),
    )
    .await;
    app.call(
        Method::DELETE,
        &format!("/v1/tasks/{}", again["id"].as_str().unwrap()),
        &t.owner.token,
        None,
    )
    .await;
    app.run_due_jobs(now_ms()).await;
    assert!(app.sent_mail().is_empty());
}

#[tokio::test]
async fn a_failed_request_leaves_no_job() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let outsider = app.register("outsider@example.com").await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/v1/projects/{}/tasks", t.project),
            &t.owner.token,
            Some(json!({"title": "x", "assignee_id": outsider.user_id, "due_date": "2030-01-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn reminders_go_out_at_the_due_time_and_only_while_still_relevant() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let due = now_ms() + 7 * DAY;
    let due_text = kanri::clock::to_rfc3339(due);
    create_task(
        &app,
        &t,
        json!({"title": "Report", "assignee_id": t.member.user_id, "due_date": due_text}),
    )
    .await;
    app.run_due_jobs(now_ms()).await; // the assignment email
    assert_eq!(app.sent_mail().len(), 1);
    assert_eq!(
        app.run_due_jobs(due - 1).await,
        0,
        "not before the due time"
    );
    assert_eq!(app.run_due_jobs(due).await, 1);
    let mail = app.sent_mail();
    assert_eq!(mail.len(), 2);
    assert!(
        mail[1].subject.to_lowercase().contains("due")
            || mail[1].text.to_lowercase().contains("due"),
        "{}",
        mail[1].subject
    );

    // Moving the due date cancels the old reminder and schedules one for the new date; moving
    // it back revives the first; at most one per task and date.
    let second = create_task(&app, &t, json!({"title": "Moving", "assignee_id": t.member.user_id, "due_date": kanri::clock::to_rfc3339(due)})).await;
    let second_path = format!("/v1/tasks/{}", second["id"].as_str().unwrap());
    let later = due + DAY;
    app.call(
        Method::PATCH,
        &second_path,
        &t.owner.token,
        Some(json!({"due_date": kanri::clock::to_rfc3339(later)})),
    )
    .await;
    app.call(
        Method::PATCH,
        &second_path,
        &t.owner.token,
        Some(json!({"due_date": kanri::clock::to_rfc3339(later + DAY)})),
    )
    .await;
    app.call(
        Method::PATCH,
        &second_path,
        &t.owner.token,
        Some(json!({"due_date": kanri::clock::to_rfc3339(later)})),
    )
    .await;
    let states: Vec<String> = jobs_of(&app, "task:due_reminder")
        .await
        .into_iter()
        .map(|j| j.0)
        .collect();
    assert_eq!(
        states,
        ["succeeded", "cancelled", "queued", "cancelled"],
        "{states:?}"
    );
    let before = app.sent_mail().len();
    app.run_due_jobs(later + 2 * DAY).await;
    assert_eq!(
        app.sent_mail().len(),
        before + 2,
        "the second task's assignment and one reminder"
    );

    // Done, unassigned or deleted by the due time: nothing is sent.
    for change in [json!({"status": "DONE"}), json!({"assignee_id": null})] {
        let t3 = create_task(
            &app,
            &t,
            json!({"title": "Skip", "due_date": kanri::clock::to_rfc3339(due)}),
        )
        .await;
        app.call(
            Method::PATCH,
            &format!("/v1/tasks/{}", t3["id"].as_str().unwrap()),
            &t.owner.token,
            Some(change),
        )
        .await;
    }
    let t5 = create_task(&app, &t, json!({"title": "Deleted", "assignee_id": t.member.user_id, "due_date": kanri::clock::to_rfc3339(due)})).await;
    app.run_due_jobs(now_ms()).await;
    let before = app.sent_mail().len();
    app.call(
        Method::DELETE,
        &format!("/v1/tasks/{}", t5["id"].as_str().unwrap()),
        &t.owner.token,
        None,
    )
    .await;
    app.run_due_jobs(due + 1).await;
    assert_eq!(
        app.sent_mail().len(),
        before,
        "no reminder for done, unassigned or deleted tasks"
    );
}

#[tokio::test]
async fn invitations_are_emailed_with_an_accept_link() {
    let app = TestApp::spawn().await;
    let t = team(&app).await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{}/invitations", t.ws),
            &t.owner.token,
            Some(json!({"email": "new@example.com", "role": "MEMBER", "message": "Join <us>!"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    app.run_due_jobs(now_ms()).await;
    let mail = app.sent_mail();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "new@example.com");
    assert!(
        mail[0]
            .html
            .contains(&format!("/app/invitations/{id}?token=")),
        "{}",
        mail[0].html
    );
    assert!(mail[0].html.contains("Join &lt;us&gt;!"));
    assert!(mail[0].text.contains("Team"), "workspace name");
    // The token in the link is new and only its hash is stored.
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM invitations WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.read())
        .await
        .unwrap();
    let link_token = mail[0]
        .text
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(!stored.contains(&link_token));
    assert_eq!(kanri::domain::secret_token::sha256_hex(&link_token), stored);
    let args: String = sqlx::query_scalar("SELECT args FROM jobs WHERE kind = 'invitation:email'")
        .fetch_one(app.db.read())
        .await
        .unwrap();
    assert!(
        !args.contains(&link_token),
        "no plaintext token rests in the queue"
    );
}
