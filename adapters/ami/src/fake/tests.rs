//! The fake's wire forms, checked with a plain socket (not the adapter).

use super::*;
use tokio::net::TcpStream;

async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains(needle) {
        let n = tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut buf))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "closed; got {text:?}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text
}

#[tokio::test]
async fn banner_md5_login_and_a_list_response() {
    let fake = FakeAsterisk::start(FakeConfig::default()).await;
    fake.add_member("support", "PJSIP/1001", "Alice", Some("Lunch"));
    let mut s = TcpStream::connect(fake.addr()).await.unwrap();
    assert_eq!(
        read_until(&mut s, "\r\n").await,
        "Asterisk Call Manager/5.0.1\r\n"
    );
    s.write_all(b"Action: Challenge\r\nActionID: 1\r\nAuthType: MD5\r\n\r\n")
        .await
        .unwrap();
    let r = read_until(&mut s, "\r\n\r\n").await;
    assert_eq!(
        r,
        "Response: Success\r\nActionID: 1\r\nChallenge: 840192733\r\n\r\n"
    );
    let key: String = Md5::digest(b"840192733amisecret")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s.write_all(format!("Action: Login\r\nActionID: 2\r\nUsername: ctibridge\r\nAuthType: MD5\r\nKey: {key}\r\n\r\n").as_bytes()).await.unwrap();
    let r = read_until(&mut s, "Fully Booted\r\n\r\n").await;
    assert!(
        r.starts_with(
            "Response: Success\r\nActionID: 2\r\nMessage: Authentication accepted\r\n\r\n"
        ),
        "{r}"
    );
    s.write_all(b"Action: QueueStatus\r\nActionID: 3\r\n\r\n")
        .await
        .unwrap();
    let r = read_until(&mut s, "EventList: Complete\r\nListItems: 2\r\n\r\n").await;
    assert!(
        r.starts_with("Response: Success\r\nActionID: 3\r\nEventList: start\r\n"),
        "{r}"
    );
    assert!(r.contains("Event: QueueMember\r\nActionID: 3\r\nQueue: support\r\nName: Alice\r\nLocation: PJSIP/1001\r\n"), "{r}");
    assert!(r.contains("Paused: 1\r\nPausedReason: Lunch\r\n"), "{r}");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_actions_need_a_login() {
    let fake = FakeAsterisk::start(FakeConfig::default()).await;
    let mut s = TcpStream::connect(fake.addr()).await.unwrap();
    read_until(&mut s, "\r\n").await;
    s.write_all(b"Action: Hangup\r\nActionID: 9\r\nChannel: PJSIP/1001-00000001\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_until(&mut s, "\r\n\r\n").await,
        "Response: Error\r\nActionID: 9\r\nMessage: Permission denied\r\n\r\n"
    );
    s.write_all(b"Action: Login\r\nActionID: 10\r\nUsername: ctibridge\r\nSecret: nope\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_until(&mut s, "\r\n\r\n").await,
        "Response: Error\r\nActionID: 10\r\nMessage: Authentication failed\r\n\r\n"
    );
}
