//! (being built)

pub mod manifest;
