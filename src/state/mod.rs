//! Where minipod keeps things on disk, and how records are written.

pub mod atomic;
pub mod paths;
