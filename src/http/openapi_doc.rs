//! Completes the generated OpenAPI document with what every operation shares, so each one
//! lists every status it can answer (with the error envelope) and every response has the
//! description OpenAPI requires — one rule here instead of the same lines on 100 annotations.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::domain::text;

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
        constrain_requests(doc);
        if let Some(components) = doc.components.as_mut() {
            for schema in components.schemas.values_mut() {
                mark_times(schema);
            }
        }
    }
}

/// Incoming webhooks: the sender's body, verified by signature and read leniently (a provider
/// adds fields whenever it likes).
const INCOMING_WEBHOOKS: [&str; 2] = ["/v1/webhooks/stripe", "/v1/webhooks/identity"];

/// Whether an operation's JSON body is read strictly (`http::extract::Json`: an unknown field
/// is a 422) rather than as its seed reads it (`LenientJson`) or as a webhook sender sends it.
fn reads_strictly(path: &str, op: &Operation) -> bool {
    let seed = op.tags.iter().flatten().any(|t| t == "seed");
    !seed && !INCOMING_WEBHOOKS.contains(&path)
}

/// States in the request schemas the rules every extractor applies, so a generated request
/// that fits the document is one the server takes: text holds no refused control character
/// (`domain::text`, on every body string, query and path parameter), and a strictly read body
/// has no field it does not list.
fn constrain_requests(doc: &mut OpenApi) {
    // Component name → whether each operation that sends it reads it strictly.
    let mut readers: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in operations_mut(item) {
            let strict = reads_strictly(path, op);
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && let Some(RefOr::T(schema)) = param.schema.as_mut()
                {
                    constrain(schema, false);
                }
            }
            for schema in body_schemas(op) {
                match schema {
                    RefOr::Ref(r) => {
                        let entry = readers.entry(ref_name(r)).or_default();
                        if strict {
                            entry.0 = true
                        } else {
                            entry.1 = true
                        }
                    }
                    RefOr::T(schema) => constrain(schema, strict),
                }
            }
        }
    }
    // A schema the v1 routes read strictly and a seed route leniently: the lenient operations
    // get an open copy, `Lenient<Name>`, and the original is closed.
    let shared: Vec<String> = readers
        .iter()
        .filter(|(_, (strict, lenient))| *strict && *lenient)
        .map(|(name, _)| name.clone())
        .collect();
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in operations_mut(item) {
            if reads_strictly(path, op) {
                continue;
            }
            for schema in body_schemas(op) {
                if let RefOr::Ref(r) = schema
                    && shared.contains(&ref_name(r))
                {
                    *r = Ref::from_schema_name(format!("Lenient{}", ref_name(r)));
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in &shared {
        if let Some(schema) = components.schemas.get(name).cloned() {
            components.schemas.insert(format!("Lenient{name}"), schema);
            readers.insert(format!("Lenient{name}"), (false, true));
            readers.insert(name.clone(), (true, false));
        }
    }
    // The schemas a body refers to from inside (`SearchFilters` in `SearchBody`) are read as
    // their parents are; one read both ways stays open.
    let mut queue: Vec<String> = readers.keys().cloned().collect();
    while let Some(name) = queue.pop() {
        let (strict, lenient) = readers[&name];
        let Some(RefOr::T(schema)) = components.schemas.get(&name) else {
            continue;
        };
        let mut inner = Vec::new();
        refs_in(schema, &mut inner);
        for child in inner {
            let entry = readers.entry(child.clone()).or_default();
            let merged = (entry.0 || strict, entry.1 || lenient);
            if merged != *entry {
                *entry = merged;
                queue.push(child);
            }
        }
    }
    for (name, (strict, lenient)) in readers {
        if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
            constrain(schema, strict && !lenient);
        }
    }
}

/// The component names `schema` refers to, at any depth within it.
fn refs_in(schema: &Schema, out: &mut Vec<String>) {
    fn visit(item: &RefOr<Schema>, out: &mut Vec<String>) {
        match item {
            RefOr::Ref(r) => out.push(ref_name(r)),
            RefOr::T(s) => refs_in(s, out),
        }
    }
    match schema {
        Schema::Object(object) => {
            for property in object.properties.values() {
                visit(property, out);
            }
            if let Some(AdditionalProperties::RefOr(values)) =
                object.additional_properties.as_deref()
            {
                visit(values, out);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &array.items {
                visit(items, out);
            }
        }
        Schema::AllOf(all) => all.items.iter().for_each(|s| visit(s, out)),
        Schema::OneOf(one) => one.items.iter().for_each(|s| visit(s, out)),
        Schema::AnyOf(any) => any.items.iter().for_each(|s| visit(s, out)),
        _ => {}
    }
}

fn ref_name(r: &Ref) -> String {
    r.ref_location
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The schemas of an operation's request body, one per media type.
fn body_schemas(op: &mut Operation) -> impl Iterator<Item = &mut RefOr<Schema>> {
    let content = match op.request_body.as_mut() {
        Some(RefOr::T(body)) => Some(body.content.values_mut()),
        _ => None,
    };
    content
        .into_iter()
        .flatten()
        .filter_map(|content| match content {
            RefOr::T(content) => content.schema.as_mut(),
            RefOr::Ref(_) => None,
        })
}

/// Adds the control-character rule to each free-text string of a request schema (one with no
/// format, enum or pattern of its own; `\S` marks text that must not be blank), and closes its
/// objects when the body is read strictly.
fn constrain(schema: &mut Schema, strict: bool) {
    match schema {
        Schema::Object(object) => {
            if object.pattern.as_deref() == Some(r"\S") {
                object.pattern = Some(text::JSON_SCHEMA_NON_BLANK_PATTERN.to_string());
            } else if is_string(&object.schema_type)
                && object.format.is_none()
                && object.enum_values.is_none()
                && object.pattern.is_none()
            {
                object.pattern = Some(text::JSON_SCHEMA_PATTERN.to_string());
            }
            for property in object.properties.values_mut() {
                if let RefOr::T(p) = property {
                    constrain(p, strict);
                }
            }
            if strict && !object.properties.is_empty() && object.additional_properties.is_none() {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            // The values of a map are text under the same rule. (Its keys are too, but a
            // `propertyNames` beside `properties` is more than generators can satisfy; a key
            // with a control character gets the same 422 either way.)
            if let Some(AdditionalProperties::RefOr(RefOr::T(values))) =
                object.additional_properties.as_deref_mut()
            {
                constrain(values, strict);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items
                && let RefOr::T(items) = items.as_mut()
            {
                constrain(items, strict);
            }
        }
        Schema::AllOf(all) => all.items.iter_mut().for_each(|s| constrain_ref(s, strict)),
        Schema::OneOf(one) => one.items.iter_mut().for_each(|s| constrain_ref(s, strict)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|s| constrain_ref(s, strict)),
        _ => {}
    }
}

fn constrain_ref(schema: &mut RefOr<Schema>, strict: bool) {
    if let RefOr::T(schema) = schema {
        constrain(schema, strict);
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

/// Marks every time field, at any depth: the envelope's `data` and a page's items are inlined
/// into `Success_*` schemas, so the fields sit several levels down.
fn mark_times(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(object) => {
            for (name, property) in object.properties.iter_mut() {
                if let RefOr::T(Schema::Object(p)) = property
                    && is_time_field(name)
                    && is_string(&p.schema_type)
                    && p.format.is_none()
                {
                    p.format = Some(SchemaFormat::KnownFormat(KnownFormat::DateTime));
                }
                mark_times(property);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                mark_times(items);
            }
        }
        Schema::AllOf(all) => all.items.iter_mut().for_each(mark_times),
        Schema::OneOf(one) => one.items.iter_mut().for_each(mark_times),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(mark_times),
        _ => {}
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
        // A counted request resolves a tenant from its credentials, and a credential that is
        // sent and invalid is a 401 even where none is needed.
        statuses.extend([401, 429]);
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
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = reason(status);
        }
        for (media_type, content) in response.content.iter_mut() {
            if let RefOr::T(content) = content
                && content.schema.is_none()
            {
                content.schema = schema_for_bare(media_type).map(RefOr::T);
            }
        }
    }
}

/// The schema of a response body annotated only with its media type: a file's bytes are a
/// binary string (so a generated client hands back the bytes), an event stream's events are
/// `event`/`data`/`id` fields, other text is a string.
fn schema_for_bare(media_type: &str) -> Option<Schema> {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    if media_type == "text/event-stream" {
        Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("One event of the stream"))
                .property("event", string())
                .property("data", string().description(Some("The event as JSON text")))
                .property(
                    "id",
                    string().description(Some("Resume with `Last-Event-ID`")),
                )
                .into(),
        )
    } else if media_type.starts_with("text/") {
        Some(string().into())
    } else if media_type == "application/octet-stream" {
        Some(
            string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .into(),
        )
    } else {
        None
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
        for pointer in [
            "/Task/properties/created_at",
            "/Task/properties/due_date",
            "/Task/properties/completed_at",
            "/SessionResponse/properties/expires_at",
            "/Subscription/properties/current_period_end",
            // Inlined into the envelope, and into a page inside it.
            "/Success_SessionResponse/properties/data/properties/expires_at",
            "/Success_Page_Plan/properties/data/properties/items/items/properties/created_at",
        ] {
            let field = doc["components"]["schemas"].pointer(pointer);
            assert_eq!(
                field.and_then(|f| f["format"].as_str()),
                Some("date-time"),
                "{pointer}: {field:?}"
            );
        }
    }

    /// A request that fits the document is one the server reads: strict bodies are closed,
    /// the seed's lenient copy is open, and text carries the control-character rule.
    #[test]
    fn request_schemas_state_the_servers_rules() {
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let schemas = &doc["components"]["schemas"];
        let v1 = &schemas["RegisterRequest"];
        assert_eq!(v1["additionalProperties"], false, "{v1}");
        assert_eq!(
            v1["properties"]["password"]["pattern"],
            text::JSON_SCHEMA_PATTERN
        );
        assert_eq!(v1["properties"]["password"]["minLength"], 8);
        assert_eq!(
            v1["properties"]["name"]["pattern"],
            text::JSON_SCHEMA_NON_BLANK_PATTERN
        );
        // A schema inside a strict body is closed too.
        assert_eq!(schemas["SearchFilters"]["additionalProperties"], false);
        let seed = &schemas["LenientRegisterRequest"];
        assert!(seed["additionalProperties"].is_null(), "{seed}");
        assert_eq!(
            doc["paths"]["/auth/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/LenientRegisterRequest"
        );
        let list = doc["paths"]["/v1/projects/{id}/tasks"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .clone();
        let param = |name: &str| list.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
        assert_eq!(param("cursor")["pattern"], text::JSON_SCHEMA_PATTERN);
        assert_eq!(
            (
                param("limit")["minimum"].clone(),
                param("limit")["maximum"].clone()
            ),
            (1.into(), 100.into())
        );
        assert_eq!(
            param("status")["$ref"],
            "#/components/schemas/TaskStatus",
            "{}",
            param("status")
        );
    }

    #[test]
    fn files_are_binary_and_the_upload_is_a_form() {
        let doc = serde_json::to_value(crate::http::openapi()).unwrap();
        let download = &doc["paths"]["/v1/attachments/{id}/download"]["get"]["responses"];
        for status in ["200", "206"] {
            assert_eq!(
                download[status]["content"]["application/octet-stream"]["schema"],
                serde_json::json!({"type": "string", "format": "binary"}),
                "{status}: {}",
                download[status]
            );
        }
        let form = &doc["paths"]["/v1/tasks/{id}/attachments"]["post"]["requestBody"]["content"]["multipart/form-data"]
            ["schema"];
        let form = match form.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => form,
        };
        assert_eq!(form["required"], serde_json::json!(["file"]), "{form}");
        assert_eq!(form["properties"]["file"]["format"], "binary", "{form}");
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
