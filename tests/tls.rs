//! End to end over TLS: the real daemon serving `wss://` and `https://` with a
//! certificate chain made at test time (root → intermediate → server), real rustls
//! clients that trust only the root, a plain client refused, SIGHUP reloading a
//! renewed certificate, and `check-config` naming a bad TLS file.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::Connector;

/// A certificate authority of the test's own and a server certificate under it.
struct Pki {
    root: CertificateDer<'static>,
    /// Server certificate then intermediate, as `tls_cert` holds them.
    chain_pem: String,
    key_pem: String,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn make_pki(name: &str) -> Pki {
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca_params(&format!("{name} root"));
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);

    let inter_key = KeyPair::generate().unwrap();
    let inter_params = ca_params(&format!("{name} intermediate"));
    let inter = inter_params.signed_by(&inter_key, &root_issuer).unwrap();
    let inter_issuer = Issuer::new(inter_params, inter_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server = server_params.signed_by(&server_key, &inter_issuer).unwrap();
    Pki {
        root: root.der().clone(),
        chain_pem: format!("{}{}", server.pem(), inter.pem()),
        key_pem: server_key.serialize_pem(),
    }
}

impl Pki {
    fn install(&self, dir: &Path) {
        std::fs::write(dir.join("cert.pem"), &self.chain_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &self.key_pem).unwrap();
    }

    /// A rustls client configuration that trusts this root only.
    fn client(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.root.clone()).unwrap();
        Arc::new(
            rustls::ClientConfig::builder_with_provider(ctibridge::tls::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    fn connector(&self) -> Option<Connector> {
        Some(Connector::Rustls(self.client()))
    }
}

fn tls_lines(dir: &Path) -> String {
    format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    )
}

/// Start the daemon on a TLS port; returns once it answers `https://…/healthz`.
async fn start_tls(name: &str, pki: &Pki) -> Daemon {
    let dir = temp_dir(name);
    pki.install(&dir);
    let port = free_port();
    let config = standard_config(port, &dir, &tls_lines(&dir));
    let daemon = Daemon::spawn(&dir, port, &config);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if daemon.log().contains("ctibridge listening") {
            if let Ok((200, _)) = https_get(port, "/healthz", pki).await {
                return daemon;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "daemon did not become healthy over https:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET over TLS with a client trusting `pki`'s root: (status, body).
async fn https_get(port: u16, path: &str, pki: &Pki) -> std::io::Result<(u16, String)> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let connector = tokio_rustls::TlsConnector::from(pki.client());
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut response = Vec::new();
    // A server that closes without close_notify is not an error here.
    let _ = tls.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn wss(daemon: &Daemon) -> String {
    format!("wss://127.0.0.1:{}/v1/ws", daemon.port)
}

fn hangup(daemon: &Daemon) {
    let status = Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn wss_serves_a_screen_pop_and_plain_clients_are_refused() {
    let pki = make_pki("first");
    let daemon = start_tls("tls-pop", &pki).await;
    // Connections that never start their handshake hold up nobody else's.
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", daemon.port))
                .await
                .unwrap(),
        );
    }

    let (mut agent, welcome) = Client::login_with(&wss(&daemon), pki.connector(), AGENT_1001).await;
    assert_eq!(welcome["agent"], "1001");
    agent.event("snapshot", |_| true).await;
    let (mut supervisor, _) = Client::login_with(&wss(&daemon), pki.connector(), SUPERVISOR).await;
    supervisor
        .ok("sim.call", json!({"from": "4155550123", "to": "1001"}))
        .await;
    let pop = agent.event("call.offered", |_| true).await;
    assert_eq!(pop["data"]["device"], "1001");
    assert_eq!(pop["data"]["ani_e164"], "+14155550123");

    let (status, body) = https_get(daemon.port, "/healthz", &pki).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");

    // Plain ws:// and http:// on the TLS port get no answer they could use.
    let plain = tokio::time::timeout(
        WAIT,
        Client::connect_with(&format!("ws://127.0.0.1:{}/v1/ws", daemon.port), None),
    )
    .await
    .expect("a plain client is turned away promptly");
    assert!(plain.is_err(), "a plain WebSocket client was served");
    let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 0, "plain HTTP was answered on the TLS port");

    // A client that does not trust the certificate's root refuses the server.
    let stranger = make_pki("stranger");
    let refused = Client::connect_with(&wss(&daemon), stranger.connector()).await;
    assert!(refused.is_err(), "an untrusted certificate was accepted");

    // The TLS connections still work after all that.
    agent
        .ok("crm.lookup", json!({"number": "4155550123"}))
        .await;

    // SIGTERM: the orderly stop closes TLS clients with 1001 and exits 0, the idle
    // half-open connections notwithstanding.
    let status = Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(agent.closed().await, 1001);
    let mut daemon = daemon;
    let deadline = std::time::Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = daemon.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}:\n{}", daemon.log());
    drop(idle);
}

#[tokio::test]
async fn sighup_reloads_a_renewed_certificate_and_keeps_the_old_on_a_bad_file() {
    let first = make_pki("first");
    let daemon = start_tls("tls-reload", &first).await;
    let (mut agent, _) = Client::login_with(&wss(&daemon), first.connector(), AGENT_1001).await;

    let renewed = make_pki("renewed");
    renewed.install(&daemon.dir);
    hangup(&daemon);
    // New connections see the new certificate once the daemon has read it.
    let deadline = tokio::time::Instant::now() + WAIT;
    while Client::connect_with(&wss(&daemon), renewed.connector())
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewed certificate is not served after SIGHUP:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(daemon.log().contains("TLS certificate and key reloaded"));
    assert!(
        Client::connect_with(&wss(&daemon), first.connector())
            .await
            .is_err(),
        "the old certificate is still served"
    );
    // The connection made before the reload goes on.
    agent
        .ok("crm.lookup", json!({"number": "4155550123"}))
        .await;

    // A bad key file: logged, and the renewed certificate stays in use.
    std::fs::write(daemon.dir.join("key.pem"), "-----BEGIN NOTHING-----\n").unwrap();
    hangup(&daemon);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !daemon.log().contains("TLS reload failed") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a bad key file was not reported:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = daemon.log();
    assert!(log.contains("tls_key"), "{log}");
    assert!(
        log.contains(&daemon.dir.join("key.pem").display().to_string()),
        "{log}"
    );
    let (mut again, welcome) =
        Client::login_with(&wss(&daemon), renewed.connector(), AGENT_1002).await;
    assert_eq!(welcome["agent"], "1002");
    again
        .ok("crm.lookup", json!({"number": "4155550123"}))
        .await;
}

/// Run `check-config` on a TLS config in `dir`; (success, stderr).
fn check_config(dir: &Path) -> (bool, String) {
    let config = standard_config(free_port(), dir, &tls_lines(dir));
    let path = dir.join("ctibridge.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(BIN)
        .arg("check-config")
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn check_config_names_the_key_and_file_of_a_bad_tls_file() {
    let dir = temp_dir("tls-check");
    make_pki("check").install(&dir);
    let (ok, stderr) = check_config(&dir);
    assert!(ok, "{stderr}");
    let cert = dir.join("cert.pem").display().to_string();
    let summary = Command::new(BIN)
        .arg("check-config")
        .arg(dir.join("ctibridge.toml"))
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&summary.stdout);
    assert!(
        summary.contains(&format!("(https, wss; certificate {cert})")),
        "{summary}"
    );
    let key = dir.join("key.pem").display().to_string();

    std::fs::remove_file(dir.join("key.pem")).unwrap();
    let (ok, stderr) = check_config(&dir);
    assert!(!ok);
    assert!(stderr.contains("[server] tls_key: cannot read"), "{stderr}");
    assert!(stderr.contains(&key), "{stderr}");

    std::fs::write(dir.join("key.pem"), make_pki("x").chain_pem).unwrap();
    let (ok, stderr) = check_config(&dir);
    assert!(!ok);
    assert!(stderr.contains("tls_key"), "{stderr}");
    assert!(stderr.contains("holds no private key"), "{stderr}");

    std::fs::write(dir.join("key.pem"), make_pki("y").key_pem).unwrap();
    std::fs::write(dir.join("cert.pem"), "no PEM here\n").unwrap();
    let (ok, stderr) = check_config(&dir);
    assert!(!ok);
    assert!(stderr.contains("[server] tls_cert"), "{stderr}");
    assert!(stderr.contains(&cert), "{stderr}");
    assert!(stderr.contains("holds no certificate"), "{stderr}");

    // A key that belongs to another certificate.
    make_pki("z").install(&dir);
    std::fs::write(dir.join("key.pem"), make_pki("w").key_pem).unwrap();
    let (ok, stderr) = check_config(&dir);
    assert!(!ok);
    assert!(stderr.contains("tls_key"), "{stderr}");
    assert!(stderr.contains(&cert), "{stderr}");
}
