//! Serial ports, through tokio-serial (built without libudev: ports are opened by
//! path, never enumerated).
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
        .map_err(io::Error::from)?;
    Ok(Opened {
        stream: Box::new(stream),
        peer: format!("{} at {} baud", line.path, line.baud),
    })
}
