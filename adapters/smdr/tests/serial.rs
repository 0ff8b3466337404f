//! The adapter on a serial line: a pty pair stands in for the RS-232 cable (the
//! adapter opens the slave side by path, as it would `/dev/ttyUSB0`). Unplugging is
//! closing the master; plugging back in is a new pty behind the same path (a
//! symlink, as udev's `/dev/serial/by-id/…` names are).

#![cfg(target_os = "linux")]
// openpty is a C call; the workspace denies unsafe code everywhere else.
#![allow(unsafe_code)]

mod support;

use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{ipo, start};

/// A new pty: the master as a file, and the slave's path.
fn openpty() -> (File, PathBuf) {
    // SAFETY: plain libc calls on a descriptor we own; ptsname_r writes into `name`.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt");
        assert_eq!(libc::grantpt(master), 0, "grantpt");
        assert_eq!(libc::unlockpt(master), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_string_lossy()
            .into_owned();
        (File::from_raw_fd(master), PathBuf::from(path))
    }
}

fn point(link: &Path, target: &Path) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[tokio::test]
async fn a_pty_feeds_records_and_is_reopened_after_unplugging() {
    let dir = std::env::temp_dir().join(format!("ctibridge-smdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = dir.join("ttySMDR");
    let (mut master, slave) = openpty();
    point(&port, &slave);
    let mut adapter = start(&format!(
        "serial = '{}'\nbaud = 9600\nformat = 'mitel-sx200'\nterminator = 'crlf'\nutc_offset = '+00:00'",
        port.display()
    ));
    adapter.link_up().await;
    let header = "\x0c SMDR REPORT   PAGE 1\r\n";
    let record =
        " 03-09 01:25P 00:00:31 1411    1412                        1412                   001";
    let noise = "\x11\x13garbage that is no record at all\r\n";
    master
        .write_all(format!("{header}{noise}{record}\r\n").as_bytes())
        .unwrap();
    let (got, raw) = adapter.record().await;
    assert_eq!(raw, record.trim_end());
    assert_eq!(got.extension.as_deref(), Some("1411"));

    // Unplugged: the device goes away; the adapter reports the drop and retries.
    drop(master);
    adapter.link_down().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Plugged back in: a new device behind the same name.
    let (mut master, slave) = openpty();
    point(&port, &slave);
    adapter.link_up().await;
    let second = ipo(7);
    // Still the SX-200 format: an IP Office line is malformed here and skipped.
    master
        .write_all(format!("{second}\r\n").as_bytes())
        .unwrap();
    let record2 =
        " 03-09 01:30P 00:01:02 1412    1411                        1411                   001";
    master
        .write_all(format!("{record2}\r\n").as_bytes())
        .unwrap();
    assert_eq!(adapter.record().await.1, record2.trim_end());
    adapter.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
