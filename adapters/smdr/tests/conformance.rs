//! The adapter conformance kit against the `smdr` adapter on a loopback TCP
//! "switch". An SMDR link is records-only, so the kit checks the link steps
//! (`link_up`, `reconnect`, `shutdown`) and skips the call steps.

mod support;

use std::sync::{Arc, Mutex};

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use tokio::net::{TcpListener, TcpStream};

/// The fake switch: accepts the adapter's connections; `drop_link` closes the
/// current one.
struct Driver {
    current: Arc<Mutex<Option<TcpStream>>>,
}

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, _from: &'a str, _to: &'a str) -> DriverFuture<'a> {
        Box::pin(async {})
    }

    fn drop_link(&mut self) -> DriverFuture<'_> {
        Box::pin(async move {
            let taken = self.current.lock().expect("lock").take();
            drop(taken);
        })
    }
}

#[tokio::test]
async fn the_smdr_adapter_passes_the_conformance_kit() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let current = Arc::new(Mutex::new(None));
    let accepted = current.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            *accepted.lock().expect("lock") = Some(stream);
        }
    });
    let adapter = support::build(&format!(
        "host = '127.0.0.1'\nport = {port}\nformat = 'mitel-mivb'"
    ));
    let mut driver = Driver { current };
    let report = testkit::run(adapter, &mut driver, KitConfig::default())
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    for step in ["link_up", "reconnect", "shutdown"] {
        assert!(
            report.passed.contains(&step),
            "{step} not passed: {report:?}"
        );
    }
}
