//! The link's own duties against the fake Asterisk: an action without an answer
//! fails `timeout` after `request_timeout_s`, and a Ping without a Pong drops and
//! reopens the link.

use std::time::Duration;

use ctibridge_adapter::{
    AdapterLink, AgentStateRequest, Command, CommandError, CommandRequest, SwitchEvent,
    SwitchSettings,
};
use ctibridge_ami::fake::{FakeAsterisk, FakeConfig};
use tokio_util::sync::CancellationToken;

fn settings(fake: &FakeAsterisk, extra: &str) -> SwitchSettings {
    let text = format!(
        "name = 'pbx'\nadapter = 'ami'\nhost = '127.0.0.1'\nport = {}\nusername = 'ctibridge'\npassword = 'amisecret'\n\
         devices = ['1001']\nqueues = ['support']\nagents = [{{ agent = '1001', extension = '1001' }}]\n\
         reconnect_min_s = 0.05\nreconnect_max_s = 0.2\n{extra}",
        fake.addr().port()
    );
    SwitchSettings {
        name: "pbx".into(),
        adapter: "ami".into(),
        devices: vec!["1001".into()],
        table: toml::from_str(&text).unwrap(),
    }
}

async fn next(
    rx: &mut tokio::sync::mpsc::Receiver<(String, ctibridge_adapter::AdapterEvent)>,
) -> SwitchEvent {
    tokio::time::timeout(Duration::from_secs(3), rx.recv())
        .await
        .expect("an event in time")
        .expect("adapter running")
        .1
        .event
}

#[tokio::test]
async fn an_unanswered_action_fails_as_timeout() {
    let fake = FakeAsterisk::start(FakeConfig {
        unanswered: vec!["QueuePause".into()],
        ..FakeConfig::default()
    })
    .await;
    fake.add_member("support", "PJSIP/1001", "1001", None);
    let adapter =
        (ctibridge_ami::factory().build)(&settings(&fake, "request_timeout_s = 0.3")).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let (link, side) = AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    assert_eq!(next(&mut rx).await, SwitchEvent::LinkUp);
    let SwitchEvent::Snapshot(snapshot) = next(&mut rx).await else {
        panic!("snapshot")
    };
    assert_eq!(
        snapshot.agents.len(),
        1,
        "the member is logged on: {snapshot:?}"
    );
    let (request, reply) = CommandRequest::new(Command::SetAgentState {
        agent: "1001".into(),
        device: "1001".into(),
        state: AgentStateRequest::NotReady {
            reason: Some("Break".into()),
        },
    });
    side.commands.send(request).await.unwrap();
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(2), reply)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(result, Err(CommandError::Timeout));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // A later command on the same link is still answered.
    let (request, reply) = CommandRequest::new(Command::AgentLogout {
        agent: "1001".into(),
        device: "1001".into(),
    });
    side.commands.send(request).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(2), reply)
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_ping_without_pong_drops_and_reopens_the_link() {
    let fake = FakeAsterisk::start(FakeConfig {
        unanswered: vec!["Ping".into()],
        ..FakeConfig::default()
    })
    .await;
    let adapter =
        (ctibridge_ami::factory().build)(&settings(&fake, "request_timeout_s = 0.2\nping_s = 0.1"))
            .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let (link, _side) = AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    assert_eq!(next(&mut rx).await, SwitchEvent::LinkUp);
    assert!(matches!(next(&mut rx).await, SwitchEvent::Snapshot(_)));
    match next(&mut rx).await {
        SwitchEvent::LinkDown { reason } => {
            assert!(reason.contains("no answer to Ping"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut rx).await, SwitchEvent::LinkUp);
    assert!(fake.connections_accepted() >= 2);
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_tls_manager_port_is_reached_and_an_untrusted_one_refused() {
    let (ca, tls) = ctibridge_adapter::test_pki::ca_and_server("asterisk");
    let (other_ca, _) = ctibridge_adapter::test_pki::ca_and_server("someone else");
    let dir = std::env::temp_dir().join(format!("ami-tls-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), ca).unwrap();
    std::fs::write(dir.join("other.pem"), other_ca).unwrap();
    let fake = FakeAsterisk::start(FakeConfig {
        tls: Some(tls),
        ..FakeConfig::default()
    })
    .await;
    fake.add_member("support", "PJSIP/1001", "1001", None);

    for (ca_file, trusted) in [("ca.pem", true), ("other.pem", false)] {
        let extra = format!("tls = true\ntls_ca = '{}'\n", dir.join(ca_file).display());
        let adapter = (ctibridge_ami::factory().build)(&settings(&fake, &extra)).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let shutdown = CancellationToken::new();
        let (link, _side) = AdapterLink::new("pbx", tx, shutdown.clone());
        let task = tokio::spawn(adapter.run(link));
        match (next(&mut rx).await, trusted) {
            (SwitchEvent::LinkUp, true) => {
                let SwitchEvent::Snapshot(snapshot) = next(&mut rx).await else {
                    panic!("snapshot")
                };
                assert_eq!(snapshot.agents.len(), 1, "{snapshot:?}");
                assert!(fake.received().contains(&"Login".to_string()));
            }
            (SwitchEvent::LinkDown { reason }, false) => {
                assert!(reason.contains("TLS handshake failed"), "{reason}");
                assert!(reason.contains("127.0.0.1"), "{reason}");
            }
            (event, trusted) => panic!("trusted {trusted}: {event:?}"),
        }
        shutdown.cancel();
        task.await.unwrap().unwrap();
    }

    // Plain AMI to a TLS port does not come up either: no banner within the timeout.
    let adapter =
        (ctibridge_ami::factory().build)(&settings(&fake, "request_timeout_s = 0.5")).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let shutdown = CancellationToken::new();
    let (link, _side) = AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    assert!(matches!(next(&mut rx).await, SwitchEvent::LinkDown { .. }));
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[test]
fn a_tls_ca_file_that_cannot_be_used_is_named_by_the_config_check() {
    let text =
        "name = 'pbx'\nadapter = 'ami'\nhost = '127.0.0.1'\nusername = 'u'\npassword = 'p'\n\
                devices = ['1001']\ntls = true\ntls_ca = '/nonexistent/asterisk-ca.pem'\n";
    let settings = SwitchSettings {
        name: "pbx".into(),
        adapter: "ami".into(),
        devices: vec!["1001".into()],
        table: toml::from_str(text).unwrap(),
    };
    let err = (ctibridge_ami::factory().build)(&settings).err().unwrap();
    assert_eq!(err.key.as_deref(), Some("tls_ca"), "{err:?}");
    assert!(
        err.message.contains("/nonexistent/asterisk-ca.pem"),
        "{err:?}"
    );
    let without_tls = text.replace("tls = true\n", "");
    let settings = SwitchSettings {
        table: toml::from_str(&without_tls).unwrap(),
        ..settings
    };
    let err = (ctibridge_ami::factory().build)(&settings).err().unwrap();
    assert!(err.message.contains("tls is not true"), "{err:?}");
}
