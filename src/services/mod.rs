//! Use cases. Each function takes the database (and what else it needs), parses nothing that
//! the domain types already guarantee, and returns domain results or an `AppError`.

pub mod accounts;
pub mod key_usage;
pub mod passwords;
pub mod tenants;
