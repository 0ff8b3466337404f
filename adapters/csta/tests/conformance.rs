//! The adapter conformance kit against the fake CSTA switch, in each framing the
//! fake speaks and with vendor-style namespace prefixes.

mod common;

use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_csta::fake::{Dialect, FakeConfig, FakeSwitch, Framing};

struct Driver(FakeSwitch);

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a> {
        Box::pin(async move {
            self.0.ring(from, to).await;
        })
    }

    fn drop_link(&mut self) -> DriverFuture<'_> {
        Box::pin(async move {
            assert!(self.0.drop_link().await, "the adapter was connected");
        })
    }
}

async fn passes(config: FakeConfig, extra: &str) {
    let switch = common::fake(config).await;
    let settings = common::settings(&switch, &["1001", "1002", "8000"], extra);
    let adapter = common::build(&settings);
    let mut driver = Driver(switch.clone());
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
    report
        .complete()
        .unwrap_or_else(|e| panic!("{e}: {report:?}"));
    assert_eq!(switch.connections_accepted().await, 2, "one reconnection");
    let received = switch.received().await;
    let asked_ids = received.iter().any(|r| r == "GetDeviceId");
    assert_eq!(
        asked_ids,
        extra.contains("avaya"),
        "GetDeviceId exactly when device ids are Avaya's: {received:?}"
    );
}

#[tokio::test]
async fn header_framing_passes_the_kit() {
    passes(FakeConfig::default(), "").await;
}

#[tokio::test]
async fn nul_framing_with_prefixes_and_a_session_passes_the_kit() {
    let config = FakeConfig {
        framing: Framing::Nul,
        prefix: Some("csta".into()),
        credentials: Some(("ctibridge".into(), "secret".into())),
        ..FakeConfig::default()
    };
    passes(
        config,
        "framing = 'nul'\nusername = 'ctibridge'\npassword = 'secret'",
    )
    .await;
}

/// Avaya AES (DMCC XML) names phones by device ids the application asks for: the
/// adapter asks (GetDeviceId), uses them towards the switch, and reports extensions.
#[tokio::test]
async fn avaya_device_ids_pass_the_kit() {
    let config = FakeConfig {
        avaya_switch: Some("CM1".into()),
        credentials: Some(("avaya".into(), "secret".into())),
        ..FakeConfig::default()
    };
    passes(
        config,
        "device_ids = 'avaya'\navaya_switch_name = 'CM1'\nusername = 'avaya'\npassword = 'secret'",
    )
    .await;
}

/// OpenScape Voice: connections named by their device alone in Delivered,
/// Established and ConnectionCleared, `N<…>;displayNumber=…` devices, the ed.4
/// namespace.
#[tokio::test]
async fn openscape_voice_forms_pass_the_kit() {
    let config = FakeConfig {
        dialect: Dialect::OpenScapeVoice,
        ..FakeConfig::default()
    };
    passes(config, "").await;
}
