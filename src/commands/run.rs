//! `ctibridge run --config FILE`: the daemon.

use std::net::SocketAddr;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{Failure, Outcome};
use crate::daemon::{self, RunOptions};

pub async fn run(config: &Path, listen: Option<SocketAddr>) -> Outcome {
    let registry = crate::adapters::registry();
    let mut loaded = crate::config::load_file(config, &registry).map_err(Failure::config)?;
    if let Some(listen) = listen {
        loaded.config.server.listen = listen;
    }
    let options = RunOptions {
        serve_pages: false,
        on_listening: Box::new(|_| {}),
        shutdown: CancellationToken::new(),
    };
    daemon::run(loaded, &registry, options)
        .await
        .map_err(Failure::new)
}
