//! Invitations: create, list, revoke, accept and reject over HTTP, expiry, and the role ×
//! action matrix.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, read};

/// Invites `email` to `ws` as `token`, expecting success; returns the created invitation.
async fn invite(app: &TestApp, token: &str, ws: &str, body: Value) -> Value {
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/v1/workspaces/{ws}/invitations"),
            token,
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Send the invitation email now, as a worker would, so the invitee holds its token.
    app.run_due_jobs(kanri::clock::now_ms()).await;
    body["data"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn invite_then_accept_makes_a_member_once() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let invitee = app.register("Invitee@Example.com").await;
    let stranger = app.register("stranger@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let list_path = format!("/v1/workspaces/{ws}/invitations");

    let created = invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "INVITEE@example.com", "role": "admin", "message": "  Join us!  "}),
    )
    .await;
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["role"], "ADMIN");
    assert_eq!(created["email"], "INVITEE@example.com");
    assert_eq!(created["message"], "Join us!");
    assert_eq!(created["workspace_id"], ws.as_str());
    assert_eq!(created["workspace_name"], "Team");
    assert_eq!(created["invited_by"], owner.user_id.as_str());
    assert!(created["responded_at"].is_null());
    assert!(
        created.get("token").is_none(),
        "the token goes only to the invited address"
    );
    let created_at =
        chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires_at - created_at).num_seconds(), 7 * 24 * 3600);
    let inv = id(&created);

    // The token is never in a list either.
    let (status, list) = app.call(Method::GET, &list_path, &owner.token, None).await;
    assert_eq!(status, StatusCode::OK);
    let items = list["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("token").is_none(), "{list}");
    let token = app.invitation_token(&inv).await;
    assert!(!list.to_string().contains(&token));

    // The same address again (in any case) is a conflict; so is inviting a member.
    let (status, body) = app
        .call(
            Method::POST,
            &list_path,
            &owner.token,
            Some(json!({"email": "invitee@EXAMPLE.com"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_exists"))
    );
    let (status, body) = app
        .call(
            Method::POST,
            &list_path,
            &owner.token,
            Some(json!({"email": "Owner@example.com"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );

    // The invitee sees it among their own; the stranger neither sees nor answers it.
    let (_, mine) = app
        .call(Method::GET, "/v1/invitations", &invitee.token, None)
        .await;
    assert_eq!(mine["data"]["items"][0]["id"], inv.as_str());
    assert_eq!(mine["data"]["items"][0]["workspace_name"], "Team");
    let (_, theirs) = app
        .call(Method::GET, "/v1/invitations", &stranger.token, None)
        .await;
    assert_eq!(theirs["data"]["items"], json!([]));
    for action in ["accept", "reject"] {
        let (status, body) = app
            .answer_invitation("/v1", &inv, action, &stranger.token)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}: {body}");
    }
    // The inviter is not the invitee either.
    let (status, _) = app
        .answer_invitation("/v1", &inv, "accept", &owner.token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = app
        .answer_invitation("/v1", &inv, "accept", &invitee.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["invitation"]["status"], "ACCEPTED");
    assert!(body["data"]["invitation"]["responded_at"].is_string());
    assert_eq!(body["data"]["member"]["user_id"], invitee.user_id.as_str());
    assert_eq!(body["data"]["member"]["role"], "ADMIN");
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{ws}"),
            &invitee.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["role"], "ADMIN");

    // Answering twice, or revoking an answered invitation, is refused.
    for (method, path, who) in [
        (
            Method::POST,
            format!("/v1/invitations/{inv}/accept"),
            &invitee,
        ),
        (
            Method::POST,
            format!("/v1/invitations/{inv}/reject"),
            &invitee,
        ),
        (Method::DELETE, format!("/v1/invitations/{inv}"), &owner),
    ] {
        let answer =
            (method == Method::POST).then_some(json!({"token": app.invitation_token(&inv).await}));
        let (status, body) = app.call(method.clone(), &path, &who.token, answer).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("invitation_not_pending")),
            "{method} {path}"
        );
    }
    let (_, list) = app
        .call(
            Method::GET,
            &format!("{list_path}?status=accepted"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(list["data"]["items"][0]["id"], inv.as_str());
    let (_, mine) = app
        .call(Method::GET, "/v1/invitations", &invitee.token, None)
        .await;
    assert_eq!(mine["data"]["items"], json!([]));
    let (status, body) = app
        .call(
            Method::POST,
            &list_path,
            &owner.token,
            Some(json!({"email": "invitee@example.com"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );
}

#[tokio::test]
async fn reject_and_revoke_leave_no_membership() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let alice = app.register("alice@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let list_path = format!("/v1/workspaces/{ws}/invitations");

    let to_alice = id(&invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "alice@example.com"}),
    )
    .await);
    let (status, body) = app
        .answer_invitation("/v1", &to_alice, "reject", &alice.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "REJECTED");
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{ws}"),
            &alice.token,
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "rejecting adds no membership"
    );
    let (status, body) = app
        .answer_invitation("/v1", &to_alice, "accept", &alice.token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_not_pending"))
    );

    // An address with no account yet can be invited; a revoked invitation cannot be accepted.
    let to_bob = id(&invite(&app, &owner.token, &ws, json!({"email": "bob@example.com"})).await);
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/invitations/{to_bob}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "REVOKED");
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/invitations/{to_bob}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_not_pending"))
    );
    let bob = app.register("bob@example.com").await;
    let (status, body) = app
        .answer_invitation("/v1", &to_bob, "accept", &bob.token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_not_pending"))
    );

    // After a rejection or revocation the address may be invited again.
    invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "alice@example.com"}),
    )
    .await;
    invite(&app, &owner.token, &ws, json!({"email": "bob@example.com"})).await;
    let (_, list) = app.call(Method::GET, &list_path, &owner.token, None).await;
    let statuses: Vec<&str> = list["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["REJECTED", "REVOKED", "PENDING", "PENDING"]);
    let (_, pending) = app
        .call(
            Method::GET,
            &format!("{list_path}?status=PENDING"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(pending["data"]["items"].as_array().unwrap().len(), 2);
    let (status, body) = app
        .call(
            Method::GET,
            &format!("{list_path}?status=lost"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );

    // Pages of one walk every invitation once.
    let mut seen = Vec::new();
    let mut url = format!("{list_path}?limit=1");
    loop {
        let (status, body) = app.call(Method::GET, &url, &owner.token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["data"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        seen.push(id(&items[0]));
        match body["data"]["next_cursor"].as_str() {
            Some(c) => url = format!("{list_path}?limit=1&cursor={c}"),
            None => break,
        }
    }
    let ids: Vec<String> = list["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn input_is_checked() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    let path = format!("/v1/workspaces/{ws}/invitations");

    for (body, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"email": "x@example.com", "role": "OWNER"}), "role"),
        (json!({"email": "x@example.com", "role": "boss"}), "role"),
        (
            json!({"email": "x@example.com", "message": "x".repeat(1001)}),
            "message",
        ),
        (
            json!({"email": "x@example.com", "custom_role_id": "no-such-role"}),
            "custom_role_id",
        ),
    ] {
        let (status, res) = app
            .call(Method::POST, &path, &owner.token, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{res}");
        assert_eq!(res["details"][0]["field"], field, "{res}");
    }
    // Exactly 1000 characters is fine; an admin may invite an admin.
    invite(
        &app,
        &admin.token,
        &ws,
        json!({"email": "x@example.com", "role": "ADMIN", "message": "é".repeat(1000)}),
    )
    .await;
    let (status, _) = app
        .call(
            Method::POST,
            &path,
            &owner.token,
            Some(json!({"role": "MEMBER"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "email is required"
    );
    let (status, _) = app
        .call(
            Method::GET,
            "/v1/invitations/nope/accept",
            &owner.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = app
        .call(
            Method::POST,
            "/v1/invitations/nope/accept",
            &owner.token,
            Some(json!({"token": "A".repeat(43)})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invitations_expire() {
    let app = TestApp::spawn_with(|c| c.auth.invitation_ttl = Duration::from_millis(1500)).await;
    let owner = app.register("owner@example.com").await;
    let invitee = app.register("late@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let list_path = format!("/v1/workspaces/{ws}/invitations");
    let inv = id(&invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "late@example.com"}),
    )
    .await);
    tokio::time::sleep(Duration::from_millis(1700)).await;

    for action in ["accept", "reject"] {
        let (status, body) = app
            .answer_invitation("/v1", &inv, action, &invitee.token)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("invitation_expired")),
            "{action}"
        );
    }
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/v1/invitations/{inv}"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invitation_not_pending"))
    );
    let (_, list) = app.call(Method::GET, &list_path, &owner.token, None).await;
    assert_eq!(list["data"]["items"][0]["status"], "EXPIRED");
    let (_, expired) = app
        .call(
            Method::GET,
            &format!("{list_path}?status=expired"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(expired["data"]["items"].as_array().unwrap().len(), 1);
    let (_, pending) = app
        .call(
            Method::GET,
            &format!("{list_path}?status=pending"),
            &owner.token,
            None,
        )
        .await;
    assert_eq!(pending["data"]["items"], json!([]));
    let (_, mine) = app
        .call(Method::GET, "/v1/invitations", &invitee.token, None)
        .await;
    assert_eq!(
        mine["data"]["items"],
        json!([]),
        "expired ones are not offered"
    );

    // An expired invitation does not block a new one, which can be accepted in time.
    let again = id(&invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "late@example.com"}),
    )
    .await);
    let (status, body) = app
        .answer_invitation("/v1", &again, "accept", &invitee.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["member"]["role"], "MEMBER");
}

#[tokio::test]
async fn concurrent_invitations_of_one_address_make_one() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let req = app
            .as_user(
                Method::POST,
                &format!("/v1/workspaces/{ws}/invitations"),
                &owner.token,
            )
            .json(&json!({"email": "same@example.com"}));
        attempts.spawn(async move {
            let (status, body) = read(req.send().await.unwrap()).await;
            (status, body["code"].as_str().map(str::to_string))
        });
    }
    let results = attempts.join_all().await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
    assert!(
        results.iter().all(|(s, code)| *s == StatusCode::CREATED
            || (*s == StatusCode::CONFLICT && code.as_deref() == Some("invitation_exists"))),
        "{results:?}"
    );
}

#[tokio::test]
async fn another_tenants_user_with_the_same_email_cannot_answer() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let inv = id(&invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "twin@example.com"}),
    )
    .await);
    let globex = app.create_tenant("Globex").await;
    let twin = app
        .register_with("twin@example.com", Some(&globex.publishable_key))
        .await;
    // Even holding the emailed token, the other tenant's twin finds nothing.
    let token = app.invitation_token(&inv).await;
    for (method, path) in [
        (Method::POST, format!("/v1/invitations/{inv}/accept")),
        (Method::POST, format!("/v1/invitations/{inv}/reject")),
        (Method::DELETE, format!("/v1/invitations/{inv}")),
    ] {
        let res = app
            .as_user(method, &path, &twin.token)
            .json(&json!({"token": token}))
            .send()
            .await
            .unwrap();
        expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let (_, mine) = app
        .call(Method::GET, "/v1/invitations", &twin.token, None)
        .await;
    assert_eq!(mine["data"]["items"], json!([]));
}

/// Who may create, list and revoke invitations: owner, admin, member, viewer, a user outside
/// the workspace, and a user of another tenant.
#[tokio::test]
async fn role_action_matrix() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let globex = app.create_tenant("Globex").await;
    let foreigner = app
        .register_with("foreigner@example.com", Some(&globex.publishable_key))
        .await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    app.add_member(&owner.token, &ws, &admin, "ADMIN").await;
    app.add_member(&owner.token, &ws, &member, "MEMBER").await;
    app.add_member(&owner.token, &ws, &viewer, "VIEWER").await;
    let path = format!("/v1/workspaces/{ws}/invitations");

    use StatusCode as S;
    let actors = [
        ("owner", &owner, S::CREATED, S::OK, S::OK),
        ("admin", &admin, S::CREATED, S::OK, S::OK),
        ("member", &member, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN),
        ("viewer", &viewer, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN),
        (
            "non-member",
            &outsider,
            S::NOT_FOUND,
            S::NOT_FOUND,
            S::NOT_FOUND,
        ),
        (
            "other tenant",
            &foreigner,
            S::NOT_FOUND,
            S::NOT_FOUND,
            S::NOT_FOUND,
        ),
    ];
    for (name, who, create, list, revoke) in actors {
        let (status, body) = app
            .call(
                Method::POST,
                &path,
                &who.token,
                Some(json!({"email": format!("new-by-{}@example.com", name.replace(' ', "-"))})),
            )
            .await;
        assert_eq!(status, create, "{name} create: {body}");
        if status.is_client_error() {
            assert_eq!(
                body["code"],
                if status == S::FORBIDDEN {
                    "forbidden"
                } else {
                    "not_found"
                },
                "{name}"
            );
        }

        let (status, body) = app.call(Method::GET, &path, &who.token, None).await;
        assert_eq!(status, list, "{name} list: {body}");

        let target = id(&invite(
            &app,
            &owner.token,
            &ws,
            json!({"email": format!("revoke-by-{}@example.com", name.replace(' ', "-"))}),
        )
        .await);
        let (status, body) = app
            .call(
                Method::DELETE,
                &format!("/v1/invitations/{target}"),
                &who.token,
                None,
            )
            .await;
        assert_eq!(status, revoke, "{name} revoke: {body}");
        // Whatever happened, the invitation is revoked only when the caller was allowed to.
        let (_, list) = app
            .call(
                Method::GET,
                &format!("{path}?status=revoked"),
                &owner.token,
                None,
            )
            .await;
        let revoked = list["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == target.as_str());
        assert_eq!(revoked, revoke == S::OK, "{name}");
    }
}

/// Sign-up does not verify addresses, so owning the invited address must be proven with the
/// emailed token: registering that address first is not enough to take the invitation.
#[tokio::test]
async fn registering_the_invited_address_does_not_take_the_invitation() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner@example.com").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let created = invite(
        &app,
        &owner.token,
        &ws,
        json!({"email": "victim@example.com", "role": "admin"}),
    )
    .await;
    let inv = id(&created);
    // Someone registers the invited address and finds the invitation in their list…
    let squatter = app.register("victim@example.com").await;
    let (_, mine) = app
        .call(Method::GET, "/v1/invitations", &squatter.token, None)
        .await;
    assert_eq!(mine["data"]["items"][0]["id"], inv.as_str());
    // …but without the emailed token cannot answer it.
    for body in [
        json!({"token": "A".repeat(43)}),
        json!({"token": ""}),
        json!({}),
    ] {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/v1/invitations/{inv}/accept"),
                &squatter.token,
                Some(body.clone()),
            )
            .await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {status}"
        );
    }
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/v1/workspaces/{ws}"),
            &squatter.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member");
    // The holder of the emailed token can.
    let (status, body) = app
        .answer_invitation("/v1", &inv, "accept", &squatter.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
