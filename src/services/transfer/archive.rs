//! The export archive: a zip holding `manifest.json`, `tables/<table>.jsonl` (one JSON object
//! a line, every row of the workspace in a fixed order), `files/<attachment id>` (the bytes)
//! and `tasks.csv`. Entries carry a fixed timestamp, so the same rows make the same archive.
//! Reading checks every line against the table's columns before anything is written.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::limits;
use crate::db::transfer::{JsonRow, Kind, Table};
use crate::domain::FieldError;

pub const FORMAT: &str = "kanri.workspace-export";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub kanri_version: String,
    /// The newest migration of the source database.
    pub schema_level: i64,
    /// `sqlite` or `postgres`.
    pub source_engine: String,
    pub created_at: String,
    pub workspace_id: String,
    pub workspace_name: String,
    /// Rows per table, and `files` for the attachment files.
    pub counts: BTreeMap<String, u64>,
}

/// Builds an archive in memory.
pub struct Writer {
    zip: ZipWriter<Cursor<Vec<u8>>>,
    written: u64,
}

fn options(method: CompressionMethod) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(method)
        .last_modified_time(zip::DateTime::default())
        .large_file(false)
}

impl Writer {
    pub fn new() -> Self {
        Self {
            zip: ZipWriter::new(Cursor::new(Vec::new())),
            written: 0,
        }
    }

    fn entry(&mut self, name: &str, method: CompressionMethod, bytes: &[u8]) -> anyhow::Result<()> {
        self.written += bytes.len() as u64;
        if self.written > limits::MAX_ARCHIVE_BYTES {
            anyhow::bail!(
                "the export would exceed {} bytes",
                limits::MAX_ARCHIVE_BYTES
            );
        }
        self.zip.start_file(name, options(method))?;
        self.zip.write_all(bytes)?;
        Ok(())
    }

    pub fn manifest(&mut self, manifest: &Manifest) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(manifest)?;
        self.entry("manifest.json", CompressionMethod::Deflated, &bytes)
    }

    pub fn table(&mut self, table: &Table, rows: &[JsonRow]) -> anyhow::Result<()> {
        let mut bytes = Vec::new();
        for row in rows {
            // Columns in the table's order, so the file reads like the schema.
            serde_json::to_writer(&mut bytes, &ordered_object(row, table))?;
            bytes.push(b'\n');
        }
        self.entry(
            &format!("tables/{}.jsonl", table.name),
            CompressionMethod::Deflated,
            &bytes,
        )
    }

    /// Stored, not deflated: attachments are mostly compressed already.
    pub fn file(&mut self, attachment_id: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.entry(
            &format!("files/{attachment_id}"),
            CompressionMethod::Stored,
            bytes,
        )
    }

    pub fn text(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.entry(name, CompressionMethod::Deflated, bytes)
    }

    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        Ok(self.zip.finish()?.into_inner())
    }
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

/// A JSON object whose keys serialise in the table's column order (serde_json's map sorts).
fn ordered_object(row: &serde_json::Map<String, Value>, table: &Table) -> OrderedRow {
    OrderedRow(
        table
            .columns
            .iter()
            .map(|(c, _)| (*c, row.get(*c).cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

struct OrderedRow(Vec<(&'static str, Value)>);

impl Serialize for OrderedRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// An opened archive.
pub struct Reader<R: Read + Seek> {
    zip: ZipArchive<R>,
    /// Bytes unpacked so far, against `limits::MAX_UNPACKED_BYTES`.
    unpacked: u64,
}

fn bad(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

impl<R: Read + Seek> Reader<R> {
    pub fn open(reader: R) -> Result<Self, FieldError> {
        let zip = ZipArchive::new(reader)
            .map_err(|e| bad("archive", format!("is not a zip archive: {e}")))?;
        Ok(Self { zip, unpacked: 0 })
    }

    /// An entry's bytes, at most `limit` of them; `None` when the archive has no such entry.
    pub fn bytes(&mut self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, FieldError> {
        let mut entry = match self.zip.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(bad(name, format!("cannot be read: {e}"))),
        };
        if entry.size() > limit {
            return Err(bad(name, format!("is larger than {limit} bytes")));
        }
        let budget = limits::MAX_UNPACKED_BYTES.saturating_sub(self.unpacked);
        let limit = limit.min(budget);
        let mut out = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(name, format!("cannot be read: {e}")))?;
        if out.len() as u64 > limit {
            let message = if limit == budget {
                format!(
                    "unpacks past the archive's limit of {} bytes",
                    limits::MAX_UNPACKED_BYTES
                )
            } else {
                format!("is larger than {limit} bytes")
            };
            return Err(bad(name, message));
        }
        self.unpacked += out.len() as u64;
        Ok(Some(out))
    }

    pub fn manifest(&mut self) -> Result<Manifest, FieldError> {
        let bytes = self
            .bytes("manifest.json", limits::MAX_LINE_BYTES)?
            .ok_or_else(|| bad("archive", "has no manifest.json: not a Kanri export"))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| bad("manifest.json", format!("is not a Kanri manifest: {e}")))?;
        if manifest.format != FORMAT {
            return Err(bad(
                "manifest.json",
                format!("format {:?} is not {FORMAT:?}", manifest.format),
            ));
        }
        if manifest.format_version > FORMAT_VERSION {
            return Err(bad(
                "manifest.json",
                format!(
                    "format version {} is newer than this Kanri reads ({FORMAT_VERSION}); upgrade first",
                    manifest.format_version
                ),
            ));
        }
        Ok(manifest)
    }

    /// Every row of `table`, each checked against its columns; an absent file is no rows.
    pub fn table(&mut self, table: &Table) -> Result<Vec<JsonRow>, FieldError> {
        let name = format!("tables/{}.jsonl", table.name);
        let Some(bytes) = self.bytes(&name, limits::MAX_ARCHIVE_BYTES)? else {
            return Ok(Vec::new());
        };
        parse_rows(table, &name, &bytes)
    }
}

/// Parses a JSON Lines table file, naming the line and column of the first bad value.
pub fn parse_rows(table: &Table, name: &str, bytes: &[u8]) -> Result<Vec<JsonRow>, FieldError> {
    let mut rows = Vec::new();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = |column: &str| {
            format!(
                "{name} line {number}{}{column}",
                if column.is_empty() { "" } else { ", column " }
            )
        };
        if line.len() as u64 > limits::MAX_LINE_BYTES {
            return Err(bad(
                &at(""),
                format!("is longer than {} bytes", limits::MAX_LINE_BYTES),
            ));
        }
        if rows.len() as u64 >= limits::MAX_ROWS {
            return Err(bad(
                name,
                format!("has more than {} rows", limits::MAX_ROWS),
            ));
        }
        let value: Value =
            serde_json::from_slice(line).map_err(|e| bad(&at(""), format!("is not JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(bad(&at(""), "is not a JSON object"));
        };
        let mut row = JsonRow::new();
        for (column, kind) in table.columns {
            let value = object.get(*column).cloned().unwrap_or(Value::Null);
            let fits = match (&value, kind) {
                (Value::Null, _) => true,
                (Value::String(s), Kind::Text) => {
                    if s.contains('\0') {
                        return Err(bad(&at(column), "holds a NUL byte"));
                    }
                    true
                }
                (Value::Number(n), Kind::Int) => n.is_i64(),
                _ => false,
            };
            if !fits {
                let wanted = match kind {
                    Kind::Text => "a string",
                    Kind::Int => "an integer",
                };
                return Err(bad(&at(column), format!("must be {wanted} or null")));
            }
            row.insert((*column).into(), value);
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::transfer::COMMENTS;

    #[test]
    fn rows_are_checked_by_column_with_the_line_named() {
        let good = br#"{"id":"c1","task_id":"t1","author_id":null,"content":"hi","created_at":1,"updated_at":2}"#;
        assert_eq!(
            parse_rows(&COMMENTS, "tables/comments.jsonl", good)
                .unwrap()
                .len(),
            1
        );
        let wrong_type = [
            &good[..],
            b"\n",
            br#"{"id":"c2","task_id":"t1","content":"x","created_at":"yesterday","updated_at":2}"#,
        ]
        .concat();
        let err = parse_rows(&COMMENTS, "tables/comments.jsonl", &wrong_type).unwrap_err();
        assert_eq!(err.field, "tables/comments.jsonl line 2, column created_at");
        let nul =
            br#"{"id":"c1","task_id":"t1","content":"a\u0000b","created_at":1,"updated_at":2}"#;
        let err = parse_rows(&COMMENTS, "tables/comments.jsonl", nul).unwrap_err();
        assert!(err.message.contains("NUL"), "{err:?}");
    }

    #[test]
    fn an_archive_round_trips_and_is_deterministic() {
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            kanri_version: "0".into(),
            schema_level: 19,
            source_engine: "sqlite".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            workspace_id: "w".into(),
            workspace_name: "W".into(),
            counts: BTreeMap::new(),
        };
        let build = || {
            let mut w = Writer::new();
            w.manifest(&manifest).unwrap();
            w.file("a1", b"bytes").unwrap();
            w.finish().unwrap()
        };
        let bytes = build();
        assert_eq!(bytes, build());
        let mut r = Reader::open(Cursor::new(bytes)).unwrap();
        assert_eq!(r.manifest().unwrap(), manifest);
        assert_eq!(r.bytes("files/a1", 10).unwrap().unwrap(), b"bytes");
        assert!(r.bytes("files/a1", 2).is_err());
        // All entries together stay within the unpacking budget.
        r.unpacked = limits::MAX_UNPACKED_BYTES - 2;
        let err = r.bytes("files/a1", 10).unwrap_err();
        assert!(err.message.contains("unpacks past"), "{err:?}");
    }
}
