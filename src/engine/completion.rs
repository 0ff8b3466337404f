//! [`Completion`]: the call record that completes a call's row, kept on the call until
//! the call ends (a leaf: both the call table and the record correlation use it).

use crate::crm::writes::DbWrite;

/// A record that completes a call's row.
#[derive(Debug, Clone)]
pub struct Completion {
    pub raw: String,
    pub key: String,
    pub transfer_to: Option<String>,
}

impl Completion {
    pub fn write(&self, call_id: &str) -> DbWrite {
        DbWrite::CallRecordMerge {
            call_id: call_id.to_string(),
            record_key: self.key.clone(),
            raw: self.raw.clone(),
            transferred_to: self.transfer_to.clone(),
        }
    }
}
