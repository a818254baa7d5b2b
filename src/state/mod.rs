//! Where minipod keeps things on disk, and how records are written.

pub mod atomic;
pub mod deadline;
pub mod lock;
pub mod paths;
pub mod time;
