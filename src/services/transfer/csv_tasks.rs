//! A CSV of tasks into a project. A mapping names the CSV column behind each task field
//! (`title=Summary,status=State,assignee=Owner`); fields it does not name are found by their
//! own name in the header (case-insensitive), so Kanri's own `tasks.csv` imports as it is.
//! Every row is parsed before anything is written; the first bad one is reported with its
//! line and field, and nothing is imported.

use std::collections::HashMap;

use super::drafts::{self, Draft, Target};
use super::{ImportSource, ImportSummary, limits};
use crate::clock::parse_time;
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::event::DomainEvent;
use crate::domain::task::{Title, parse_text};
use crate::domain::{Email, FieldError};
use crate::error::{AppError, AppResult};
use crate::services::Ctx;

/// The task fields a CSV column can fill.
pub const FIELDS: &[&str] = &[
    "title",
    "description",
    "status",
    "priority",
    "type",
    "assignee",
    "due_date",
    "labels",
];

/// Field → CSV column name, from `title=Summary,status=State`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping(HashMap<&'static str, String>);

impl Mapping {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let mut map = HashMap::new();
        for pair in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((field, column)) = pair.split_once('=') else {
                return Err(FieldError::new(
                    "mapping",
                    format!("{pair:?} is not field=Column"),
                ));
            };
            let field = field.trim().to_ascii_lowercase();
            let field = match field.as_str() {
                "assignee_email" => "assignee",
                "due" => "due_date",
                other => other,
            };
            let Some(known) = FIELDS.iter().find(|f| **f == field) else {
                return Err(FieldError::new(
                    "mapping",
                    format!("unknown field {field:?}; known: {}", FIELDS.join(", ")),
                ));
            };
            if map.insert(*known, column.trim().to_string()).is_some() {
                return Err(FieldError::new(
                    "mapping",
                    format!("{known} is mapped twice"),
                ));
            }
        }
        Ok(Self(map))
    }

    /// Each field's column index in `headers`; a mapped column that is missing is an error.
    fn columns(
        &self,
        headers: &csv::StringRecord,
    ) -> Result<HashMap<&'static str, usize>, FieldError> {
        let find = |name: &str| {
            headers.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name.trim())
            })
        };
        let mut out = HashMap::new();
        for field in FIELDS {
            match self.0.get(field) {
                Some(column) => {
                    let index = find(column).ok_or_else(|| {
                        FieldError::new(
                            "mapping",
                            format!("the CSV has no column {column:?} (for {field})"),
                        )
                    })?;
                    out.insert(*field, index);
                }
                None => {
                    let alias = if *field == "assignee" {
                        find("assignee_email")
                    } else {
                        None
                    };
                    if let Some(index) = find(field).or(alias) {
                        out.insert(*field, index);
                    }
                }
            }
        }
        if !out.contains_key("title") {
            return Err(FieldError::new(
                "mapping",
                "no column for title: name one with title=Column",
            ));
        }
        Ok(out)
    }
}

fn status(field: &str, input: &str) -> Result<TaskStatus, FieldError> {
    TaskStatus::parse(field, input).or_else(|e| {
        match input
            .trim()
            .to_ascii_lowercase()
            .replace(['_', '-', ' '], "")
            .as_str()
        {
            "todo" | "open" | "backlog" | "new" => Ok(TaskStatus::Todo),
            "inprogress" | "doing" | "started" | "inreview" => Ok(TaskStatus::InProgress),
            "done" | "closed" | "complete" | "completed" | "resolved" => Ok(TaskStatus::Done),
            _ => Err(e),
        }
    })
}

/// One CSV record as a task; errors name `line` and the field (with its column).
pub fn draft(
    columns: &HashMap<&'static str, usize>,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
) -> Result<Draft, FieldError> {
    let cell = |field: &str| {
        columns
            .get(field)
            .and_then(|i| record.get(*i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name = |field: &str| {
        let column = columns
            .get(field)
            .and_then(|i| headers.get(*i))
            .unwrap_or(field);
        format!("line {line}, {field} (column {column})")
    };
    for value in record.iter() {
        if value.contains('\0') {
            return Err(FieldError::new(&format!("line {line}"), "holds a NUL byte"));
        }
    }
    let title = Title::parse(&name("title"), cell("title").unwrap_or(""))?;
    let mut d = Draft::new(format!("line {line}"), title.as_str().to_string());
    if let Some(text) = cell("description") {
        d.description = parse_text(&name("description"), text, false)?;
    }
    if let Some(s) = cell("status") {
        d.status = status(&name("status"), s)?;
    }
    if let Some(p) = cell("priority") {
        d.priority = Priority::parse(&name("priority"), p)?;
    }
    if let Some(t) = cell("type") {
        d.kind = TaskType::parse(&name("type"), t)?;
    }
    if let Some(email) = cell("assignee") {
        d.assignee = Some(Email::parse(&name("assignee"), email)?);
    }
    if let Some(due) = cell("due_date") {
        d.due_date = Some(parse_time(&name("due_date"), due)?);
    }
    if let Some(labels) = cell("labels") {
        d.labels = labels
            .split([';', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
    }
    Ok(d)
}

/// Every record of `bytes` as drafts, or the first bad one's error.
pub fn parse(bytes: &[u8], mapping: &Mapping) -> Result<Vec<Draft>, FieldError> {
    if bytes.len() as u64 > limits::MAX_SOURCE_BYTES {
        return Err(FieldError::new(
            "file",
            format!("is larger than {} bytes", limits::MAX_SOURCE_BYTES),
        ));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| FieldError::new("line 1", format!("is not a CSV header: {e}")))?
        .clone();
    let columns = mapping.columns(&headers)?;
    let mut drafts = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                return Err(FieldError::new(
                    &format!("line {line}"),
                    format!("is not valid CSV: {e}"),
                ));
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.as_slice().len() as u64 > limits::MAX_LINE_BYTES {
            return Err(FieldError::new(
                &format!("line {line}"),
                format!("is longer than {} bytes", limits::MAX_LINE_BYTES),
            ));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if drafts.len() as u64 >= limits::MAX_ROWS {
            return Err(FieldError::new(
                "file",
                format!("has more than {} tasks", limits::MAX_ROWS),
            ));
        }
        drafts.push(draft(&columns, &headers, &record, line)?);
    }
    Ok(drafts)
}

/// Imports the CSV into `project_id` (the caller's access already checked, or the operator).
pub async fn import(
    cx: &Ctx,
    target: &Target<'_>,
    actor_id: Option<&str>,
    bytes: &[u8],
    mapping: &Mapping,
) -> AppResult<ImportSummary> {
    let drafts = parse(bytes, mapping).map_err(|e| AppError::Validation(vec![e]))?;
    let mut tx = cx.begin(target.tenant_id, actor_id).await?;
    let written = drafts::write(&mut tx, target, &drafts, &HashMap::new()).await?;
    tx.record(DomainEvent::WorkspaceImported {
        workspace_id: target.workspace_id.to_string(),
        project_id: Some(target.project_id.to_string()),
        project_created: false,
        source: ImportSource::Csv.as_str(),
        tasks: written.task_ids.len() as u64,
    });
    tx.commit().await?;
    Ok(ImportSummary {
        workspace_id: target.workspace_id.to_string(),
        project_id: Some(target.project_id.to_string()),
        counts: [
            ("tasks".to_string(), written.task_ids.len() as u64),
            ("labels_created".to_string(), written.labels_created),
        ]
        .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_names_known_fields_once() {
        let m = Mapping::parse("title=Summary, status=State,assignee_email=Owner").unwrap();
        assert_eq!(m.0.get("title").map(String::as_str), Some("Summary"));
        assert_eq!(m.0.get("assignee").map(String::as_str), Some("Owner"));
        assert!(
            Mapping::parse("titel=Summary")
                .unwrap_err()
                .message
                .contains("unknown field")
        );
        assert!(Mapping::parse("title").is_err());
        assert!(Mapping::parse("title=A,title=B").is_err());
        assert_eq!(Mapping::parse("").unwrap(), Mapping::default());
    }

    #[test]
    fn rows_become_drafts_and_a_bad_row_names_its_line_and_column() {
        let csv = "Summary,State,Prio,Due,Tags,Notes\n\
                   Write docs,In Progress,high,2026-02-01,docs;writing,\n\
                   Plain,done,LOW,,,\"two\nlines\"\n\
                   Broken,Blocked,low,,,\n";
        let mapping = Mapping::parse(
            "title=Summary,status=State,priority=Prio,due_date=Due,labels=Tags,description=Notes",
        )
        .unwrap();
        let err = parse(csv.as_bytes(), &mapping).unwrap_err();
        // The quoted field spans lines 3–4, so the bad record starts on line 5.
        assert_eq!(err.field, "line 5, status (column State)");
        let good = parse(csv.rsplit_once("Broken").unwrap().0.as_bytes(), &mapping).unwrap();
        assert_eq!(good.len(), 2);
        assert_eq!(good[0].status, TaskStatus::InProgress);
        assert_eq!(good[0].priority, Priority::High);
        assert_eq!(good[0].labels, vec!["docs", "writing"]);
        assert!(good[0].due_date.is_some());
        assert_eq!(good[1].description.as_deref(), Some("two\nlines"));
        assert_eq!(good[1].status, TaskStatus::Done);
    }

    #[test]
    fn the_header_names_fields_without_a_mapping_and_title_is_required() {
        let csv = "id,title,status,assignee_email\n1,Hello,TODO,a@example.com\n";
        let drafts = parse(csv.as_bytes(), &Mapping::default()).unwrap();
        assert_eq!(
            drafts[0].assignee.as_ref().map(Email::as_str),
            Some("a@example.com")
        );
        let err = parse(b"name\nx\n", &Mapping::default()).unwrap_err();
        assert!(err.message.contains("title"), "{err:?}");
        let err = parse(b"title\n\"a\0b\"\n", &Mapping::default()).unwrap_err();
        assert_eq!(err.field, "line 2");
    }
}
