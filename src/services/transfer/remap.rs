//! Ids on import: every exported id maps to the id its row gets here — itself when ids are
//! kept, a fresh one with `--remap-ids`, an existing row's for users matched by email and roles
//! matched by name — and every reference is rewritten through the same map.

use std::collections::HashMap;

use serde_json::Value;

use crate::db::transfer::{JsonRow, Space, Table};

#[derive(Debug, Default)]
pub struct IdMap {
    ids: HashMap<(Space, String), String>,
}

/// A row pointing at a row the archive does not hold, where the column may not be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dangling {
    pub column: &'static str,
    pub id: String,
}

impl IdMap {
    pub fn insert(&mut self, space: Space, old: &str, new: String) {
        self.ids.insert((space, old.to_string()), new);
    }

    pub fn get(&self, space: Space, old: &str) -> Option<&str> {
        self.ids.get(&(space, old.to_string())).map(String::as_str)
    }

    /// Maps every id of `rows` (in `space`) to itself, or to a fresh id from `fresh`.
    pub fn assign(
        &mut self,
        space: Space,
        rows: &[JsonRow],
        mut fresh: Option<&mut dyn FnMut() -> String>,
    ) {
        for row in rows {
            if let Some(id) = row.get("id").and_then(Value::as_str) {
                let new = match fresh.as_mut() {
                    Some(make) => make(),
                    None => id.to_string(),
                };
                self.insert(space, id, new);
            }
        }
    }

    /// The row with its id and references rewritten. An optional reference to a row the
    /// archive lacks (a user deleted before the export) becomes null; a required one is refused.
    pub fn rewrite(&self, table: &Table, row: &JsonRow) -> Result<JsonRow, Dangling> {
        let mut out = row.clone();
        if let (Some(space), Some(id)) = (table.id, row.get("id").and_then(Value::as_str)) {
            let new = self.get(space, id).ok_or_else(|| Dangling {
                column: "id",
                id: id.to_string(),
            })?;
            out.insert("id".into(), Value::from(new));
        }
        for r in table.refs {
            let Some(old) = row.get(r.column).and_then(Value::as_str) else {
                continue;
            };
            match self.get(r.space, old) {
                Some(new) => {
                    out.insert(r.column.into(), Value::from(new));
                }
                None if r.required => {
                    return Err(Dangling {
                        column: r.column,
                        id: old.to_string(),
                    });
                }
                None => {
                    out.insert(r.column.into(), Value::Null);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::transfer::{COMMENTS, TASKS};
    use serde_json::json;

    fn row(v: Value) -> JsonRow {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn kept_ids_map_to_themselves_and_references_follow_the_map() {
        let mut map = IdMap::default();
        let tasks = vec![row(
            json!({"id": "t1", "project_id": "p1", "parent_id": "t0"}),
        )];
        map.assign(Space::Task, &tasks, None);
        map.insert(Space::Project, "p1", "p1".into());
        let out = map.rewrite(&TASKS, &tasks[0]).unwrap();
        assert_eq!(out["id"], "t1");
        assert_eq!(out["project_id"], "p1");
        // The parent is not in the archive: an optional reference is cleared.
        assert_eq!(out["parent_id"], Value::Null);
    }

    #[test]
    fn remapped_ids_rewrite_every_reference() {
        let mut map = IdMap::default();
        let mut n = 0;
        let mut fresh = || {
            n += 1;
            format!("new{n}")
        };
        let tasks = vec![
            row(json!({"id": "t1", "project_id": "p1", "parent_id": null})),
            row(json!({"id": "t2", "project_id": "p1", "parent_id": "t1"})),
        ];
        map.assign(Space::Task, &tasks, Some(&mut fresh));
        map.insert(Space::Project, "p1", "P".into());
        map.insert(Space::User, "u1", "U".into());
        let second = map.rewrite(&TASKS, &tasks[1]).unwrap();
        assert_eq!(second["id"], "new2");
        assert_eq!(second["parent_id"], "new1");
        assert_eq!(second["project_id"], "P");
        let comment = row(json!({"id": "c1", "task_id": "t2", "author_id": "u1"}));
        map.insert(Space::Comment, "c1", "C".into());
        let comment = map.rewrite(&COMMENTS, &comment).unwrap();
        assert_eq!(
            (comment["task_id"].as_str(), comment["author_id"].as_str()),
            (Some("new2"), Some("U"))
        );
    }

    #[test]
    fn a_required_reference_outside_the_archive_is_refused() {
        let map = IdMap::default();
        let comment = row(json!({"id": "c1", "task_id": "gone", "author_id": null}));
        let mut with_id = IdMap::default();
        with_id.insert(Space::Comment, "c1", "c1".into());
        assert_eq!(
            with_id.rewrite(&COMMENTS, &comment),
            Err(Dangling {
                column: "task_id",
                id: "gone".into()
            })
        );
        assert_eq!(map.rewrite(&COMMENTS, &comment).unwrap_err().column, "id");
    }
}
