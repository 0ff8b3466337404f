//! One file per CLI command. Each returns the process exit code's meaning as a
//! `Result`: the message of an `Err` is printed as `error: …` and the exit code is 1
//! (2 for a configuration error, so scripts can tell them apart).

pub mod bench;
pub mod check_config;
pub mod contacts;
pub mod decode;
pub mod demo;
pub mod migrate;
pub mod report;
pub mod run;
pub mod token;

/// A command failed; `code` is the process exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }

    pub fn config(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
}

pub type Outcome = Result<(), Failure>;
