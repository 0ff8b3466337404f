//! The routing dialogue over BER (Phase III, ECMA-285 §18): registration,
//! the switch's `routeRequest`, the client's `routeSelectRequest` answered by
//! nothing but the switch's `routeEndRequest`, the timeout's default route,
//! a stale dialogue's error, and Phase II refusing what it does not speak.

use super::*;

// routeRegister (248) { routeingDevice DeviceID "7000" }, invoke 1.
const REGISTER_7000: &str = "a1 11 02 01 01 02 02 00 f8  30 08 30 06 80 04 37 30 30 30";

#[tokio::test]
async fn phase3_route_request_select_and_end() {
    let mut config = ber(CstaPhase::Three);
    config.route_timeout = Duration::from_millis(300);
    let (sw, mut c) = start(config).await;
    c.send(&h(REGISTER_7000)).await;
    // returnResult { 1, { 248, RouteRegisterResult { routeRegisterReqID 00000001 } } }
    c.expect(&h(
        "a2 11 02 01 01 30 0c 02 02 00 f8  30 06 04 04 00 00 00 01",
    ))
    .await;

    let sw2 = sw.clone();
    let routed = tokio::spawn(async move { sw2.route("+15550001", "7000").await });
    c.expect(&h("
        a1 4b 02 01 01 02 01 1f                      -- invoke 1, routeRequest (31)
        30 43 58 04 00 00 00 01                      -- crossRefIdentifier [APPLICATION 24]
              80 04 00 00 00 01                      -- routeRegisterReqID [0]
              62 08 30 06 80 04 37 30 30 30          -- currentRoute 7000
              61 0d 30 0b 80 09 2b 31 35 35 35 30 30 30 31  -- callingDevice
              63 08 30 06 80 04 37 30 30 30          -- routeingDevice 7000
              6b 12 30 10 80 04 00 00 00 65          -- routedCall both { callID 101,
                    a1 08 30 06 80 04 37 30 30 30    --   deviceID 7000 }
    "))
        .await;
    // routeSelectRequest (33) { crossRefIdentifier, routeRegisterReqID,
    // routeSelected [1] { DeviceID "1002" } }, invoke 2.
    c.send(&h(
        "a1 1e 02 01 02 02 01 21
               30 16 58 04 00 00 00 01 80 04 00 00 00 01 a1 08 30 06 80 04 31 30 30 32",
    ))
    .await;
    // No returnResult (ALWAYS RESPONDS FALSE): the next APDU ends the dialogue.
    // routeEndRequest (35) { crossRefIdentifier, routeRegisterReqID }, invoke 2.
    c.expect(&h("a1 14 02 01 02 02 01 23
                 30 0c 58 04 00 00 00 01 80 04 00 00 00 01"))
        .await;
    assert_eq!(routed.await.expect("route task"), "1002");

    // Nobody answers the second: default route, and the end carries errorValue
    // [1] { operation [0] generic }.
    let sw2 = sw.clone();
    let routed = tokio::spawn(async move { sw2.route("+15550002", "7000").await });
    let request = c.next().await.expect("routeRequest");
    assert_eq!(dig(&request, &[0xa1, 0x30, 0x58]), [0, 0, 0, 2]);
    c.expect(&h(
        "a1 1b 02 01 04 02 01 23
                 30 13 58 04 00 00 00 02 80 04 00 00 00 01 a1 05 a0 03 0a 01 01",
    ))
    .await;
    assert_eq!(routed.await.expect("route task"), "8000");

    // A dialogue that has ended: routeEndRequest { 999 } earns returnError
    // { 3, universalFailure, operation [0] invalidCrossRefID (17) }.
    c.send(&h("a1 0f 02 01 03 02 01 23  30 07 58 02 03 e7 80 01 01"))
        .await;
    c.expect(&h("a3 0b 02 01 03 02 01 01 a0 03 0a 01 11")).await;
    assert_eq!(
        sw.received().await,
        ["RouteRegister", "RouteSelectRequest", "RouteEndRequest"]
    );
}

#[tokio::test]
async fn a_client_cannot_invoke_the_switchs_route_request() {
    let (_sw, mut c) = start(ber(CstaPhase::Three)).await;
    // routeRequest (31) from the client: reject { 5, invoke unrecognizedOperation }.
    c.send(&h("a1 0c 02 01 05 02 01 1f  30 04 58 02 00 01"))
        .await;
    c.expect(&h("a4 06 02 01 05 81 01 01")).await;
}

#[tokio::test]
async fn phase2_has_no_route_register() {
    let (_sw, mut c) = start(ber(CstaPhase::Two)).await;
    c.send(&h(REGISTER_7000)).await;
    c.expect(&h("a4 06 02 01 01 81 01 01")).await;
}
