//! The adapter conformance kit against the fake CSTA switch, in each framing the
//! fake speaks and with vendor-style namespace prefixes.

mod common;

use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_csta::fake::{
    BerOptions, CstaPhase, Dialect, Encoding, FakeConfig, FakeSwitch, Framing,
};

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
    passes_skipping(config, extra, &[]).await
}

/// The kit passes with only `skipped` steps left out (for lack of the commands).
async fn passes_skipping(config: FakeConfig, extra: &str, skipped: &[&str]) {
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
    if skipped.is_empty() {
        report
            .complete()
            .unwrap_or_else(|e| panic!("{e}: {report:?}"));
    } else {
        assert_eq!(report.skipped, skipped, "{report:?}");
        assert_eq!(report.passed.len() + skipped.len(), 10, "{report:?}");
    }
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

/// CSTA as ASN.1 BER (ECMA-285, Phase III), against the fake's BER mode (written
/// apart from the adapter's codec).
#[tokio::test]
async fn ber_phase_3_passes_the_kit() {
    let config = FakeConfig {
        encoding: Encoding::Ber(BerOptions::new(CstaPhase::Three)),
        ..FakeConfig::default()
    };
    passes(config, "encoding = 'ber'\nphase = 3").await;
}

/// CSTA Phase II (ECMA-217/218) in BER, the fake writing ECMA-218's event form
/// (the adapter's corpus holds the OmniPCX/MD110 form). Phase II has no
/// single-step transfer, so the kit's blind transfer step is skipped.
#[tokio::test]
async fn ber_phase_2_passes_the_kit() {
    let config = FakeConfig {
        encoding: Encoding::Ber(BerOptions::new(CstaPhase::Two)),
        ..FakeConfig::default()
    };
    passes_skipping(config, "encoding = 'ber'\nphase = 2", &["transfer"]).await;
}
