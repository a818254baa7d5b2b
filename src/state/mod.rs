//! Where minipod keeps things on disk, and how records are written.

pub mod paths;
pub mod atomic;
