//! The simulated switch's number plan: which numbers are its extensions, which are
//! ACD groups (directly or through a DNIS), and which lead outside.

use std::collections::{BTreeMap, BTreeSet};

use ctibridge_adapter::CommandError;

/// Where a dialled number leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// One of the switch's extensions.
    Device(String),
    /// An ACD group, dialled by its own number or by a DNIS that maps to it.
    Queue(String),
    /// A number outside the switch (a trunk call).
    External(String),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct NumberPlan {
    devices: BTreeSet<String>,
    queues: BTreeSet<String>,
    dnis: BTreeMap<String, String>,
}

impl NumberPlan {
    pub(crate) fn new(
        devices: impl IntoIterator<Item = String>,
        queues: impl IntoIterator<Item = String>,
        dnis: BTreeMap<String, String>,
    ) -> Self {
        NumberPlan {
            devices: devices.into_iter().collect(),
            queues: queues.into_iter().collect(),
            dnis,
        }
    }

    pub(crate) fn is_device(&self, number: &str) -> bool {
        self.devices.contains(number)
    }

    /// Whether `number` belongs to this switch (an extension, a queue or a DNIS).
    pub(crate) fn is_own(&self, number: &str) -> bool {
        self.devices.contains(number)
            || self.queues.contains(number)
            || self.dnis.contains_key(number)
    }

    /// The numbers an outside caller dials to reach a queue: every DNIS, and each
    /// queue no DNIS leads to (the generator's targets).
    pub(crate) fn entry_numbers(&self) -> Vec<String> {
        let mapped: BTreeSet<&String> = self.dnis.values().collect();
        self.dnis
            .keys()
            .cloned()
            .chain(self.queues.iter().filter(|q| !mapped.contains(q)).cloned())
            .collect()
    }

    /// Where `number` leads, or `InvalidDestination` when it is not a number at all.
    pub(crate) fn classify(&self, number: &str) -> Result<Destination, CommandError> {
        if self.devices.contains(number) {
            Ok(Destination::Device(number.to_string()))
        } else if self.queues.contains(number) {
            Ok(Destination::Queue(number.to_string()))
        } else if let Some(queue) = self.dnis.get(number) {
            Ok(Destination::Queue(queue.clone()))
        } else if is_dialable(number) {
            Ok(Destination::External(number.to_string()))
        } else {
            Err(CommandError::InvalidDestination(format!(
                "`{number}` is not a dialable number"
            )))
        }
    }
}

/// `^\+?[0-9*#]{1,32}$`: what a caller can dial on a keypad, with an optional `+`.
pub(crate) fn is_dialable(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (1..=32).contains(&digits.len())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> NumberPlan {
        NumberPlan::new(
            ["1001".to_string()],
            ["8000".to_string(), "8001".to_string()],
            [("8005550100".to_string(), "8000".to_string())].into(),
        )
    }

    #[test]
    fn numbers_are_classified() {
        let plan = plan();
        assert_eq!(
            plan.classify("1001"),
            Ok(Destination::Device("1001".into()))
        );
        assert_eq!(plan.classify("8001"), Ok(Destination::Queue("8001".into())));
        assert_eq!(
            plan.classify("8005550100"),
            Ok(Destination::Queue("8000".into()))
        );
        assert_eq!(
            plan.classify("+14155550123"),
            Ok(Destination::External("+14155550123".into()))
        );
        assert_eq!(
            plan.classify("*72#"),
            Ok(Destination::External("*72#".into()))
        );
        for bad in ["", "+", "not a number", "12 34", "++1", &"1".repeat(33)] {
            assert!(
                matches!(plan.classify(bad), Err(CommandError::InvalidDestination(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn entry_numbers_are_dnis_and_unmapped_queues() {
        assert_eq!(plan().entry_numbers(), vec!["8005550100", "8001"]);
    }
}
