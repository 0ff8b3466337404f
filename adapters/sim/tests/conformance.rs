//! The adapter conformance kit, run against the simulator with no automatic behaviour:
//! the kit's driver is a `SimControl` (an outside caller, a link outage).

use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_sim::{SimAdapter, SimConfig, SimControl};

struct Driver(SimControl);

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a> {
        Box::pin(self.0.ring(from, to))
    }

    fn drop_link(&mut self) -> DriverFuture<'_> {
        Box::pin(self.0.drop_link(Duration::from_millis(200)))
    }
}

#[tokio::test]
async fn the_simulator_passes_the_conformance_kit() {
    let devices = vec!["1001".to_string(), "1002".to_string()];
    let (adapter, control) = SimAdapter::with_control(devices, SimConfig::default());
    let mut driver = Driver(control);
    let report = testkit::run(Box::new(adapter), &mut driver, KitConfig::default())
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    report
        .complete()
        .unwrap_or_else(|e| panic!("{e}: {report:?}"));
}
