//! The tools an assistant may call, each a use case run as the signed-in caller: list
//! workspaces, projects and tasks, read a task with its comments, create and update tasks,
//! comment, and search. Arguments are checked like REST bodies (unknown fields refused); a
//! refusal is a tool error carrying the API's code and message, so the assistant can correct
//! itself.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};

use super::describe;
use crate::app::AppState;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::access::Actor;
use crate::services::search::SearchInput;
use crate::services::task_list::{self, ListQuery};
use crate::services::tasks::{self, TaskInput};
use crate::services::{access, comments, projects, workspaces};

/// What one call lists at most.
const MAX_ITEMS: u32 = 100;

pub struct Board {
    state: AppState,
}

impl Board {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

fn schema(properties: Value, required: &[&str]) -> JsonObject {
    let value = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("built as an object"),
    }
}

fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn limit() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "description": "At most this many (default 50)."})
}

fn task_fields() -> serde_json::Map<String, Value> {
    let fields = json!({
        "title": text("1–500 characters."),
        "description": text("Free text, up to 10000 characters."),
        "status": {"type": "string", "enum": ["TODO", "IN_PROGRESS", "DONE"]},
        "type": {"type": "string", "enum": ["TASK", "BUG", "FEATURE", "IMPROVEMENT", "OTHER"]},
        "priority": {"type": "string", "enum": ["LOW", "MEDIUM", "HIGH"]},
        "assignee_id": text("A project member's user id."),
        "due_date": text("RFC 3339 time or YYYY-MM-DD."),
        "after_id": text("Place the task right after this task of the project."),
        "before_id": text("…or right before this one."),
    });
    match fields {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn catalogue() -> Vec<Tool> {
    let mut create = task_fields();
    create.insert("project_id".into(), text("The project to add the task to."));
    let mut update = task_fields();
    update.insert("task_id".into(), text("The task to change."));
    update.insert(
        "version".into(),
        json!({"type": "integer", "description": "Apply only if the task is still at this version."}),
    );
    let read_only = |tool: Tool| tool.annotate(rmcp::model::ToolAnnotations::new().read_only(true));
    vec![
        read_only(Tool::new(
            "list_workspaces",
            "The workspaces you belong to.",
            schema(json!({"limit": limit()}), &[]),
        )),
        read_only(Tool::new(
            "list_projects",
            "The projects of a workspace that you can see.",
            schema(
                json!({"workspace_id": text("The workspace."), "limit": limit()}),
                &["workspace_id"],
            ),
        )),
        read_only(Tool::new(
            "list_tasks",
            "A project's tasks in board order, optionally filtered.",
            schema(
                json!({
                    "project_id": text("The project."),
                    "status": {"type": "string", "enum": ["TODO", "IN_PROGRESS", "DONE"]},
                    "assignee_id": text("Only tasks assigned to this user."),
                    "q": text("Only tasks whose title or description contains this text."),
                    "limit": limit(),
                }),
                &["project_id"],
            ),
        )),
        read_only(Tool::new(
            "get_task",
            "One task with its first 50 comments.",
            schema(json!({"task_id": text("The task.")}), &["task_id"]),
        )),
        Tool::new(
            "create_task",
            "Creates a task in a project (at the end of the board unless placed).",
            schema(Value::Object(create), &["project_id", "title"]),
        ),
        Tool::new(
            "update_task",
            "Changes a task: only the fields given are written (use null to clear description, assignee_id or due_date).",
            schema(Value::Object(update), &["task_id"]),
        ),
        Tool::new(
            "add_comment",
            "Comments on a task.",
            schema(
                json!({"task_id": text("The task."), "content": text("1–10000 characters.")}),
                &["task_id", "content"],
            ),
        ),
        read_only(Tool::new(
            "search_tasks",
            "Finds tasks by words and meaning, in one project or across a workspace.",
            schema(
                json!({
                    "query": text("What to look for."),
                    "project_id": text("Search this project…"),
                    "workspace_id": text("…or every project of this workspace you can see."),
                    "mode": {"type": "string", "enum": ["hybrid", "text", "semantic"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                }),
                &["query"],
            ),
        )),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InWorkspace {
    workspace_id: String,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListTasks {
    project_id: String,
    status: Option<String>,
    assignee_id: Option<String>,
    q: Option<String>,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneTask {
    task_id: String,
}

/// A task's fields; `null` and absent differ for the clearable ones (`Some(None)` clears).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TaskArgs {
    project_id: Option<String>,
    task_id: Option<String>,
    title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    description: Option<Option<String>>,
    status: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    priority: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    due_date: Option<Option<String>>,
    after_id: Option<String>,
    before_id: Option<String>,
    version: Option<i64>,
}

impl TaskArgs {
    fn input(&self) -> TaskInput<'_> {
        TaskInput {
            title: self.title.as_deref(),
            description: self.description.as_ref().map(|d| d.as_deref()),
            status: self.status.as_deref(),
            kind: self.kind.as_deref(),
            priority: self.priority.as_deref(),
            assignee_id: self.assignee_id.as_ref().map(|a| a.as_deref()),
            due_date: self.due_date.as_ref().map(|d| d.as_deref()),
            after_id: self.after_id.as_deref(),
            before_id: self.before_id.as_deref(),
            version: self.version,
            ..TaskInput::default()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    task_id: String,
    content: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    query: String,
    project_id: Option<String>,
    workspace_id: Option<String>,
    mode: Option<String>,
    limit: Option<u32>,
}

/// Why a call did not run, as the assistant is told.
enum Refusal {
    Arguments(String),
    Api(ApiError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Self::Api(ApiError::App(e))
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

fn args<T: DeserializeOwned>(arguments: Option<JsonObject>) -> Result<T, Refusal> {
    let value = Value::Object(arguments.unwrap_or_default());
    serde_json::from_value(value).map_err(|e| Refusal::Arguments(format!("invalid arguments: {e}")))
}

fn page_size(limit: Option<u32>) -> Result<u32, Refusal> {
    match limit.unwrap_or(50) {
        n @ 1..=MAX_ITEMS => Ok(n),
        _ => Err(Refusal::Arguments(format!("limit must be 1–{MAX_ITEMS}"))),
    }
}

fn to_value(value: impl serde::Serialize) -> Result<Value, Refusal> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(anyhow::anyhow!(e)).into())
}

impl Board {
    async fn run(
        &self,
        actor: &Actor,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<Value, Refusal> {
        let cx = &self.state.cx;
        match name {
            "list_workspaces" => {
                let a: Limit = args(arguments)?;
                let (items, _) =
                    workspaces::list_mine(cx, actor, None, page_size(a.limit)?).await?;
                Ok(json!({"workspaces": to_value(items)?}))
            }
            "list_projects" => {
                let a: InWorkspace = args(arguments)?;
                let (items, _) =
                    projects::list(cx, actor, &a.workspace_id, None, page_size(a.limit)?).await?;
                Ok(json!({"projects": to_value(items)?}))
            }
            "list_tasks" => {
                let a: ListTasks = args(arguments)?;
                let query = ListQuery {
                    status: a.status.as_deref(),
                    assignee_id: a.assignee_id.as_deref(),
                    q: a.q.as_deref(),
                    ..ListQuery::default()
                };
                let (items, _) =
                    task_list::list(cx, actor, &a.project_id, &query, None, page_size(a.limit)?)
                        .await?;
                Ok(json!({"tasks": to_value(items)?}))
            }
            "get_task" => {
                let a: OneTask = args(arguments)?;
                let task = tasks::get(cx, actor, &a.task_id).await?;
                let (comments, _) = comments::list(cx, actor, &a.task_id, None, 50).await?;
                Ok(json!({"task": to_value(task)?, "comments": to_value(comments)?}))
            }
            "create_task" => {
                let a: TaskArgs = args(arguments)?;
                let (Some(project), None) = (&a.project_id, &a.task_id) else {
                    return Err(Refusal::Arguments(
                        "give project_id (and no task_id)".into(),
                    ));
                };
                if a.title.is_none() {
                    return Err(Refusal::Arguments("title is required".into()));
                }
                let task = tasks::create(cx, actor, project, a.input()).await?;
                Ok(json!({"task": to_value(task)?}))
            }
            "update_task" => {
                let a: TaskArgs = args(arguments)?;
                let (Some(task_id), None) = (&a.task_id, &a.project_id) else {
                    return Err(Refusal::Arguments(
                        "give task_id (and no project_id)".into(),
                    ));
                };
                let task = tasks::update(cx, actor, task_id, a.input()).await?;
                Ok(json!({"task": to_value(task)?}))
            }
            "add_comment" => {
                let a: NewComment = args(arguments)?;
                let comment = comments::create(cx, actor, &a.task_id, &a.content).await?;
                Ok(json!({"comment": to_value(comment)?}))
            }
            "search_tasks" => {
                let a: Search = args(arguments)?;
                let input = SearchInput {
                    query: &a.query,
                    limit: a.limit,
                    mode: a.mode.as_deref(),
                    filters: None,
                };
                let search = &self.state.search;
                let query = match (&a.project_id, &a.workspace_id) {
                    (Some(project), None) => {
                        let access = access::project_access(cx, actor, project).await?;
                        access.require(crate::domain::permission::TASKS_READ)?;
                        search.system_scope(&actor.tenant_id, vec![project.clone()], &input)?
                    }
                    (None, Some(workspace)) => {
                        search.workspace_scope(actor, workspace, &input).await?
                    }
                    _ => {
                        return Err(Refusal::Arguments(
                            "give project_id or workspace_id (one of them)".into(),
                        ));
                    }
                };
                Ok(to_value(search.search(&query).await?)?)
            }
            _ => Err(Refusal::Arguments(format!("no tool named {name}"))),
        }
    }
}

impl rmcp::ServerHandler for Board {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("kanri", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Kanri's project board, as the signed-in user: list workspaces, projects and \
                 tasks, read a task, create and update tasks, comment, and search.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(catalogue()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // Put there by `authenticate`, in front of the transport, for every request.
        let actor = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Actor>())
            .cloned()
            .ok_or_else(|| ErrorData::internal_error("the caller is not known", None))?;
        let result = match self.run(&actor, &request.name, request.arguments).await {
            Ok(value) => {
                let text = serde_json::to_string_pretty(&value).unwrap_or_default();
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(value);
                result
            }
            Err(Refusal::Arguments(message)) => CallToolResult::error(vec![ContentBlock::text(
                format!("invalid_arguments: {message}"),
            )]),
            Err(Refusal::Api(e)) => {
                if matches!(
                    e,
                    ApiError::App(AppError::Database(_) | AppError::Internal(_))
                ) {
                    tracing::error!(error = %e, tool = %request.name, "MCP tool failed");
                }
                CallToolResult::error(vec![ContentBlock::text(describe(e))])
            }
        };
        Ok(result.into())
    }
}
