//! The adapter conformance kit against the fake Asterisk, with a plain and an MD5
//! challenge login.

use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_adapter::SwitchSettings;
use ctibridge_ami::fake::{FakeAsterisk, FakeConfig};

struct Driver(FakeAsterisk);

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a> {
        Box::pin(async move { self.0.ring(from, to) })
    }

    fn drop_link(&mut self) -> DriverFuture<'_> {
        Box::pin(async move {
            assert!(self.0.drop_link().await, "the adapter was connected");
        })
    }
}

pub fn settings(fake: &FakeAsterisk, extra: &str) -> SwitchSettings {
    let text = format!(
        "name = 'pbx'\nadapter = 'ami'\nhost = '127.0.0.1'\nport = {}\nusername = 'ctibridge'\npassword = 'amisecret'\n\
         devices = ['1001', '1002']\nqueues = ['support']\nreconnect_min_s = 0.05\nreconnect_max_s = 0.2\n{extra}",
        fake.addr().port()
    );
    let table: toml::Table = toml::from_str(&text).unwrap();
    SwitchSettings {
        name: "pbx".into(),
        adapter: "ami".into(),
        devices: vec!["1001".into(), "1002".into()],
        table,
    }
}

async fn passes(extra: &str) {
    let fake = FakeAsterisk::start(FakeConfig::default()).await;
    let adapter = (ctibridge_ami::factory().build)(&settings(&fake, extra)).expect("builds");
    let mut driver = Driver(fake.clone());
    let report = testkit::run(
        adapter,
        &mut driver,
        KitConfig {
            timeout: Duration::from_secs(5),
            ..KitConfig::default()
        },
    )
    .await
    .unwrap_or_else(|failure| panic!("{failure}"));
    // AMI cannot answer, hold or retrieve a SIP phone in general: those are the only
    // steps skipped.
    assert_eq!(report.skipped, ["answer", "hold_retrieve"], "{report:?}");
    for step in [
        "link_up",
        "ring",
        "transfer",
        "clear",
        "dial",
        "errors",
        "reconnect",
        "shutdown",
    ] {
        assert!(
            report.passed.contains(&step),
            "{step} not passed: {report:?}"
        );
    }
    assert_eq!(fake.connections_accepted(), 2, "one reconnection");
    let received = fake.received();
    for action in [
        "Login",
        "CoreShowChannels",
        "QueueStatus",
        "Redirect",
        "Originate",
        "Hangup",
    ] {
        assert!(
            received.iter().any(|r| r == action),
            "{action} in {received:?}"
        );
    }
}

#[tokio::test]
async fn plain_login_passes_the_kit() {
    passes("").await;
}

#[tokio::test]
async fn md5_challenge_login_passes_the_kit() {
    passes("auth = 'md5'").await;
    // and the fake saw a Challenge before the Login
}

#[tokio::test]
async fn a_refused_login_is_retried_and_reported_once() {
    let fake = FakeAsterisk::start(FakeConfig::default()).await;
    let adapter = (ctibridge_ami::factory().build)(&settings(&fake, "").clone()).unwrap();
    drop(adapter);
    let mut s = settings(&fake, "");
    s.table
        .insert("password".into(), toml::Value::String("wrong".into()));
    let adapter = (ctibridge_ami::factory().build)(&s).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let shutdown = tokio_util_token();
    let (link, _side) = ctibridge_adapter::AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    let (_, first) = tokio::time::timeout(Duration::from_secs(3), rx.recv())
        .await
        .unwrap()
        .unwrap();
    match first.event {
        ctibridge_adapter::SwitchEvent::LinkDown { reason } => {
            assert!(
                reason.contains("login as `ctibridge` refused: Authentication failed"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        fake.connections_accepted() >= 3,
        "retried: {}",
        fake.connections_accepted()
    );
    assert!(rx.try_recv().is_err(), "one LinkDown per outage");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

fn tokio_util_token() -> tokio_util::sync::CancellationToken {
    tokio_util::sync::CancellationToken::new()
}
