//! Calls and agents over BER: monitors and the events they get, call
//! control requests and their results, snapshots, agent state.

use super::super::super::AgentRequest;
use super::*;

#[tokio::test]
async fn phase3_monitor_ring_delivered_bytes() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;

    let call = sw.ring_with("+14155550123", "1001", "8005550100").await;
    assert_eq!(call, "101");
    c.expect(&h("
        a1 5c 02 01 01 02 01 15                      -- invoke 1, cSTAEventReport (21)
        30 54 55 04 00 00 00 01                      -- crossRefIdentifier
        a0 4c a4 4a                                  -- callControlEvents [0], delivered [4]
          6b 12 30 10 80 04 00 00 00 65              -- connection: both { callID 101,
                a1 08 30 06 80 04 31 30 30 31        --   deviceID 1001 }
          63 08 30 06 80 04 31 30 30 31              -- alertingDevice
          61 10 30 0e 80 0c 2b 31 34 31 35 35 35 35 30 31 32 33  -- callingDevice
          62 0e 30 0c 80 0a 38 30 30 35 35 35 30 31 30 30        -- calledDevice
          64 02 88 00                                -- lastRedirectionDevice notRequired
          4e 01 02                                   -- localConnectionInfo alerting
          0a 01 16                                   -- cause newCall (22)
    "))
        .await;

    sw.answer("1001").await;
    let est = c.next().await.expect("established");
    let info = dig(&est, &[0xa1, 0x30, 0xa0]);
    assert_eq!(
        elements(&info)[0].0,
        0xa7,
        "established [7]: {}",
        show(&est)
    );
    assert_eq!(dig(&info, &[0xa7, 0x4e]), [3], "connected");
    assert_eq!(sw.received().await, ["MonitorStart"]);
}

#[tokio::test]
async fn phase2_monitor_ring_delivered_bytes() {
    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    c.send(&h(MONITOR_1001_P2)).await;
    c.expect(&h(MONITOR_RESULT)).await;

    sw.ring_with("+14155550123", "1001", "8005550100").await;
    c.expect(&h("
        a1 50 02 01 01 02 01 15                      -- invoke 1, cSTAEventReport (21)
        30 48 55 04 00 00 00 01                      -- crossRefIdentifier
        a0 40 a3 3e                                  -- callEvent [0], delivered [3]
          6b 0c 82 04 00 00 00 65 80 04 31 30 30 31  -- connection { call [2], device [0] }
          63 06 80 04 31 30 30 31                    -- alertingDevice
          61 0e 80 0c 2b 31 34 31 35 35 35 35 30 31 32 33  -- callingDevice
          62 0c 80 0a 38 30 30 35 35 35 30 31 30 30        -- calledDevice
          64 02 88 00                                -- lastRedirectionDevice notRequired
          4e 01 02                                   -- localConnectionInfo alerting
          0a 01 16                                   -- cause newCall (22)
    "))
        .await;
}

#[tokio::test]
async fn phase3_make_call_result_and_events() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    // MakeCall (10) { callingDevice 1001, calledDirectoryNumber 1002 }, invoke 2.
    c.send(&h("a1 18 02 01 02 02 01 0a
               30 10 30 06 80 04 31 30 30 31 30 06 80 04 31 30 30 32"))
        .await;
    // returnResult { 2, { 10, MakeCallResult { callingDevice ConnectionID (101 at 1001) } } }
    c.expect(&h(
        "a2 1e 02 01 02 30 19 02 01 0a 30 14
                 6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    let first = c.next().await.expect("event");
    let info = dig(&first, &[0xa1, 0x30, 0xa0]);
    // serviceInitiated [16] or originated [13] first, for 1001's monitor.
    assert!(
        matches!(elements(&info)[0].0, 0xb0 | 0xad),
        "{}",
        show(&first)
    );
    assert_eq!(sw.calls().await[0].id, "101");
}

#[tokio::test]
async fn phase2_make_call_result() {
    let (_sw, mut c) = start(ber(CstaPhase::Two)).await;
    // MakeCall { callingDevice [0] 1001, calledDirectoryNumber [APPLICATION 2] { [0] 1002 } }
    c.send(&h("a1 16 02 01 02 02 01 0a
               30 0e 80 04 31 30 30 31 62 06 80 04 31 30 30 32"))
        .await;
    // returnResult { 2, { 10, ConnectionID { call 101, device 1001 } } }
    c.expect(&h("a2 16 02 01 02 30 11 02 01 0a
                 6b 0c 82 04 00 00 00 65 80 04 31 30 30 31"))
        .await;
}

#[tokio::test]
async fn phase3_hold_retrieve_transfer() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    sw.answer("1001").await;
    while c
        .next()
        .await
        .is_some_and(|ev| dig(&ev, &[0xa1, 0x30, 0xa0])[0] != 0xa7)
    {}
    // HoldCall (9) { callToBeHeld { 101 at 1001 } }, invoke 6 → noData.
    c.send(&h(
        "a1 1c 02 01 06 02 01 09 30 14
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    c.expect(&h("a2 0a 02 01 06 30 05 02 01 09 05 00")).await; // noData
    let held = c.next().await.expect("held");
    assert_eq!(dig(&held, &[0xa1, 0x30, 0xa0])[0], 0xa9, "held [9]");
    // SingleStepTransferCall (50) { activeCall (a held call is allowed), transferredTo 1002 }.
    c.send(&h("a1 24 02 01 07 02 01 32 30 1c
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               30 06 80 04 31 30 30 32"))
        .await;
    let result = c.next().await.expect("result");
    assert_eq!(result[0], 0xa2, "{}", show(&result));
    let calls = sw.calls().await;
    assert!(calls[0].state_of("1002").is_some(), "{calls:?}");
}

#[tokio::test]
async fn phase3_consultation_then_transfer() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.ring("+14155550123", "1001").await;
    sw.answer("1001").await;
    while c.next().await.is_some_and(|ev| call_event(&ev).0 != 0xa7) {}
    // ConsultationCall (7) { existingCall [0] IMPLICIT ConnectionID (101 at 1001),
    // consultedDevice [1] DeviceID 1002 }, invoke 6.
    c.send(&h("a1 26 02 01 06 02 01 07 30 1e
               a0 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               a1 08 30 06 80 04 31 30 30 32"))
        .await;
    // ConsultationCallResult { initiatedCall (102 at 1001) }
    c.expect(&h(
        "a2 1e 02 01 06 30 19 02 01 07 30 14
                 6b 12 30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    sw.answer("1002").await;
    // TransferCall (16) { heldCall 101 at 1001, activeCall 102 at 1001 }, invoke 7.
    c.send(&h(
        "a1 30 02 01 07 02 01 10 30 28
               6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
               6b 12 30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    let mut transferred = None;
    let mut result = None;
    while transferred.is_none() || result.is_none() {
        let apdu = c.next().await.expect("link closed");
        if apdu[0] == 0xa2 {
            result = Some(apdu);
        } else if call_event(&apdu).0 == 0xb1 {
            transferred = Some(apdu);
        }
    }
    let result = result.unwrap();
    assert_eq!(dig(&result, &[0xa2, 0x02]), [7]);
    let (_, fields) = call_event(&transferred.unwrap());
    let tags: Vec<u8> = fields.iter().map(|(t, _)| *t).collect();
    // primaryOldCall, secondaryOldCall [0] IMPLICIT, transferringDevice,
    // transferredToDevice, transferredConnections [1] IMPLICIT,
    // localConnectionInfo, cause
    assert_eq!(tags, [0x6b, 0xa0, 0x63, 0x63, 0xa1, 0x4e, 0x0a]);
    assert_eq!(
        fields[1].1,
        h("30 10 80 04 00 00 00 66 a1 08 30 06 80 04 31 30 30 31")
    );
    assert_eq!(fields[5].1, [0], "1001 has left: null");
    assert_eq!(fields[6].1, [32], "cause transfer");
}

#[tokio::test]
async fn snapshot_device_both_phases() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    sw.ring("+14155550123", "1001").await;
    // SnapshotDevice (74) { snapshotObject 1001 }, invoke 3.
    c.send(&h("a1 10 02 01 03 02 01 4a 30 08 30 06 80 04 31 30 30 31"))
        .await;
    // { crossRefIDorSnapshotData snapshotData [APPLICATION 22] { { connection
    // 101 at 1001, localCallState compoundCallState [0] { alerting } } } }
    c.expect(&h("a2 27 02 01 03 30 22 02 01 4a 30 1d 76 1b 30 19
                 6b 12 30 10 80 04 00 00 00 65 a1 08 30 06 80 04 31 30 30 31
                 a0 03 4e 01 02"))
        .await;

    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    sw.ring("+14155550123", "1001").await;
    // Phase II: the bare DeviceID; the bare SnapshotDeviceData back.
    c.send(&h("a1 0c 02 01 03 02 01 4a 80 04 31 30 30 31"))
        .await;
    c.expect(&h(
        "a2 1f 02 01 03 30 1a 02 01 4a 76 15 30 13
                 6b 0c 82 04 00 00 00 65 80 04 31 30 30 31 a0 03 4e 01 02",
    ))
    .await;
}

#[tokio::test]
async fn phase3_agent_state_set_and_get() {
    let (sw, mut c) = start(ber(CstaPhase::Three)).await;
    c.send(&h(MONITOR_1001_P3)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    // SetAgentState (312) { device 1001, loggedOn (0), agentID [2] "5001",
    // password [3] "1234" }, invoke 4.
    c.send(&h("a1 20 02 01 04 02 02 01 38
               30 17 30 06 80 04 31 30 30 31 0a 01 00
                     82 04 35 30 30 31 83 04 31 32 33 34"))
        .await;
    // returnResult { 4, { 312, SetAgentStateResult {} } }
    c.expect(&h("a2 0b 02 01 04 30 06 02 02 01 38 30 00")).await;
    let ev = c.next().await.expect("agent event");
    // logicalDeviceFeatureEvents [4], agentLoggedOn [1] { agentDevice, agentID [2] }
    assert_eq!(
        show(&dig(&ev, &[0xa1, 0x30, 0xa4, 0xa1])),
        show(&h("63 08 30 06 80 04 31 30 30 31 82 04 35 30 30 31"))
    );
    // GetAgentState (304) { device 1001 }, invoke 5: agentNotReady (0), logged on.
    c.send(&h(
        "a1 11 02 01 05 02 02 01 30 30 08 30 06 80 04 31 30 30 31",
    ))
    .await;
    c.expect(&h(
        "a2 1f 02 01 05 30 1a 02 02 01 30
                 30 14 30 12 30 10 04 04 35 30 30 31 01 01 ff 30 05 30 03 0a 01 00",
    ))
    .await;
    sw.agent("5001", "1001", AgentRequest::Ready).await;
    let ready = c.next().await.expect("ready event");
    assert_eq!(elements(&dig(&ready, &[0xa1, 0x30, 0xa4]))[0].0, 0xa4);
}

#[tokio::test]
async fn phase2_agent_events_from_the_phone() {
    let (sw, mut c) = start(ber(CstaPhase::Two)).await;
    c.send(&h(MONITOR_1001_P2)).await;
    c.expect(&h(MONITOR_RESULT)).await;
    sw.agent("5001", "1001", AgentRequest::LoggedOn).await;
    // agentStateEvent [2] { loggedOn [0] { agentDevice [APPLICATION 3] { [0] 1001 },
    // agentID [10] IMPLICIT "5001" } }
    c.expect(&h("a1 20 02 01 01 02 01 15 30 18 55 04 00 00 00 01
                 a2 10 a0 0e 63 06 80 04 31 30 30 31 8a 04 35 30 30 31"))
        .await;
    sw.agent("5001", "1001", AgentRequest::WorkingAfterCall)
        .await;
    let wac = c.next().await.expect("event");
    // workNotReady [4]
    assert_eq!(elements(&dig(&wac, &[0xa1, 0x30, 0xa2]))[0].0, 0xa4);
}
