//! Output formats beside tables, JSON and YAML: `-o jsonpath=…`, `-o custom-columns=…`.

pub mod custom_columns;
pub mod jsonpath;
