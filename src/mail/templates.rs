//! The emails Kanri sends. Each builder returns a [`Message`] with an HTML and a plain-text
//! part made from the same facts.
//!
//! Escaping is by construction: a template can only add text through [`Doc`], which escapes
//! everything for the HTML part (`html-escape`), so a task titled `<script>alert(1)</script>`
//! arrives as text. The subject is made one line by [`Message::new`]. Links are built from
//! `KANRI_APP_URL` with each id or token percent-encoded.

use chrono::DateTime;
use html_escape::{encode_double_quoted_attribute, encode_text};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Message, Recipient};

/// What the task emails say about a task.
#[derive(Debug, Clone, Copy)]
pub struct TaskFacts<'a> {
    pub task_id: &'a str,
    pub project_id: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub project_name: &'a str,
    /// Epoch milliseconds, as stored.
    pub due_date: Option<i64>,
}

/// What the invitation email says.
#[derive(Debug, Clone, Copy)]
pub struct InvitationFacts<'a> {
    pub invitation_id: &'a str,
    /// The secret accept token, as sent (not its hash).
    pub token: &'a str,
    pub workspace_name: &'a str,
    pub inviter_name: &'a str,
    pub role: &'a str,
    pub message: Option<&'a str>,
}

/// "You were assigned …", with a "View task" button.
pub fn task_assigned(app_url: &str, to: Recipient, task: &TaskFacts<'_>) -> Message {
    let mut doc = Doc::new("You have been assigned a task");
    doc.para(&format!(
        "You are now the assignee of a task in {}.",
        task.project_name
    ));
    task_details(&mut doc, task);
    doc.button("View task", &task_link(app_url, task));
    doc.finish(to, &format!("Assigned to you: {}", task.title))
}

/// "… is due …", with a "View task" button.
pub fn due_reminder(app_url: &str, to: Recipient, task: &TaskFacts<'_>) -> Message {
    let when = task.due_date.map(format_time);
    let mut doc = Doc::new("A task assigned to you is due");
    match &when {
        Some(when) => doc.para(&format!(
            "This task in {} is due {when}.",
            task.project_name
        )),
        None => doc.para(&format!("This task in {} is due.", task.project_name)),
    }
    task_details(&mut doc, task);
    doc.button("View task", &task_link(app_url, task));
    let subject = match &when {
        Some(when) => format!("Due {when}: {}", task.title),
        None => format!("Due: {}", task.title),
    };
    doc.finish(to, &subject)
}

/// An invitation to a workspace, with an accept link carrying the token.
pub fn invitation(app_url: &str, to: Recipient, inv: &InvitationFacts<'_>) -> Message {
    let mut doc = Doc::new(&format!("Join {} on Kanri", inv.workspace_name));
    doc.para(&format!(
        "{} invited you to the workspace {} as {}.",
        inv.inviter_name, inv.workspace_name, inv.role
    ));
    if let Some(message) = inv.message.filter(|m| !m.trim().is_empty()) {
        doc.quote(&format!("{} wrote", inv.inviter_name), message);
    }
    let link = format!(
        "{app_url}/app/invitations/{}?token={}",
        segment(inv.invitation_id),
        segment(inv.token)
    );
    doc.button("Accept invitation", &link);
    doc.para("If you did not expect this invitation, you can ignore this email.");
    doc.finish(
        to,
        &format!(
            "{} invited you to {} on Kanri",
            inv.inviter_name, inv.workspace_name
        ),
    )
}

/// A password-reset link; the token expires in one hour.
pub fn password_reset(app_url: &str, to: Recipient, token: &str) -> Message {
    let mut doc = Doc::new("Reset your password");
    doc.para("Someone asked to reset the password of your Kanri account.");
    doc.button(
        "Choose a new password",
        &format!("{app_url}/app/reset?token={}", segment(token)),
    );
    doc.para("The link expires in 1 hour and works once.");
    doc.para("If you did not ask for this, ignore this email: your password stays as it is.");
    doc.finish(to, "Reset your Kanri password")
}

/// What `kanri mail test` sends, to check the mail settings.
pub fn test_message(app_url: &str, to: Recipient) -> Message {
    let mut doc = Doc::new("Kanri can send email");
    doc.para("This is a test message from Kanri. If you can read it, mail delivery works.");
    doc.button("Open Kanri", app_url);
    doc.finish(to, "Kanri test message")
}

fn task_details(doc: &mut Doc, task: &TaskFacts<'_>) {
    doc.fact("Task", task.title);
    doc.fact("Project", task.project_name);
    if let Some(due) = task.due_date {
        doc.fact("Due", &format_time(due));
    }
    if let Some(description) = task.description.filter(|d| !d.trim().is_empty()) {
        doc.quote("Description", description);
    }
}

fn task_link(app_url: &str, task: &TaskFacts<'_>) -> String {
    format!("{app_url}/app/tasks/{}", segment(task.task_id))
}

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn segment(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `Sat, 31 Jan 2026 17:00 UTC`.
fn format_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a, %-d %b %Y %H:%M UTC")
        .to_string()
}

/// An email body written twice as it is built: as escaped HTML and as plain text.
struct Doc {
    heading: String,
    html: String,
    text: String,
}

const P: &str = "margin:0 0 16px;font-size:15px;line-height:1.5;color:#27272a";

impl Doc {
    fn new(heading: &str) -> Self {
        Self {
            heading: heading.to_string(),
            html: format!(
                "<h1 style=\"margin:0 0 20px;font-size:20px;color:#18181b\">{}</h1>\n",
                encode_text(heading)
            ),
            text: format!("{heading}\n\n"),
        }
    }

    fn para(&mut self, text: &str) {
        self.html
            .push_str(&format!("<p style=\"{P}\">{}</p>\n", multiline(text)));
        self.text.push_str(&format!("{text}\n\n"));
    }

    fn fact(&mut self, label: &str, value: &str) {
        self.html.push_str(&format!(
            "<p style=\"{P}\"><strong>{}:</strong> {}</p>\n",
            encode_text(label),
            multiline(value)
        ));
        self.text.push_str(&format!("{label}: {value}\n\n"));
    }

    fn quote(&mut self, label: &str, body: &str) {
        self.html.push_str(&format!(
            "<p style=\"{P}\"><strong>{}:</strong></p>\n\
             <blockquote style=\"margin:0 0 16px;padding:8px 16px;border-left:3px solid #d4d4d8;\
             color:#3f3f46;font-size:15px;line-height:1.5\">{}</blockquote>\n",
            encode_text(label),
            multiline(body)
        ));
        let quoted: Vec<String> = body.lines().map(|l| format!("> {l}")).collect();
        self.text
            .push_str(&format!("{label}:\n{}\n\n", quoted.join("\n")));
    }

    fn button(&mut self, label: &str, url: &str) {
        self.html.push_str(&format!(
            "<p style=\"margin:24px 0\"><a href=\"{}\" style=\"display:inline-block;\
             padding:10px 20px;background:#2563eb;color:#ffffff;border-radius:6px;\
             text-decoration:none;font-weight:600\">{}</a></p>\n",
            encode_double_quoted_attribute(url),
            encode_text(label)
        ));
        self.text.push_str(&format!("{label}: {url}\n\n"));
    }

    fn finish(self, to: Recipient, subject: &str) -> Message {
        let html = format!(
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width\">\n<title>{}</title>\n</head>\n\
             <body style=\"margin:0;padding:24px;background:#f4f4f5;\
             font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif\">\n\
             <div style=\"max-width:560px;margin:0 auto;padding:32px;background:#ffffff;\
             border-radius:8px\">\n{}</div>\n\
             <p style=\"max-width:560px;margin:16px auto;font-size:12px;color:#71717a\">\
             Sent by Kanri.</p>\n</body>\n</html>\n",
            encode_text(&self.heading),
            self.html
        );
        let text = format!("{}-- \nSent by Kanri.\n", self.text);
        Message::new(to, subject, html, text)
    }
}

/// Escaped text whose line breaks survive as `<br>`.
fn multiline(text: &str) -> String {
    text.lines()
        .map(|l| encode_text(l).into_owned())
        .collect::<Vec<_>>()
        .join("<br>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "https://kanri.example.com";
    const XSS: &str = "<script>alert(1)</script>";

    fn to() -> Recipient {
        Recipient::new("ann@example.com", Some("Ann")).unwrap()
    }

    fn task<'a>(title: &'a str, description: Option<&'a str>) -> TaskFacts<'a> {
        TaskFacts {
            task_id: "t-1",
            project_id: "p-1",
            title,
            description,
            project_name: "Apollo & <Co>",
            due_date: Some(1_769_878_800_000),
        }
    }

    /// Every `<` in the HTML part opens one of the template's own tags.
    fn assert_no_foreign_tags(html: &str) {
        let allowed = [
            "!DOCTYPE",
            "html",
            "head",
            "meta",
            "title",
            "body",
            "div",
            "p",
            "h1",
            "strong",
            "blockquote",
            "a ",
            "br",
            "/",
        ];
        for (i, _) in html.match_indices('<') {
            let rest = &html[i + 1..];
            assert!(
                allowed.iter().any(|t| rest.starts_with(t)) && !rest.starts_with("/script"),
                "unexpected tag at {i}: {}",
                &rest[..rest.len().min(30)]
            );
        }
    }

    #[test]
    fn escaping_uses_entities_for_markup() {
        assert_eq!(encode_text(XSS), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(
            encode_double_quoted_attribute("x\"onmouseover=\"y"),
            "x&quot;onmouseover=&quot;y"
        );
        assert_eq!(multiline("a<b\nc&d"), "a&lt;b<br>\nc&amp;d");
    }

    #[test]
    fn task_assigned_has_both_parts_with_escaped_user_text() {
        let msg = task_assigned(APP, to(), &task(XSS, Some("line 1\n<b>line 2</b>")));
        assert_eq!(msg.subject(), format!("Assigned to you: {XSS}"));
        let html = msg.html();
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("line 1<br>\n&lt;b&gt;line 2&lt;/b&gt;"),
            "{html}"
        );
        assert!(html.contains("Apollo &amp; &lt;Co&gt;"), "{html}");
        assert!(html.contains(&format!("href=\"{APP}/app/tasks/t-1\"")));
        assert!(html.contains(">View task</a>"));
        assert!(html.contains("Sat, 31 Jan 2026 17:00 UTC"));
        assert_no_foreign_tags(html);

        let text = msg.text();
        assert!(text.contains(&format!("Task: {XSS}")), "{text}");
        assert!(text.contains("Project: Apollo & <Co>"));
        assert!(text.contains("> line 1\n> <b>line 2</b>"), "{text}");
        assert!(text.contains(&format!("View task: {APP}/app/tasks/t-1")));
        assert!(text.contains("Due: Sat, 31 Jan 2026 17:00 UTC"));
    }

    #[test]
    fn due_reminder_says_when() {
        let msg = due_reminder(APP, to(), &task("Ship it", None));
        assert_eq!(msg.subject(), "Due Sat, 31 Jan 2026 17:00 UTC: Ship it");
        assert!(msg.html().contains("is due Sat, 31 Jan 2026 17:00 UTC"));
        assert!(msg.text().contains("is due Sat, 31 Jan 2026 17:00 UTC"));
        assert!(!msg.text().contains("Description"));
        assert!(msg.text().contains("View task: "));
        let undated = TaskFacts {
            due_date: None,
            ..task("Ship it", None)
        };
        assert_eq!(due_reminder(APP, to(), &undated).subject(), "Due: Ship it");
    }

    #[test]
    fn invitation_links_the_token_and_escapes_the_message() {
        let facts = InvitationFacts {
            invitation_id: "inv-1",
            token: "tok+/=en",
            workspace_name: "Acme <HQ>",
            inviter_name: "Bob \"B\"",
            role: "admin",
            message: Some("Welcome!\n<img src=x onerror=alert(1)>"),
        };
        let msg = invitation(APP, to(), &facts);
        let link = format!("{APP}/app/invitations/inv-1?token=tok%2B%2F%3Den");
        assert!(msg.text().contains(&link), "{}", msg.text());
        assert!(msg.html().contains(&format!("href=\"{link}\"")));
        assert!(msg.html().contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(msg.html().contains("Acme &lt;HQ&gt;"));
        assert!(msg.text().contains("as admin."));
        assert!(msg.text().contains("> Welcome!"));
        assert_eq!(msg.subject(), "Bob \"B\" invited you to Acme <HQ> on Kanri");
        assert_no_foreign_tags(msg.html());

        let quiet = invitation(
            APP,
            to(),
            &InvitationFacts {
                message: None,
                ..facts
            },
        );
        assert!(!quiet.text().contains("wrote"));
    }

    #[test]
    fn password_reset_and_test_message() {
        let msg = password_reset(APP, to(), "abc123");
        let link = format!("{APP}/app/reset?token=abc123");
        assert!(msg.text().contains(&link) && msg.html().contains(&link));
        assert!(msg.text().contains("expires in 1 hour"));
        assert!(msg.html().contains("expires in 1 hour"));

        let msg = test_message(APP, to());
        assert_eq!(msg.subject(), "Kanri test message");
        assert!(msg.text().contains("mail delivery works"));
        assert!(msg.html().contains("mail delivery works"));
    }

    #[test]
    fn subjects_built_from_user_text_stay_on_one_line() {
        let msg = task_assigned(APP, to(), &task("a\r\nBcc: evil@example.com", None));
        assert_eq!(msg.subject(), "Assigned to you: a Bcc: evil@example.com");
    }
}
