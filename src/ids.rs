//! Row identifiers: UUIDv7 strings, so ids sort by creation time and make stable cursors.

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
