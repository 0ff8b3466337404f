//! Report figures of a scripted call-centre day, checked against values worked out
//! by hand, on every database backend (SQLite always; PostgreSQL and MySQL/MariaDB
//! when `CTIBRIDGE_TEST_POSTGRES` / `CTIBRIDGE_TEST_MYSQL` name a server).
//!
//! The day's rows go in through the daemon's own write path (`writes::apply`, what
//! the durability gate runs), then the reports read them back as `report.*` and
//! `ctibridge report` do. The day has the edge cases: a call that spans midnight, an
//! agent logged on at two phones at once, a caller who hangs up while the agent's
//! phone rings, and a short abandon.
//!
//! Agent 1001 on 2026-11-23 (UTC):
//!
//! | state                      | from  | to          | seconds in the day |
//! |----------------------------|-------|-------------|--------------------|
//! | ready                      | 08:00 | 10:05       | 7500               |
//! | acw (after c1)             | 10:05 | 10:10       | 300                |
//! | ready                      | 10:10 | 12:00       | 6600               |
//! | not_ready "meeting"        | 13:00 | 13:30       | 1800               |
//! | ready                      | 13:30 | 17:00       | 12600              |
//! | ready at phone 1002 too    | 16:00 | 17:00       | 0 (already counted)|
//! | ready                      | 23:00 | 00:30 (24th)| 3600               |
//!
//! Calls, all through queue 8000 to agent 1001:
//!
//! | call | offered  | queue | ring | outcome       | talk | hold | acw |
//! |------|----------|-------|------|---------------|------|------|-----|
//! | c1   | 10:00:00 | 10    | 5    | answered      | 260  | 30   | 300 |
//! | c2   | 11:00:00 | 20    | 12   | abandoned (hung up while ringing) | | | |
//! | c3   | 14:00:00 | 2     | –    | short_abandon |      |      |     |
//! | c4   | 23:49:50 | 6     | 4    | answered 23:50:00, ended 00:10:00 | 1200 | 0 | |
//!
//! Agent figures for the 23rd: logged on 7500 + 300 + 6600 + 1800 + 12600 + 3600 =
//! 32400; talk 260 + 600 (half of c4's 1200 falls on the 23rd) = 860; hold 30; ready
//! 30300 − 860 − 30 = 29410; ACW 300; not ready 1800; handled 2 (c1, c4);
//! occupancy (860 + 30 + 300) / (32400 − 1800) = 1190 / 30600.
//! For the 24th: logged on 1800 (00:00–00:30), talk 600, ready 1200, handled 0,
//! occupancy 600 / 1800.
//!
//! Queue 8000 on the 23rd (by offer time): offered 4, handled 2, abandoned 1, short 1;
//! abandon rate 1 / 3; ASA (15 + 10) / 2 = 12.5; ATT (260 + 1200) / 2 = 730; AHT
//! (260 + 30 + 300 + 1200) / 2 = 895; average queue (10 + 20 + 2 + 6) / 4 = 9.5;
//! average ring (5 + 12 + 4) / 3 = 7; longest wait 32; service level (≤ 20 s: c1, c4)
//! 2 / 3.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use ctibridge::crm::db::{self, AnyConn};
use ctibridge::crm::models::{AgentStateRow, CallLogRow};
use ctibridge::crm::writes::{self, DbWrite};
use ctibridge::reports::{self, Kind, Thresholds};
use serde_json::Value;

fn at(day: u32, h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, day)
        .unwrap()
        .and_hms_opt(h, m, s)
        .unwrap()
}

fn state(
    id: &str,
    extension: &str,
    name: &str,
    reason: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Vec<DbWrite> {
    vec![
        DbWrite::AgentStateStart(AgentStateRow {
            id: id.into(),
            agent: "1001".into(),
            extension: Some(extension.into()),
            state: name.into(),
            reason: reason.map(String::from),
            started_at: from,
            ended_at: None,
        }),
        DbWrite::AgentStateEnd {
            id: id.into(),
            ended_at: to,
        },
    ]
}

#[allow(clippy::too_many_arguments)]
fn call(
    id: &str,
    offered: NaiveDateTime,
    queue_s: f64,
    ring_s: Option<f64>,
    outcome: &str,
    answered: Option<NaiveDateTime>,
    ended: NaiveDateTime,
    talk_hold_acw: Option<(f64, f64, Option<f64>)>,
) -> DbWrite {
    DbWrite::CallLog(Box::new(CallLogRow {
        ani: Some("+14155550123".into()),
        ani_e164: Some("+14155550123".into()),
        dnis: Some("8005550100".into()),
        queue: Some("8000".into()),
        agent: Some("1001".into()),
        extension: Some("1001".into()),
        answered_at: answered,
        ended_at: Some(ended),
        queue_s: Some(queue_s),
        ring_s,
        talk_s: talk_hold_acw.map(|t| t.0),
        hold_s: talk_hold_acw.map(|t| t.1),
        acw_s: talk_hold_acw.and_then(|t| t.2),
        outcome: ctibridge::crm::outcome::CallOutcome::parse(outcome).expect("a known outcome"),
        ..CallLogRow::inbound(id, "pbx", offered)
    }))
}

fn the_day() -> Vec<DbWrite> {
    let mut writes = Vec::new();
    // (id, phone, state, reason, from, to): the table in the module doc.
    let states = [
        (
            "s1",
            "1001",
            "ready",
            None,
            at(23, 8, 0, 0),
            at(23, 10, 5, 0),
        ),
        (
            "s2",
            "1001",
            "acw",
            None,
            at(23, 10, 5, 0),
            at(23, 10, 10, 0),
        ),
        (
            "s3",
            "1001",
            "ready",
            None,
            at(23, 10, 10, 0),
            at(23, 12, 0, 0),
        ),
        (
            "s4",
            "1001",
            "not_ready",
            Some("meeting"),
            at(23, 13, 0, 0),
            at(23, 13, 30, 0),
        ),
        (
            "s5",
            "1001",
            "ready",
            None,
            at(23, 13, 30, 0),
            at(23, 17, 0, 0),
        ),
        (
            "s6",
            "1002",
            "ready",
            None,
            at(23, 16, 0, 0),
            at(23, 17, 0, 0),
        ),
        (
            "s7",
            "1001",
            "ready",
            None,
            at(23, 23, 0, 0),
            at(24, 0, 30, 0),
        ),
    ];
    for (id, phone, name, reason, from, to) in states {
        writes.extend(state(id, phone, name, reason, from, to));
    }
    writes.push(call(
        "c1",
        at(23, 10, 0, 0),
        10.0,
        Some(5.0),
        "answered",
        Some(at(23, 10, 0, 15)),
        at(23, 10, 5, 5),
        Some((260.0, 30.0, Some(300.0))),
    ));
    writes.push(call(
        "c2",
        at(23, 11, 0, 0),
        20.0,
        Some(12.0),
        "abandoned",
        None,
        at(23, 11, 0, 32),
        None,
    ));
    writes.push(call(
        "c3",
        at(23, 14, 0, 0),
        2.0,
        None,
        "short_abandon",
        None,
        at(23, 14, 0, 2),
        None,
    ));
    writes.push(call(
        "c4",
        at(23, 23, 49, 50),
        6.0,
        Some(4.0),
        "answered",
        Some(at(23, 23, 50, 0)),
        at(24, 0, 10, 0),
        Some((1200.0, 0.0, None)),
    ));
    writes
}

const THRESHOLDS: Thresholds = Thresholds {
    service_level_s: 20.0,
    short_abandon_s: 5.0,
};

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual}, expected {expected}"
    );
}

/// The day's reports, read on a thread of its own (the drivers block).
fn report(url: &str, kind: Kind, day: u32) -> Value {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut conn = AnyConn::establish(&url).unwrap();
        reports::build(
            &mut conn,
            kind,
            at(day, 0, 0, 0),
            at(day + 1, 0, 0, 0),
            THRESHOLDS,
        )
        .unwrap()
    })
    .join()
    .unwrap()
}

fn scripted_day(url: &str) {
    let db_url = url.to_string();
    std::thread::spawn(move || {
        let pool = db::open(&db_url).unwrap();
        let mut conn = pool.get().unwrap();
        writes::apply(&mut conn, &the_day(), None).unwrap();
        // The gate may apply a batch twice (a journal replayed after a crash).
        writes::apply(&mut conn, &the_day(), None).unwrap();
    })
    .join()
    .unwrap();

    let agents = report(url, Kind::Agents, 23);
    let a = &agents["agents"][0];
    assert_eq!(a["agent"], "1001", "{agents}");
    assert_eq!(a["first_logon"], "2026-11-23T08:00:00Z");
    assert_eq!(
        a["last_logoff"],
        serde_json::Value::Null,
        "logged on over midnight"
    );
    close(&a["logged_on_s"], 32400.0, "logged_on_s");
    close(&a["talk_s"], 860.0, "talk_s");
    close(&a["hold_s"], 30.0, "hold_s");
    close(&a["ready_s"], 29410.0, "ready_s");
    close(&a["acw_s"], 300.0, "acw_s");
    close(&a["not_ready_s"], 1800.0, "not_ready_s");
    close(&a["not_ready_by_reason"]["meeting"], 1800.0, "meeting");
    assert_eq!(a["handled"], 2);
    close(&a["occupancy"], 1190.0 / 30600.0, "occupancy");

    let next = report(url, Kind::Agents, 24);
    let a = &next["agents"][0];
    assert_eq!(a["first_logon"], "2026-11-24T00:00:00Z");
    assert_eq!(a["last_logoff"], "2026-11-24T00:30:00Z");
    close(&a["logged_on_s"], 1800.0, "logged_on_s on the 24th");
    close(&a["talk_s"], 600.0, "talk_s on the 24th");
    close(&a["ready_s"], 1200.0, "ready_s on the 24th");
    assert_eq!(a["handled"], 0);
    close(&a["occupancy"], 600.0 / 1800.0, "occupancy on the 24th");

    let queues = report(url, Kind::Queues, 23);
    let q = &queues["queues"][0];
    assert_eq!(q["queue"], "8000", "{queues}");
    assert_eq!(q["offered"], 4);
    assert_eq!(q["handled"], 2);
    assert_eq!(q["abandoned"], 1);
    assert_eq!(q["short_abandons"], 1);
    close(&q["abandon_rate"], 1.0 / 3.0, "abandon_rate");
    close(&q["asa_s"], 12.5, "asa_s");
    close(&q["att_s"], 730.0, "att_s");
    close(&q["aht_s"], 895.0, "aht_s");
    close(&q["avg_queue_s"], 9.5, "avg_queue_s");
    close(&q["avg_ring_s"], 7.0, "avg_ring_s");
    close(&q["longest_wait_s"], 32.0, "longest_wait_s");
    close(&q["service_level"], 2.0 / 3.0, "service_level");
    let next = report(url, Kind::Queues, 24);
    assert_eq!(
        next["queues"],
        serde_json::json!([]),
        "no call was offered on the 24th"
    );
}

#[test]
fn a_scripted_day_on_sqlite() {
    scripted_day(&common::test_database("sqlite").unwrap());
}

#[test]
fn a_scripted_day_on_postgres() {
    if let Some(url) = common::test_database("postgres") {
        scripted_day(&url);
    }
}

#[test]
fn a_scripted_day_on_mysql() {
    if let Some(url) = common::test_database("mysql") {
        scripted_day(&url);
    }
}
