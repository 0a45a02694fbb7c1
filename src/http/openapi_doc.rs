//! Completes the generated OpenAPI document with what every operation shares, so each one
//! lists every status it can answer (with the error envelope) and every response has the
//! description OpenAPI requires — one rule here instead of the same lines on 100 annotations.

use axum::http::StatusCode;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// Paths no limiter counts (they also need no credential).
const UNLIMITED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

pub struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, doc: &mut OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let shape = PathShape {
                has_path_params: path.contains('{'),
                rate_limited: !UNLIMITED.contains(&path.as_str()),
            };
            for op in operations_mut(item) {
                complete(op, shape);
            }
        }
        if let Some(components) = doc.components.as_mut() {
            for schema in components.schemas.values_mut() {
                mark_times(schema);
            }
        }
    }
}

/// Every time Kanri sends or reads is RFC 3339 text in a field named for it (`created_at`,
/// `due_date`, `current_period_end`…): `format: date-time` lets a generated client parse it
/// into its language's time type.
fn is_time_field(name: &str) -> bool {
    name == "due_date" || ["_at", "_start", "_end"].iter().any(|s| name.ends_with(s))
}

fn is_string(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(ts) => {
            ts.contains(&Type::String) && ts.iter().all(|t| matches!(t, Type::String | Type::Null))
        }
        SchemaType::AnyValue => false,
    }
}

fn mark_times(schema: &mut RefOr<Schema>) {
    let RefOr::T(Schema::Object(object)) = schema else {
        return;
    };
    for (name, property) in object.properties.iter_mut() {
        if let RefOr::T(Schema::Object(p)) = property
            && is_time_field(name)
            && is_string(&p.schema_type)
            && p.format.is_none()
        {
            p.format = Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
        }
    }
}

#[derive(Clone, Copy)]
struct PathShape {
    has_path_params: bool,
    rate_limited: bool,
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Whether the operation asks for a credential (a requirement that is not the empty "none").
pub(crate) fn is_authenticated(op: &Operation) -> bool {
    op.security
        .iter()
        .flatten()
        .any(|req| !requirement_is_empty(req))
}

fn requirement_is_empty(req: &SecurityRequirement) -> bool {
    serde_json::to_value(req)
        .ok()
        .and_then(|v| v.as_object().map(serde_json::Map::is_empty))
        .unwrap_or(true)
}

/// The statuses the middleware and extractors can answer for an operation of this shape.
fn standard_statuses(op: &Operation, shape: PathShape) -> Vec<u16> {
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let mut statuses = vec![500, 503];
    if is_authenticated(op) {
        statuses.extend([401, 403]);
    }
    if shape.has_path_params {
        statuses.extend([400, 404, 422]);
    }
    if has_query {
        statuses.extend([400, 422]);
    }
    if op.request_body.is_some() {
        statuses.extend([400, 413, 415, 422]);
    }
    if shape.rate_limited {
        statuses.push(429);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn reason(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
        .to_string()
}

fn complete(op: &mut Operation, shape: PathShape) {
    for status in standard_statuses(op, shape) {
        let key = status.to_string();
        op.responses
            .responses
            .entry(key.clone())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(reason(&key))
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build(),
                )
            });
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = reason(status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated client parses what the server sends: each enum's schema lists the wire text.
    #[test]
    fn enums_are_documented_as_they_are_sent() {
        use crate::domain::enums::*;
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        // Each enum's `ALL`, as the server writes it.
        macro_rules! wire {
            ($t:ty) => {
                serde_json::json!(<$t>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>())
            };
        }
        for (name, values) in [
            ("WorkspaceRole", wire!(WorkspaceRole)),
            ("ProjectStatus", wire!(ProjectStatus)),
            ("Priority", wire!(Priority)),
            ("TaskStatus", wire!(TaskStatus)),
            ("TaskType", wire!(TaskType)),
        ] {
            assert_eq!(schemas[name]["enum"], values, "{name}: {}", schemas[name]);
        }
    }

    #[test]
    fn times_are_date_times() {
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (schema, field) in [
            ("Task", "created_at"),
            ("Task", "due_date"),
            ("Task", "completed_at"),
            ("SessionResponse", "expires_at"),
            ("Subscription", "current_period_end"),
        ] {
            assert_eq!(
                schemas[schema]["properties"][field]["format"], "date-time",
                "{schema}.{field}: {}",
                schemas[schema]["properties"][field]
            );
        }
    }

    /// The rules a generated client relies on, checked over the document the server serves.
    #[test]
    fn every_operation_documents_what_it_can_answer() {
        let doc = crate::http::openapi();
        let mut problems = Vec::new();
        for (path, item) in doc.paths.paths.clone().iter_mut() {
            for op in operations_mut(item) {
                let id = format!("{path} {}", op.operation_id.as_deref().unwrap_or("?"));
                let has = |s: &str| op.responses.responses.contains_key(s);
                for (status, response) in &op.responses.responses {
                    if let RefOr::T(r) = response
                        && r.description.is_empty()
                    {
                        problems.push(format!("{id}: {status} has no description"));
                    }
                }
                if is_authenticated(op) && !has("401") {
                    problems.push(format!("{id}: authenticated without 401"));
                }
                if op.request_body.is_some() && !(has("415") && has("422")) {
                    problems.push(format!("{id}: a body without 415 and 422"));
                }
                for p in op.parameters.iter().flatten() {
                    if let RefOr::T(p) = p
                        && p.parameter_in == ParameterIn::Path
                        && !path.contains(&format!("{{{}}}", p.name))
                    {
                        problems.push(format!("{id}: path parameter {} not in the path", p.name));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
