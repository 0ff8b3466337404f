//! The bench's API tokens and extensions, fixed so the child process that opens the
//! clients can derive them without being told: agent client `i` is bound to agent
//! and extension `20000 + i`.

/// The first extension of the bench's agents.
pub const FIRST_EXTENSION: usize = 20_000;
/// The token idle clients share: an agent on an extension with no calls.
pub const IDLE: &str = "bench-idle";
/// The idle clients' agent (and extension).
pub const IDLE_AGENT: &str = "19999";

pub fn agent(i: usize) -> String {
    format!("bench-agent-{}", extension(i))
}

pub fn extension(i: usize) -> String {
    (FIRST_EXTENSION + i).to_string()
}

pub fn supervisor(i: usize) -> String {
    format!("bench-supervisor-{i}")
}
