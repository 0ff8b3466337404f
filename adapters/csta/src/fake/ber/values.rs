//! What both phases share: call ids and monitor cross-reference ids as
//! octet strings, the local connection state, manufacturer private data,
//! the time stamp, and the error a request's argument reader returns.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::model::{CallSnapshot, PartyState};
use super::super::shared::{Conn, CstaError};
use super::tlv::{self, BerError};

/// Why a request's argument was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// The argument is not the type the operation takes: a ROSE reject
    /// (`mistypedArgument`).
    Mistyped(BerError),
    /// Well formed, but a value the switch refuses: a CSTA error.
    Csta(CstaError),
}

impl From<BerError> for ArgError {
    fn from(e: BerError) -> Self {
        ArgError::Mistyped(e)
    }
}

/// `LocalConnectionState ::= [APPLICATION 14] IMPLICIT ENUMERATED`.
pub const LOCAL_CONNECTION_STATE: u8 = 0x4e;
/// `MonitorCrossRefID ::= [APPLICATION 21] IMPLICIT OCTET STRING`.
pub const MONITOR_CROSS_REF_ID: u8 = 0x55;
/// `SystemStatus` value `normal`, the same number in both phases.
pub const SYSTEM_STATUS_NORMAL: i64 = 2;
/// `universalFailure ERROR ... CODE local:1`, both phases.
pub const UNIVERSAL_FAILURE: i64 = 1;

/// A call id as the switch sends it: the model's number as four big-endian
/// octets (binary, as the BER switches we know send theirs); any other id
/// as its characters.
pub fn call_octets(id: &str) -> Vec<u8> {
    match id.parse::<u32>() {
        Ok(n) => n.to_be_bytes().to_vec(),
        Err(_) => id.as_bytes().to_vec(),
    }
}

/// A call id from the client, back to the model's form: up to eight octets
/// are a big-endian number (any width, so a client that strips leading
/// zero octets still names the call); longer ones cannot be the fake's and
/// are kept as hex, which names no call.
pub fn call_from_octets(v: &[u8]) -> String {
    if v.is_empty() {
        return String::new();
    }
    if v.len() <= 8 {
        return v
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            .to_string();
    }
    v.iter().map(|b| format!("{b:02x}")).collect()
}

/// A monitor cross-reference id: like call ids, four big-endian octets.
pub fn xref_octets(xref: &str) -> Vec<u8> {
    call_octets(xref)
}

/// `LocalConnectionState` value of a connection (`None` = `null`).
pub fn local_state(state: Option<PartyState>) -> i64 {
    match state {
        None => 0,
        Some(PartyState::Initiated) => 1,
        Some(PartyState::Alerting) => 2,
        Some(PartyState::Connected) => 3,
        Some(PartyState::Held) => 4,
        Some(PartyState::Queued) => 5,
        Some(PartyState::Failed) => 6,
    }
}

pub fn local_state_element(state: Option<PartyState>) -> Vec<u8> {
    tlv::int(LOCAL_CONNECTION_STATE, local_state(state))
}

/// A manufacturer's private data as `SEQUENCE { manufacturer OBJECT
/// IDENTIFIER, data OCTET STRING }`, with `id` as the identifier octet (a
/// universal SEQUENCE in Phase III's `CSTAPrivateData` alternative, an
/// application tag in Phase II). `None` when the identifier is not a valid
/// object identifier.
pub fn private_data(id: u8, manufacturer: &[u32], data: &[u8]) -> Option<Vec<u8>> {
    let oid = tlv::oid_octets(manufacturer)?;
    Some(tlv::cons(id, &[tlv::tlv(0x06, &oid), tlv::tlv(0x04, data)]))
}

/// `SnapshotDeviceData ::= [APPLICATION 22] IMPLICIT SEQUENCE OF SEQUENCE {
/// connectionIdentifier ConnectionID, localCallState CallState }` (the
/// same in both phases but for how `conn` writes a connection): each call at
/// `device` with its state there as a `compoundCallState [0] IMPLICIT`.
pub fn snapshot_data(
    device: &str,
    calls: &[CallSnapshot],
    conn: impl Fn(&Conn) -> Vec<u8>,
) -> Vec<u8> {
    let infos: Vec<Vec<u8>> = calls
        .iter()
        .filter_map(|call| {
            let state = call.state_of(device)?;
            Some(tlv::cons(
                0x30,
                &[
                    conn(&Conn::new(&call.id, device)),
                    tlv::cons(0xa0, &[local_state_element(Some(state))]),
                ],
            ))
        })
        .collect();
    tlv::cons(0x76, &infos)
}

/// Events' extras from the configuration: the time stamp (Phase III) and
/// the manufacturer's private data.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub timestamp: Option<String>,
    pub private: Option<(Vec<u32>, Vec<u8>)>,
}

/// The number in a device identifier's alternative (the same tags in both
/// phases: `dialingNumber [0]`, `deviceNumber [1]`, `implicitPublic [2]`,
/// `explicitPublic [3]`, `implicitPrivate [4]`, `explicitPrivate [5]`,
/// `other [6]`).
pub fn identifier_text(t: &tlv::Tlv<'_>) -> Result<String, BerError> {
    if t.tag.class != tlv::Class::Context {
        return Err(BerError::at(
            t.offset,
            format!("device identifier: unexpected {}", t.tag),
        ));
    }
    match t.tag.number {
        0 | 2 | 4 | 6 => t.text(),
        1 => Ok(t.integer()?.to_string()),
        // explicitPublic / explicitPrivate: a type-of-number CHOICE around
        // the digits.
        3 | 5 => t.inner()?.text(),
        _ => Err(BerError::at(
            t.offset,
            format!("device identifier: unknown alternative {}", t.tag),
        )),
    }
}

/// `GeneralizedTime` text (`YYYYMMDDHHMMSSZ`, UTC) of `t`.
pub fn generalized_time(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn call_ids_round_trip() {
        assert_eq!(call_octets("7"), [0, 0, 0, 7]);
        assert_eq!(call_from_octets(&[0, 0, 0, 7]), "7");
        assert_eq!(call_from_octets(&[7]), "7");
        assert_eq!(call_from_octets(&[]), "");
        assert_eq!(call_octets("x1"), b"x1");
        assert_eq!(call_from_octets(&[1; 9]), "010101010101010101");
    }

    #[test]
    fn time_stamps() {
        assert_eq!(generalized_time(UNIX_EPOCH), "19700101000000Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_796_634_245);
        assert_eq!(generalized_time(t), "20261207090405Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(generalized_time(leap), "20000229000000Z");
    }
}
