//! `kanri demo`: a living workspace for a newcomer — people, projects, a few hundred tasks
//! with varied statuses, priorities, types, assignees and due dates, and comments — made
//! through the same use cases the API calls, so activity, search indexing, reminders and
//! assignment emails follow as they would for real data. Tasks carry the workspace's labels,
//! some are subtasks of others, and a few repeat weekly.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db;
use crate::domain::enums::WorkspaceRole;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::accounts::{self, NewUserInput};
use crate::services::members::{self, UserRef};
use crate::services::passwords::Passwords;
use crate::services::projects::{self, ProjectInput};
use crate::services::tasks::{self, TaskInput};
use crate::services::{comments, labels, workspaces};

/// The workspace's labels: name and colour.
const LABELS: [(&str, &str); 5] = [
    ("bug", "#d73a4a"),
    ("design", "#a371f7"),
    ("backend", "#0969da"),
    ("customer", "#1f883d"),
    ("tech-debt", "#9a6700"),
];

/// The people, first the workspace's owner.
const PEOPLE: [(&str, &str, WorkspaceRole); 6] = [
    ("Maya Chen", "maya", WorkspaceRole::Owner),
    ("Jonas Weber", "jonas", WorkspaceRole::Admin),
    ("Aiko Tanaka", "aiko", WorkspaceRole::Member),
    ("Samuel Okafor", "samuel", WorkspaceRole::Member),
    ("Lucía Romero", "lucia", WorkspaceRole::Member),
    ("Priya Nair", "priya", WorkspaceRole::Viewer),
];

struct ProjectPlan {
    name: &'static str,
    description: &'static str,
    status: &'static str,
    priority: &'static str,
    /// Indexes into `PEOPLE`; the first leads it.
    team: &'static [usize],
    tasks: usize,
    /// Share of its tasks done, in percent (the rest split between to do and in progress).
    done_percent: u64,
}

const PROJECTS: [ProjectPlan; 4] = [
    ProjectPlan {
        name: "Mobile app 2.0",
        description: "The rebuilt iOS and Android app: offline boards, push notifications, \
                      a faster start.",
        status: "ACTIVE",
        priority: "HIGH",
        team: &[1, 2, 3, 4],
        tasks: 110,
        done_percent: 35,
    },
    ProjectPlan {
        name: "Website relaunch",
        description: "New marketing site, docs search and the pricing page.",
        status: "ACTIVE",
        priority: "MEDIUM",
        team: &[0, 4, 2],
        tasks: 80,
        done_percent: 55,
    },
    ProjectPlan {
        name: "Customer onboarding",
        description: "From sign-up to first board in five minutes: guided setup, templates, \
                      import.",
        status: "PLANNING",
        priority: "MEDIUM",
        team: &[3, 1, 4],
        tasks: 60,
        done_percent: 5,
    },
    ProjectPlan {
        name: "Platform reliability",
        description: "On-call, backups, alerting and the quarterly restore drill.",
        status: "ON_HOLD",
        priority: "LOW",
        team: &[1, 3],
        tasks: 50,
        done_percent: 70,
    },
];

const VERBS: [&str; 12] = [
    "Design", "Build", "Fix", "Review", "Test", "Document", "Refactor", "Measure", "Ship",
    "Polish", "Plan", "Remove",
];

const SUBJECTS: [&str; 24] = [
    "the sign-in screen",
    "push notification settings",
    "offline sync of boards",
    "the pricing page",
    "search result ranking",
    "the CSV import",
    "dark mode colours",
    "the invite flow",
    "password reset emails",
    "board drag and drop",
    "the weekly digest",
    "API rate limit errors",
    "attachment previews",
    "the release checklist",
    "due date reminders",
    "the onboarding checklist",
    "keyboard shortcuts",
    "the billing page",
    "crash reporting",
    "the activity feed",
    "workspace templates",
    "the status page",
    "slow project lists",
    "the backup restore drill",
];

const COMMENTS: [&str; 12] = [
    "I can take this one after the current sprint.",
    "Blocked on the API change; I'll follow up tomorrow.",
    "Pushed a first version, feedback welcome.",
    "Can we split this into two tasks? The second half is bigger than it looks.",
    "Tested on Android and iOS, works for me.",
    "Design is in the shared folder, see the second frame.",
    "This came up in three support tickets this week.",
    "Moving the due date: waiting for the copy from marketing.",
    "Looks good. Merging after CI.",
    "Found an edge case with empty workspaces, adding a test.",
    "Let's pair on this on Thursday.",
    "Done, but the docs still need a screenshot.",
];

/// What `kanri demo` made, for printing.
#[derive(Debug, Clone, Serialize)]
pub struct Demo {
    pub workspace_id: String,
    pub workspace_name: String,
    /// Every demo user signs in with this password.
    pub password: String,
    pub users: Vec<DemoUser>,
    pub projects: usize,
    pub tasks: usize,
    pub comments: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    pub name: String,
    pub email: String,
    pub role: WorkspaceRole,
}

/// A small deterministic generator (xorshift64*), so every demo looks alike.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fills the install with the demo workspace in the default tenant, every user with
/// `password`. Refused when any workspace exists, unless `force`; then the addresses get a
/// `+tag` so they do not collide with an earlier demo's.
pub async fn create(
    cx: &Ctx,
    passwords: &Passwords,
    password: &str,
    force: bool,
) -> AppResult<Demo> {
    let existing = db::workspaces::count_all(cx.db.read()).await?;
    if existing > 0 && !force {
        return Err(AppError::Conflict {
            code: "not_empty",
            message: format!(
                "this install already has {existing} workspace(s); kanri demo fills a fresh \
                 one (pass --force to add the demo workspace anyway)"
            ),
        });
    }
    let tenant = db::tenants::DEFAULT_TENANT_ID;
    let tag = if existing > 0 {
        format!(
            "+{}",
            crate::domain::secret_token::random_base62(5).to_lowercase()
        )
    } else {
        String::new()
    };
    let mut users = Vec::new();
    let mut ids = Vec::new();
    for (name, handle, role) in PEOPLE {
        let email = format!("{handle}{tag}@example.com");
        let input = NewUserInput {
            email: &email,
            name,
            password: Some(password),
        };
        let user = accounts::create_user(cx, passwords, tenant, input).await?;
        ids.push(user.id);
        users.push(DemoUser {
            name: name.into(),
            email,
            role,
        });
    }
    let actor = |i: usize| Actor {
        tenant_id: tenant.into(),
        user_id: ids[i].clone(),
    };
    let owner = actor(0);
    let workspace = workspaces::create(
        cx,
        &owner,
        workspaces::NewWorkspace {
            name: "Acme Product Team",
            slug: None,
            image_url: None,
        },
    )
    .await?;
    for (i, (_, _, role)) in PEOPLE.iter().enumerate().skip(1) {
        members::add(cx, &owner, &workspace.id, UserRef::Id(&ids[i]), *role, None).await?;
    }
    let mut label_ids = Vec::new();
    for (name, color) in LABELS {
        let label = labels::create(cx, &owner, &workspace.id, name, Some(color)).await?;
        label_ids.push(label.id);
    }
    let mut dice = Dice(0x6b61_6e72_6964_656d);
    let now = now_ms();
    let (mut task_count, mut comment_count) = (0, 0);
    for plan in &PROJECTS {
        let team: Vec<UserRef<'_>> = plan.team.iter().map(|&i| UserRef::Id(&ids[i])).collect();
        let project = projects::create(
            cx,
            &owner,
            &workspace.id,
            ProjectInput {
                name: Some(plan.name),
                description: Some(Some(plan.description)),
                status: Some(plan.status),
                priority: Some(plan.priority),
                team_lead: Some(Some(UserRef::Id(&ids[plan.team[0]]))),
                ..ProjectInput::default()
            },
            &team,
        )
        .await?;
        let mut previous: Option<String> = None;
        for n in 0..plan.tasks {
            let place = Place {
                project_id: &project.id,
                labels: &label_ids,
                parent: previous.as_deref(),
            };
            let (made, said, id) = one_task(cx, &mut dice, plan, &place, n, now, &actor).await?;
            previous = Some(id);
            task_count += made;
            comment_count += said;
        }
    }
    Ok(Demo {
        workspace_id: workspace.id,
        workspace_name: workspace.name,
        password: password.into(),
        users,
        projects: PROJECTS.len(),
        tasks: task_count,
        comments: comment_count,
    })
}

/// Where a demo task goes: its project, the labels to draw from, the task made before it (a
/// possible parent).
struct Place<'a> {
    project_id: &'a str,
    labels: &'a [String],
    parent: Option<&'a str>,
}

/// One task of `plan` (created by a team member, maybe assigned, maybe due, maybe labelled, a
/// subtask or repeating) and 0–3 comments; returns the counts and the task's id.
async fn one_task(
    cx: &Ctx,
    dice: &mut Dice,
    plan: &ProjectPlan,
    place: &Place<'_>,
    n: usize,
    now: i64,
    actor: &impl Fn(usize) -> Actor,
) -> AppResult<(usize, usize, String)> {
    const DAY: i64 = 24 * 3_600_000;
    let title = format!("{} {}", dice.pick(&VERBS), dice.pick(&SUBJECTS));
    let roll = dice.next() % 100;
    let status = if roll < plan.done_percent {
        "DONE"
    } else if roll < plan.done_percent + (100 - plan.done_percent) / 3 {
        "IN_PROGRESS"
    } else {
        "TODO"
    };
    let kind = *dice.pick(&[
        "TASK",
        "TASK",
        "TASK",
        "BUG",
        "BUG",
        "FEATURE",
        "IMPROVEMENT",
    ]);
    let priority = *dice.pick(&["LOW", "MEDIUM", "MEDIUM", "HIGH"]);
    let assignee = (dice.below(5) > 0).then(|| actor(*dice.pick(plan.team)).user_id);
    // Due dates from two weeks ago (some overdue) to six weeks ahead; a third have none.
    let due = (dice.below(3) > 0).then(|| to_rfc3339(now + (dice.below(56) as i64 - 14) * DAY));
    let description = format!(
        "Part of {}. Task {} of {}: keep the change small and note anything surprising here.",
        plan.name,
        n + 1,
        plan.tasks
    );
    let author = actor(*dice.pick(plan.team));
    // Half the tasks carry one or two labels; one in eight is a subtask of the one before;
    // one in twenty repeats weekly.
    let task_labels: Vec<String> = match dice.below(4) {
        0 | 1 => Vec::new(),
        2 => vec![dice.pick(place.labels).clone()],
        _ => {
            let (a, b) = (
                dice.pick(place.labels).clone(),
                dice.pick(place.labels).clone(),
            );
            if a == b { vec![a] } else { vec![a, b] }
        }
    };
    let parent = place.parent.filter(|_| dice.below(8) == 0);
    let repeats = (dice.below(20) == 0 && status != "DONE").then_some("FREQ=WEEKLY");
    let task = tasks::create(
        cx,
        &author,
        place.project_id,
        TaskInput {
            title: Some(&title),
            description: Some(Some(&description)),
            status: Some(status),
            kind: Some(kind),
            priority: Some(priority),
            assignee_id: Some(assignee.as_deref()),
            due_date: Some(due.as_deref()),
            label_ids: Some(&task_labels),
            parent_id: parent.map(Some),
            recurrence: repeats.map(Some),
            ..TaskInput::default()
        },
    )
    .await?;
    let said = dice.below(4);
    for _ in 0..said {
        let by = actor(*dice.pick(plan.team));
        let text = *dice.pick(&COMMENTS);
        comments::create(cx, &by, &task.id, text).await?;
    }
    Ok((1, said, task.id))
}
