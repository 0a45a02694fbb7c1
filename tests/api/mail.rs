//! The mailers against real counterparts: an SMTP server and an HTTP server written here,
//! on loopback ports the tests control, and the file mailer's `.eml` read back by a MIME
//! parser.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use kanri::config::Config;
use kanri::mail::templates::{self, InvitationFacts, TaskFacts};
use kanri::mail::{Delivery, MailError, Recipient};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const XSS: &str = "<script>alert(1)</script>";

fn config(dir: &tempfile::TempDir, mail_url: Option<String>) -> Config {
    let mut config = Config::for_data_dir(dir.path(), None);
    config.server.app_url = "https://kanri.example.com".into();
    config.mail.from = "Kanri <noreply@kanri.test>".into();
    if let Some(url) = mail_url {
        config.mail.set_url(url).unwrap();
    }
    config
}

fn task(title: &str) -> TaskFacts<'_> {
    TaskFacts {
        task_id: "task-1",
        project_id: "proj-1",
        title,
        description: Some("First line\n<b>bold?</b>"),
        project_name: "Apollo",
        due_date: Some(1_769_878_800_000),
    }
}

fn alice() -> Recipient {
    Recipient::new("alice@example.com", Some("Alice Liddell")).unwrap()
}

/// A message read back by `mail-parser`.
pub struct Parsed {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub to_name: Option<String>,
    pub content_types: Vec<String>,
    pub text: String,
    pub html: String,
}

pub fn parse(raw: &[u8]) -> Parsed {
    let msg = MessageParser::default()
        .parse(raw)
        .expect("a parseable RFC 5322 message");
    let mut parsed = Parsed {
        subject: msg.subject().unwrap_or_default().to_string(),
        from: msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        to: msg
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        to_name: msg
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            .map(str::to_string),
        content_types: Vec::new(),
        text: String::new(),
        html: String::new(),
    };
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let ct = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
        match ct.as_str() {
            "text/plain" => parsed.text = part.text_contents().unwrap().to_string(),
            "text/html" => parsed.html = part.text_contents().unwrap().to_string(),
            _ => {}
        }
        parsed.content_types.push(ct);
    }
    parsed
}

// ---------------------------------------------------------------------------------------------
// A minimal SMTP server: enough of RFC 5321 for lettre, recording what it receives. Also used
// by `worker_process`, which needs a server that leaves its first session hanging.

#[derive(Debug, Clone, Default)]
pub(crate) struct Received {
    pub(crate) auth_plain: Option<String>,
    pub(crate) mail_from: String,
    pub(crate) rcpt_to: Vec<String>,
    pub(crate) data: Vec<u8>,
}

pub(crate) struct SmtpServer {
    pub(crate) port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stalled: Arc<AtomicUsize>,
}

/// The server's replies to RCPT TO and to the end of DATA; the rest always succeed.
#[derive(Clone, Copy)]
pub(crate) struct Replies {
    rcpt: &'static str,
    data: &'static str,
}

pub(crate) const ACCEPT: Replies = Replies {
    rcpt: "250 2.1.5 ok",
    data: "250 2.0.0 queued",
};

impl SmtpServer {
    pub(crate) async fn start(replies: Replies) -> Self {
        Self::start_stalling(replies, 0).await
    }

    /// A server whose first `stall` sessions go as far as the DATA command and then get no
    /// reply at all, until the client hangs up (as a wedged relay would behave).
    pub(crate) async fn start_stalling(replies: Replies, stall: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stalled = Arc::new(AtomicUsize::new(0));
        let (store, stalls) = (received.clone(), stalled.clone());
        tokio::spawn(async move {
            let mut accepted = 0;
            while let Ok((socket, _)) = listener.accept().await {
                let stall = (accepted < stall).then(|| stalls.clone());
                accepted += 1;
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(socket, replies, store, stall).await;
                });
            }
        });
        Self {
            port,
            received,
            stalled,
        }
    }

    /// Complete messages received, in order.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many sessions have been left hanging at DATA so far.
    pub(crate) fn stalled(&self) -> usize {
        self.stalled.load(Ordering::SeqCst)
    }
}

/// One SMTP session. With `stall`, the session counts itself there on reaching DATA and then
/// only reads (and discards) until the client closes the connection.
async fn session(
    socket: tokio::net::TcpStream,
    replies: Replies,
    store: Arc<Mutex<Vec<Received>>>,
    stall: Option<Arc<AtomicUsize>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut current = Received::default();
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            // No STARTTLS offered: the client must be using tls=none.
            "250-test.local\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME".into()
        } else if upper.starts_with("HELO") || upper == "RSET" || upper == "NOOP" {
            "250 ok".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let b64 = command.split_whitespace().nth(2).unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            current.auth_plain = Some(String::from_utf8_lossy(&decoded).into_owned());
            "235 2.7.0 authenticated".into()
        } else if upper.starts_with("MAIL FROM:") {
            current.mail_from = angle(&command);
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            if replies.rcpt.starts_with('2') {
                current.rcpt_to.push(angle(&command));
            }
            replies.rcpt.into()
        } else if upper == "DATA" {
            if let Some(stalled) = &stall {
                stalled.fetch_add(1, Ordering::SeqCst);
                let mut sink = Vec::new();
                while lines.read_until(b'\n', &mut sink).await? > 0 {
                    sink.clear();
                }
                return Ok(());
            }
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if lines.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                if raw == b".\r\n" {
                    break;
                }
                // Undo dot-stuffing.
                let raw = if raw.starts_with(b"..") {
                    &raw[1..]
                } else {
                    &raw[..]
                };
                data.extend_from_slice(raw);
            }
            if replies.data.starts_with('2') {
                current.data = data;
                store.lock().unwrap().push(std::mem::take(&mut current));
            }
            replies.data.into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn angle(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command[start..end].to_string()
}

#[tokio::test]
async fn smtp_delivers_both_parts_with_escaped_user_text() {
    let server = SmtpServer::start(ACCEPT).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        &dir,
        Some(format!(
            "smtp://kanri%40example.com:p%40ss%3Aword@127.0.0.1:{}?tls=none",
            server.port
        )),
    );
    let mailer = kanri::mail::from_config(&config.mail).unwrap();
    let msg = templates::task_assigned(&config.server.app_url, alice(), &task(XSS));

    let delivery = mailer.send(&msg).await.unwrap();
    assert_eq!(
        delivery,
        Delivery::Smtp {
            host: "127.0.0.1".into()
        }
    );

    let received = server.received();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(
        got.auth_plain.as_deref(),
        Some("\0kanri@example.com\0p@ss:word"),
        "user and password are percent-decoded"
    );
    assert_eq!(got.mail_from, "noreply@kanri.test");
    assert_eq!(got.rcpt_to, ["alice@example.com"]);

    let parsed = parse(&got.data);
    assert_eq!(parsed.subject, format!("Assigned to you: {XSS}"));
    assert_eq!(parsed.from, "noreply@kanri.test");
    assert_eq!(parsed.to, "alice@example.com");
    assert_eq!(parsed.to_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(
        parsed.content_types,
        ["multipart/alternative", "text/plain", "text/html"]
    );
    assert!(!parsed.html.contains("<script"), "{}", parsed.html);
    assert!(
        parsed
            .html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        parsed.html
    );
    assert!(parsed.html.contains("&lt;b&gt;bold?&lt;/b&gt;"));
    assert!(
        parsed
            .html
            .contains("href=\"https://kanri.example.com/app/tasks/task-1\"")
    );
    assert!(
        parsed.text.contains(&format!("Task: {XSS}")),
        "{}",
        parsed.text
    );
    assert!(
        parsed
            .text
            .contains("View task: https://kanri.example.com/app/tasks/task-1")
    );
}

#[tokio::test]
async fn smtp_failures_say_whether_a_retry_can_help() {
    let dir = tempfile::tempdir().unwrap();
    let msg = templates::test_message("https://kanri.example.com", alice());
    let send = |port: u16| {
        let config = config(&dir, Some(format!("smtp://127.0.0.1:{port}?tls=none")));
        let msg = msg.clone();
        async move {
            let mailer = kanri::mail::from_config(&config.mail).unwrap();
            mailer.send(&msg).await
        }
    };

    let busy = SmtpServer::start(Replies {
        data: "451 4.3.0 try again later",
        ..ACCEPT
    })
    .await;
    let err = send(busy.port).await.unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err:?}");
    assert!(busy.received().is_empty());

    let rejecting = SmtpServer::start(Replies {
        rcpt: "550 5.1.1 no such user",
        ..ACCEPT
    })
    .await;
    let err = send(rejecting.port).await.unwrap_err();
    assert!(matches!(err, MailError::Permanent(_)), "{err:?}");

    // Nothing listens on a port that was just released: the connection is refused.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = send(closed).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn file_mailer_writes_one_parseable_eml_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir, None);
    let mailer = kanri::mail::from_config(&config.mail).unwrap();
    let facts = InvitationFacts {
        invitation_id: "inv-1",
        token: "tok123",
        workspace_name: "Acme <HQ>",
        inviter_name: "Bob",
        role: "member",
        message: Some("Hello & welcome"),
    };
    let first = mailer
        .send(&templates::invitation(
            &config.server.app_url,
            alice(),
            &facts,
        ))
        .await
        .unwrap();
    let second = mailer
        .send(&templates::password_reset(
            &config.server.app_url,
            alice(),
            "reset1",
        ))
        .await
        .unwrap();
    let (Delivery::File(first), Delivery::File(second)) = (first, second) else {
        panic!("the default mailer writes files");
    };
    let mail_dir = dir.path().join("mail");
    assert_eq!(first.parent(), Some(mail_dir.as_path()));
    assert!(first.extension().is_some_and(|e| e == "eml"));
    assert!(first < second, "names sort by time: {first:?} {second:?}");
    let mut names: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "no temporary files are left: {names:?}");

    let parsed = parse(&std::fs::read(&first).unwrap());
    assert_eq!(parsed.subject, "Bob invited you to Acme <HQ> on Kanri");
    assert_eq!(parsed.from, "noreply@kanri.test");
    assert_eq!(parsed.to, "alice@example.com");
    assert!(parsed.content_types.contains(&"text/plain".to_string()));
    assert!(parsed.content_types.contains(&"text/html".to_string()));
    let link = "https://kanri.example.com/app/invitations/inv-1?token=tok123";
    assert!(parsed.text.contains(link), "{}", parsed.text);
    assert!(parsed.html.contains(link));
    assert!(parsed.html.contains("Acme &lt;HQ&gt;"));
    assert!(parsed.html.contains("Hello &amp; welcome"));

    let reset = parse(&std::fs::read(&second).unwrap());
    assert!(
        reset
            .text
            .contains("https://kanri.example.com/app/reset?token=reset1")
    );
}

// ---------------------------------------------------------------------------------------------
// A stand-in for Resend's API: records each request and answers with a chosen status.

/// Each request's `Authorization` header and JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone)]
struct ResendState {
    status: StatusCode,
    seen: Seen,
}

async fn resend_emails(
    State(state): State<ResendState>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, axum::Json<Value>) {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    state.seen.lock().unwrap().push((auth, body));
    let reply = if state.status.is_success() {
        json!({"id": "email-1"})
    } else {
        json!({"name": "error", "message": "something is wrong"})
    };
    (state.status, axum::Json(reply))
}

async fn resend_server(status: StatusCode) -> (SocketAddr, ResendState) {
    let state = ResendState {
        status,
        seen: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/emails", axum::routing::post(resend_emails))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, state)
}

#[tokio::test]
async fn resend_posts_the_message_with_the_key_as_bearer() {
    let (addr, state) = resend_server(StatusCode::OK).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        &dir,
        Some(format!("resend://re_test_key?base_url=http://{addr}")),
    );
    let mailer = kanri::mail::from_config(&config.mail).unwrap();
    let msg = templates::due_reminder(&config.server.app_url, alice(), &task(XSS));

    let delivery = mailer.send(&msg).await.unwrap();
    assert_eq!(
        delivery,
        Delivery::Resend {
            id: Some("email-1".into())
        }
    );
    let seen = state.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (auth, body) = &seen[0];
    assert_eq!(auth.as_deref(), Some("Bearer re_test_key"));
    assert_eq!(body["from"], "Kanri <noreply@kanri.test>");
    assert_eq!(body["to"], json!(["Alice Liddell <alice@example.com>"]));
    assert_eq!(body["subject"], msg.subject());
    assert_eq!(body["html"], msg.html());
    assert_eq!(body["text"], msg.text());
    assert!(!body["html"].as_str().unwrap().contains("<script"));
}

#[tokio::test]
async fn resend_errors_are_transient_only_for_5xx_and_429() {
    let dir = tempfile::tempdir().unwrap();
    let msg = templates::test_message("https://kanri.example.com", alice());
    for (status, transient) in [
        (StatusCode::INTERNAL_SERVER_ERROR, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::UNPROCESSABLE_ENTITY, false),
        (StatusCode::UNAUTHORIZED, false),
    ] {
        let (addr, _) = resend_server(status).await;
        let config = config(
            &dir,
            Some(format!("resend://re_secret_key?base_url=http://{addr}")),
        );
        let mailer = kanri::mail::from_config(&config.mail).unwrap();
        let err = mailer.send(&msg).await.unwrap_err();
        assert_eq!(err.is_transient(), transient, "{status}: {err}");
        assert!(err.to_string().contains(status.as_str()), "{err}");
        assert!(!err.to_string().contains("re_secret_key"), "{err}");
    }
}
