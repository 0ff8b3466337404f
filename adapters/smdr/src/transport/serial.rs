//! Serial ports, through tokio-serial (built without libudev: ports are opened by
//! path, never enumerated).
//!
//! An error opening the port names its path (`/dev/ttyUSB0: No such file or
//! directory`), so the log says which device is missing.
//!
//! A USB-serial adapter that is unplugged makes reads fail (or end); the adapter
//! then reopens the same path with backoff until the device is back. Give a stable
//! path (`/dev/serial/by-id/…`) so a re-plugged adapter that comes back as another
//! `ttyUSBn` is still found.

use std::io;

use tokio_serial::{DataBits, FlowControl, Parity, SerialPortBuilderExt, StopBits};

use super::Opened;
use crate::config::{self, SerialLine};

pub fn open(line: &SerialLine) -> io::Result<Opened> {
    let data_bits = match line.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        _ => DataBits::Eight,
    };
    let parity = match line.parity {
        config::Parity::None => Parity::None,
        config::Parity::Odd => Parity::Odd,
        config::Parity::Even => Parity::Even,
    };
    let stop_bits = match line.stop_bits {
        2 => StopBits::Two,
        _ => StopBits::One,
    };
    let flow_control = match line.flow_control {
        config::FlowControl::None => FlowControl::None,
        config::FlowControl::Software => FlowControl::Software,
        config::FlowControl::Hardware => FlowControl::Hardware,
    };
    let stream = tokio_serial::new(&line.path, line.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(flow_control)
        .open_native_async()
        .map_err(|e| {
            let e = io::Error::from(e);
            io::Error::new(e.kind(), format!("serial port {}: {e}", line.path))
        })?;
    Ok(Opened {
        stream: Box::new(stream),
        peer: format!("{} at {} baud", line.path, line.baud),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_is_named() {
        let line = SerialLine {
            path: "/dev/ctibridge-no-such-tty".into(),
            baud: 9600,
            data_bits: 8,
            parity: config::Parity::None,
            stop_bits: 1,
            flow_control: config::FlowControl::None,
        };
        let err = open(&line).err().expect("no such device");
        assert!(
            err.to_string().contains("/dev/ctibridge-no-such-tty"),
            "{err}"
        );
    }
}
