//! The response cache over HTTP: a hit after a miss on every cached route, invalidation by every
//! write that changes a cached list (the writer reads its own write at once), results kept
//! apart by who may see what, two instances on one Redis, and Redis down.
//!
//! The tests run on Redis when `KANRI_TEST_REDIS_URL` is set (each app with its own key
//! prefix), otherwise on the in-process cache; the two-instance test needs Redis.

use kanri::clock::now_ms;
use kanri::domain::job::{IdentityEvent, IdentitySync};
use kanri::jobs::{self, NewJobSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SignedIn, TestApp, expect_error, read, use_redis};

fn redis_url() -> Option<String> {
    std::env::var("KANRI_TEST_REDIS_URL").ok()
}

/// Redis when the run has one, else the in-process default.
async fn spawn_cached() -> TestApp {
    TestApp::spawn_with(|c| {
        if let Some(url) = redis_url() {
            use_redis(c, &url);
        }
    })
    .await
}

/// A GET as `token`: the body and the `X-Cache` header.
async fn get(app: &TestApp, path: &str, token: &str) -> (Value, String) {
    let res = app.as_user(Method::GET, path, token).send().await.unwrap();
    let x_cache = res
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_else(|| "absent".into());
    let (status, body) = read(res).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    (body, x_cache)
}

/// Reads a list that must not be cached now (first read, or right after a write that changes
/// it): a miss, then a hit with the same body. Returns the body.
async fn fresh(app: &TestApp, path: &str, token: &str) -> Value {
    let (first, x) = get(app, path, token).await;
    assert_eq!(x, "miss", "{path} should have been invalidated: {first}");
    let (second, x) = get(app, path, token).await;
    assert_eq!(x, "hit", "{path}");
    assert_eq!(first, second, "{path}");
    second
}

/// Makes sure a list is cached (whatever it was before), so a write's effect on it shows.
async fn warm(app: &TestApp, path: &str, token: &str) {
    get(app, path, token).await;
    cached(app, path, token).await;
}

/// Asserts a list is being served from the cache.
async fn cached(app: &TestApp, path: &str, token: &str) -> Value {
    let (body, x) = get(app, path, token).await;
    assert_eq!(x, "hit", "{path}: {body}");
    body
}

/// A write that must succeed.
async fn write(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, resp) = app.call(method, path, token, body).await;
    assert!(status.is_success(), "{path}: {status} {resp}");
    resp
}

fn names(list: &Value) -> Vec<String> {
    let items = list["data"]["items"]
        .as_array()
        .or_else(|| list["data"].as_array())
        .unwrap_or_else(|| panic!("a list: {list}"));
    items
        .iter()
        .map(|i| {
            i.get("name")
                .or_else(|| i.get("title"))
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect()
}

fn item<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["data"]["items"]
        .as_array()
        .or_else(|| list["data"].as_array())
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {list}"))
}

struct World {
    owner: SignedIn,
    member: SignedIn,
    ws: String,
    project: String,
}

/// An owner and a MEMBER in a workspace; the member belongs to project "Alpha" only, and "Beta"
/// has no members besides its lead (the owner).
async fn world(app: &TestApp) -> World {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    let project = app
        .create_project(
            &owner.token,
            &ws,
            json!({"name": "Alpha", "members": [member.user_id]}),
        )
        .await;
    app.create_project(&owner.token, &ws, json!({"name": "Beta"}))
        .await;
    World {
        owner,
        member,
        ws,
        project,
    }
}

#[tokio::test]
async fn every_cached_route_hits_after_a_miss() {
    let app = spawn_cached().await;
    let w = world(&app).await;
    app.create_task(&w.owner.token, &w.project, json!({"title": "One"}))
        .await;
    for path in [
        format!("/v1/workspaces/{}/projects", w.ws),
        format!("/v1/workspaces/{}/projects?limit=1", w.ws),
        format!("/v1/projects/{}/tasks", w.project),
        format!(
            "/v1/projects/{}/tasks?status=todo&sort=-due_date&q=one",
            w.project
        ),
        format!("/api/projects/workspace/{}/projects", w.ws),
        format!("/api/tasks/project/{}/tasks", w.project),
    ] {
        fresh(&app, &path, &w.owner.token).await;
    }
    // Another page or filter is another entry.
    let (_, x) = get(
        &app,
        &format!("/v1/projects/{}/tasks?status=done", w.project),
        &w.owner.token,
    )
    .await;
    assert_eq!(x, "miss");

    // Seed 000 says so in its body too.
    write(
        &app,
        Method::POST,
        "/api/create-project",
        &w.owner.token,
        Some(json!({"name": "Mine"})),
    )
    .await;
    let (first, x) = get(&app, "/api/list-projects", &w.owner.token).await;
    assert_eq!((x.as_str(), &first["from_cache"]), ("miss", &json!(false)));
    let (second, x) = get(&app, "/api/list-projects", &w.owner.token).await;
    assert_eq!((x.as_str(), &second["from_cache"]), ("hit", &json!(true)));
    assert_eq!(first["projects"], second["projects"]);
    assert_eq!(second["projects"][0]["name"], "Mine");
    write(
        &app,
        Method::POST,
        "/api/create-project",
        &w.owner.token,
        Some(json!({"name": "Mine too"})),
    )
    .await;
    let (third, x) = get(&app, "/api/list-projects", &w.owner.token).await;
    assert_eq!((x.as_str(), &third["from_cache"]), ("miss", &json!(false)));
    assert_eq!(third["projects"].as_array().unwrap().len(), 2);

    let (ready, _) = get(&app, "/readyz", &w.owner.token).await;
    let cache = &ready["data"]["cache"];
    assert!(cache["hits"].as_u64().unwrap() >= 7, "{cache}");
    assert_eq!(cache["available"], true, "{cache}");
    assert_eq!(cache["failures"], 0, "{cache}");
}

/// Every write path that changes a cached list, each followed at once by a read of the lists
/// it changes: a miss with the change in it (and so also read-your-own-write).
#[tokio::test]
async fn every_write_invalidates_the_lists_it_changes() {
    let app = spawn_cached().await;
    let w = world(&app).await;
    let (owner, member) = (&w.owner.token, &w.member.token);
    let owner_projects = format!("/v1/workspaces/{}/projects", w.ws);
    let seed_projects = format!("/api/projects/workspace/{}/projects", w.ws);
    let tasks = format!("/v1/projects/{}/tasks", w.project);
    let seed_tasks = format!("/api/tasks/project/{}/tasks", w.project);
    assert_eq!(names(&fresh(&app, &owner_projects, owner).await).len(), 2);
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha"]
    );
    fresh(&app, &seed_projects, owner).await;
    fresh(&app, &tasks, owner).await;
    fresh(&app, &seed_tasks, owner).await;

    // ---- projects ----
    let gamma = app
        .create_project(owner, &w.ws, json!({"name": "Gamma"}))
        .await;
    assert!(names(&fresh(&app, &owner_projects, owner).await).contains(&"Gamma".into()));
    assert!(names(&fresh(&app, &seed_projects, owner).await).contains(&"Gamma".into()));

    let gamma_path = format!("/v1/projects/{gamma}");
    write(
        &app,
        Method::PATCH,
        &gamma_path,
        owner,
        Some(json!({"name": "Gamma 2"})),
    )
    .await;
    assert!(names(&fresh(&app, &owner_projects, owner).await).contains(&"Gamma 2".into()));

    write(
        &app,
        Method::PATCH,
        &gamma_path,
        owner,
        Some(json!({"archived": true})),
    )
    .await;
    assert_eq!(
        item(&fresh(&app, &owner_projects, owner).await, &gamma)["archived"],
        true
    );

    // Seed 002's project update goes through the same service.
    write(
        &app,
        Method::PATCH,
        &format!("/api/projects/{gamma}"),
        owner,
        Some(json!({"name": "Gamma 3"})),
    )
    .await;
    assert!(names(&fresh(&app, &seed_projects, owner).await).contains(&"Gamma 3".into()));

    // Project membership decides what a member sees.
    let gamma_members = format!("/v1/projects/{gamma}/members");
    warm(&app, &owner_projects, member).await;
    write(
        &app,
        Method::POST,
        &gamma_members,
        owner,
        Some(json!({"user_id": w.member.user_id})),
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha", "Gamma 3"]
    );
    write(
        &app,
        Method::DELETE,
        &format!("{gamma_members}/{}", w.member.user_id),
        owner,
        None,
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha"]
    );
    // …and so does leading a project.
    write(
        &app,
        Method::PATCH,
        &gamma_path,
        owner,
        Some(json!({"team_lead": w.member.user_id})),
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha", "Gamma 3"]
    );

    write(&app, Method::DELETE, &gamma_path, owner, None).await;
    assert!(!names(&fresh(&app, &owner_projects, owner).await).contains(&"Gamma 3".into()));
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha"]
    );

    // ---- tasks ----
    let one = app
        .create_task(owner, &w.project, json!({"title": "One"}))
        .await;
    let one_id = one["id"].as_str().unwrap();
    assert_eq!(names(&fresh(&app, &tasks, owner).await), ["One"]);
    assert_eq!(names(&fresh(&app, &seed_tasks, owner).await), ["One"]);
    // A task write leaves the project lists cached.
    cached(&app, &owner_projects, owner).await;

    // Seed 000's create-task too.
    write(
        &app,
        Method::POST,
        "/api/create-task",
        owner,
        Some(json!({"projectId": w.project, "title": "Two"})),
    )
    .await;
    let list = fresh(&app, &tasks, owner).await;
    assert_eq!(names(&list), ["One", "Two"]);
    let two_id = list["data"]["items"][1]["id"].as_str().unwrap().to_string();

    let one_path = format!("/v1/tasks/{one_id}");
    write(
        &app,
        Method::PATCH,
        &one_path,
        owner,
        Some(json!({"title": "One!"})),
    )
    .await;
    assert_eq!(names(&fresh(&app, &tasks, owner).await), ["One!", "Two"]);

    write(
        &app,
        Method::PATCH,
        &one_path,
        owner,
        Some(json!({"after_id": two_id})),
    )
    .await;
    assert_eq!(names(&fresh(&app, &tasks, owner).await), ["Two", "One!"]);

    write(
        &app,
        Method::POST,
        &format!("/v1/projects/{}/tasks/bulk-status", w.project),
        owner,
        Some(json!({"task_ids": [one_id, two_id], "status": "DONE"})),
    )
    .await;
    let list = fresh(&app, &tasks, owner).await;
    assert_eq!(item(&list, one_id)["status"], "DONE");
    assert_eq!(item(&list, &two_id)["status"], "DONE");

    // ---- comments (counted in task lists, listed whole in seed 002's) ----
    let comment = write(
        &app,
        Method::POST,
        &format!("/v1/tasks/{one_id}/comments"),
        owner,
        Some(json!({"content": "first"})),
    )
    .await;
    let comment_path = format!("/v1/comments/{}", comment["data"]["id"].as_str().unwrap());
    assert_eq!(
        item(&fresh(&app, &tasks, owner).await, one_id)["comments_count"],
        1
    );
    let seed = fresh(&app, &seed_tasks, owner).await;
    assert_eq!(item(&seed, one_id)["comments"][0]["content"], "first");

    write(
        &app,
        Method::PATCH,
        &comment_path,
        owner,
        Some(json!({"content": "edited"})),
    )
    .await;
    let seed = fresh(&app, &seed_tasks, owner).await;
    assert_eq!(item(&seed, one_id)["comments"][0]["content"], "edited");

    write(&app, Method::DELETE, &comment_path, owner, None).await;
    assert_eq!(
        item(&fresh(&app, &tasks, owner).await, one_id)["comments_count"],
        0
    );

    write(
        &app,
        Method::DELETE,
        &format!("/v1/tasks/{two_id}"),
        owner,
        None,
    )
    .await;
    assert_eq!(names(&fresh(&app, &tasks, owner).await), ["One!"]);

    // ---- workspace membership ----
    let member_path = format!("/v1/workspaces/{}/members/{}", w.ws, w.member.user_id);
    warm(&app, &owner_projects, member).await;
    write(
        &app,
        Method::PATCH,
        &member_path,
        owner,
        Some(json!({"role": "ADMIN"})),
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha", "Beta"]
    );
    write(
        &app,
        Method::PATCH,
        &member_path,
        owner,
        Some(json!({"role": "MEMBER"})),
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha"]
    );

    // Removal takes their project memberships: back through an invitation, they see nothing
    // they saw before.
    write(&app, Method::DELETE, &member_path, owner, None).await;
    expect_error(
        app.as_user(Method::GET, &owner_projects, member)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let invitation = write(
        &app,
        Method::POST,
        &format!("/v1/workspaces/{}/invitations", w.ws),
        owner,
        Some(json!({"email": "member@example.com", "role": "MEMBER"})),
    )
    .await;
    let (status, body) = app
        .answer_invitation(
            "/v1",
            invitation["data"]["id"].as_str().unwrap(),
            "accept",
            member,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(names(&fresh(&app, &owner_projects, member).await).is_empty());

    // Leaving is a removal too.
    write(
        &app,
        Method::POST,
        &format!("/v1/projects/{}/members", w.project),
        owner,
        Some(json!({"user_id": w.member.user_id})),
    )
    .await;
    assert_eq!(
        names(&fresh(&app, &owner_projects, member).await),
        ["Alpha"]
    );
    write(&app, Method::DELETE, &member_path, member, None).await;
    app.add_member(owner, &w.ws, &w.member, "MEMBER").await;
    assert!(names(&fresh(&app, &owner_projects, member).await).is_empty());

    // ---- users: profile sync and deletion reach every list that shows them ----
    write(
        &app,
        Method::POST,
        &format!("/v1/projects/{}/members", w.project),
        owner,
        Some(json!({"user_id": w.member.user_id})),
    )
    .await;
    write(
        &app,
        Method::PATCH,
        &one_path,
        owner,
        Some(json!({"assignee_id": w.member.user_id})),
    )
    .await;
    let list = fresh(&app, &tasks, owner).await;
    assert_eq!(item(&list, one_id)["assignee"]["name"], "Test User");
    sync_identity(
        &app,
        "evt_1",
        IdentityEvent::UserUpdated,
        "member@example.com",
    )
    .await;
    let list = fresh(&app, &tasks, owner).await;
    assert_eq!(item(&list, one_id)["assignee"]["name"], "Ada Lovelace");
    sync_identity(
        &app,
        "evt_2",
        IdentityEvent::UserDeleted,
        "member@example.com",
    )
    .await;
    let list = fresh(&app, &tasks, owner).await;
    assert!(item(&list, one_id)["assignee"].is_null(), "{list}");

    // An administrator's deletion of a user (the admin API's service).
    let third = app.register("third@example.com").await;
    app.add_member(owner, &w.ws, &third, "MEMBER").await;
    write(
        &app,
        Method::POST,
        &format!("/v1/projects/{}/members", w.project),
        owner,
        Some(json!({"user_id": third.user_id})),
    )
    .await;
    write(
        &app,
        Method::PATCH,
        &one_path,
        owner,
        Some(json!({"assignee_id": third.user_id})),
    )
    .await;
    assert_eq!(
        item(&fresh(&app, &tasks, owner).await, one_id)["assignee_id"],
        third.user_id.as_str()
    );
    kanri::services::accounts::delete_user(&app.cx, "default", &third.user_id)
        .await
        .unwrap();
    assert!(item(&fresh(&app, &tasks, owner).await, one_id)["assignee_id"].is_null());

    // ---- the workspace itself ----
    write(
        &app,
        Method::DELETE,
        &format!("/v1/workspaces/{}", w.ws),
        owner,
        None,
    )
    .await;
    expect_error(
        app.as_user(Method::GET, &owner_projects, owner)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// Applies an identity-provider event for `email`'s user as the webhook would have queued it.
async fn sync_identity(app: &TestApp, event_id: &str, kind: IdentityEvent, email: &str) {
    let args = IdentitySync {
        event_id: event_id.into(),
        kind,
        external_id: Some("user_ext_1".into()),
        email: Some(email.into()),
        name: Some("Ada Lovelace".into()),
        image_url: None,
    };
    let mut tx = app.db.begin().await.unwrap();
    jobs::enqueue(&mut tx, NewJobSpec::of("default", &args))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Other due jobs (assignment emails) may run too; the lists below show the sync did.
    assert!(app.run_due_jobs(now_ms()).await >= 1);
}

#[tokio::test]
async fn callers_never_see_each_others_results() {
    let app = spawn_cached().await;
    let w = world(&app).await;
    let outsider = app.register("outsider@example.com").await;
    let projects = format!("/v1/workspaces/{}/projects", w.ws);
    let tasks = format!("/v1/projects/{}/tasks", w.project);
    app.create_task(&w.owner.token, &w.project, json!({"title": "Secret"}))
        .await;

    // The admin's list is cached first; the member still gets only their own.
    assert_eq!(
        names(&fresh(&app, &projects, &w.owner.token).await),
        ["Alpha", "Beta"]
    );
    assert_eq!(
        names(&fresh(&app, &projects, &w.member.token).await),
        ["Alpha"]
    );
    // Another member's visibility is theirs alone.
    let other = app.register("other@example.com").await;
    app.add_member(&w.owner.token, &w.ws, &other, "MEMBER")
        .await;
    assert!(names(&fresh(&app, &projects, &other.token).await).is_empty());
    // Admins share one entry.
    let admin = app.register("admin@example.com").await;
    app.add_member(&w.owner.token, &w.ws, &admin, "ADMIN").await;
    assert_eq!(
        names(&fresh(&app, &projects, &w.owner.token).await),
        ["Alpha", "Beta"]
    );
    assert_eq!(
        names(&cached(&app, &projects, &admin.token).await),
        ["Alpha", "Beta"]
    );

    // A cached task list is still checked against the caller.
    fresh(&app, &tasks, &w.owner.token).await;
    cached(&app, &tasks, &w.member.token).await;
    for (path, token) in [
        (&tasks, &outsider.token),
        (&tasks, &other.token),
        (&projects, &outsider.token),
    ] {
        expect_error(
            app.as_user(Method::GET, path, token).send().await.unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/tasks/project/{}/tasks", w.project),
            &outsider.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Two instances on one database and one Redis: a write through B is never served stale by A.
#[tokio::test]
async fn a_write_on_one_instance_invalidates_the_other() {
    let Some(url) = redis_url() else { return };
    let a = TestApp::spawn_with(|c| use_redis(c, &url)).await;
    let b = TestApp::start(a.config.clone(), tempfile::tempdir().unwrap()).await;
    let w = world(&a).await;
    let projects = format!("/v1/workspaces/{}/projects", w.ws);
    let tasks = format!("/v1/projects/{}/tasks", w.project);

    fresh(&a, &projects, &w.owner.token).await;
    fresh(&a, &tasks, &w.owner.token).await;
    // B shares A's entries.
    cached(&b, &projects, &w.owner.token).await;

    b.create_project(&w.owner.token, &w.ws, json!({"name": "From B"}))
        .await;
    assert!(names(&fresh(&a, &projects, &w.owner.token).await).contains(&"From B".into()));
    b.create_task(&w.owner.token, &w.project, json!({"title": "Task from B"}))
        .await;
    assert_eq!(
        names(&fresh(&a, &tasks, &w.owner.token).await),
        ["Task from B"]
    );
    // And the other way round.
    a.create_task(&w.owner.token, &w.project, json!({"title": "Task from A"}))
        .await;
    assert_eq!(
        names(&fresh(&b, &tasks, &w.owner.token).await),
        ["Task from B", "Task from A"]
    );
    b.stop().await;
}

/// Redis unreachable: every request still succeeds from the database, and the failure is
/// counted.
#[tokio::test]
async fn without_redis_requests_go_to_the_database() {
    let app = TestApp::spawn_with(|c| {
        // Nothing listens on port 1.
        use_redis(c, "redis://127.0.0.1:1");
    })
    .await;
    let w = world(&app).await;
    let projects = format!("/v1/workspaces/{}/projects", w.ws);
    for _ in 0..3 {
        let (body, x) = get(&app, &projects, &w.owner.token).await;
        assert_eq!(x, "miss");
        assert_eq!(names(&body), ["Alpha", "Beta"]);
    }
    app.create_project(&w.owner.token, &w.ws, json!({"name": "Still works"}))
        .await;
    let (body, x) = get(&app, &projects, &w.owner.token).await;
    assert_eq!(x, "miss");
    assert_eq!(names(&body).len(), 3);

    let (status, ready) = read(app.get("/readyz").await).await;
    assert_eq!(status, StatusCode::OK, "the cache never makes us unready");
    let cache = &ready["data"]["cache"];
    assert_eq!(cache["backend"], "redis", "{cache}");
    assert_eq!(cache["available"], false, "{cache}");
    assert!(cache["failures"].as_u64().unwrap() >= 1, "{cache}");
    assert_eq!(cache["hits"], 0, "{cache}");
}

#[tokio::test]
async fn the_cache_can_be_turned_off() {
    let app = TestApp::spawn_with(|c| c.cache.enabled = false).await;
    let w = world(&app).await;
    let projects = format!("/v1/workspaces/{}/projects", w.ws);
    for _ in 0..2 {
        let (_, x) = get(&app, &projects, &w.owner.token).await;
        assert_eq!(x, "miss");
    }
    let (_, ready) = read(app.get("/readyz").await).await;
    assert_eq!(ready["data"]["cache"]["backend"], "off");
}
