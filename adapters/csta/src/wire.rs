//! The link's codec as the session sees it: CSTA XML in one of its framings, or
//! BER APDUs after a 2-byte length. Either way a message comes in as an element
//! (with the invoke id its framing or ROSE carried) and a request goes out from
//! the element the request builders wrote.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::ber::{self, framing::BerCodec, Module};
use crate::config::{CstaConfig, Encoding};
use crate::framing::{Decoded, Frame, FrameCodec};
use crate::xml::Element;

/// The decoder half, for `FramedRead`.
#[derive(Debug)]
pub enum LinkCodec {
    Xml(FrameCodec),
    Ber(BerCodec),
}

impl Decoder for LinkCodec {
    type Item = Decoded;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        match self {
            LinkCodec::Xml(codec) => codec.decode(buf),
            LinkCodec::Ber(codec) => codec.decode(buf),
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Decoded>, std::io::Error> {
        match self {
            LinkCodec::Xml(codec) => codec.decode_eof(buf),
            LinkCodec::Ber(codec) => codec.decode_eof(buf),
        }
    }
}

/// A message read off the link.
#[derive(Debug)]
pub struct Incoming {
    /// The invoke id an answer refers to (or a switch request carries), as the
    /// session numbers requests.
    pub invoke_id: Option<u16>,
    /// A switch request's invoke id as the switch sent it, for our answer.
    pub answer_id: Option<i64>,
    pub root: Element,
    /// The switch invoked an operation that wants an answer (BER: any invoke but
    /// an event report).
    pub wants_answer: bool,
}

/// The encoder half and the per-message reading.
pub enum Wire {
    Xml(FrameCodec),
    Ber {
        codec: BerCodec,
        module: &'static Module,
        /// The application context of the ACSE association (`acse = true`).
        acse_context: Vec<u32>,
    },
}

impl Wire {
    /// The reader's codec and the wire for `config`.
    pub fn new(config: &CstaConfig) -> (LinkCodec, Wire) {
        match config.encoding {
            Encoding::Xml => (
                LinkCodec::Xml(FrameCodec::new(config.framing)),
                Wire::Xml(FrameCodec::new(config.framing)),
            ),
            Encoding::Ber => (
                LinkCodec::Ber(BerCodec::default()),
                Wire::Ber {
                    codec: BerCodec::default(),
                    module: config.ber_phase().module(),
                    acse_context: config.acse_context(),
                },
            ),
        }
    }

    /// Whether requests are matched to answers by invoke id (otherwise in order).
    pub fn carries_invoke_id(&self, config: &CstaConfig) -> bool {
        match self {
            Wire::Xml(_) => config.framing.carries_invoke_id(),
            Wire::Ber { .. } => true,
        }
    }

    /// Whether the link can carry `service` (the XML link carries all).
    pub fn can_send(&self, service: &str) -> bool {
        match self {
            Wire::Xml(_) => true,
            Wire::Ber { module, .. } => ber::can_send(service, module),
        }
    }

    /// Why a command's request cannot go out on this link, before it is sent: a BER
    /// request is encoded once to find out, so a client's bad value (a call id that
    /// is no hex, a state the phase has no value for) is that command's error and
    /// never a write failure that would drop the link.
    pub fn refusal(&self, xml: &str) -> Option<ctibridge_adapter::CommandError> {
        use ctibridge_adapter::CommandError;
        let Wire::Ber { module, .. } = self else {
            return None;
        };
        let element = match Element::parse(xml.as_bytes()) {
            Ok(element) => element,
            Err(e) => return Some(CommandError::Rejected(e.to_string())),
        };
        match ber::write(0, &element, module) {
            Ok(_) => None,
            Err(ber::WriteError::CallId(id)) => Some(CommandError::CallNotFound(format!(
                "`{id}` is not a call of this switch (BER call ids are hex octets)"
            ))),
            Err(e @ ber::WriteError::Unsupported { .. }) => {
                Some(CommandError::NotSupported(e.to_string()))
            }
            Err(e) => Some(CommandError::Rejected(e.to_string())),
        }
    }

    /// The bytes of one request or answer (`xml` as the request builders wrote it).
    pub fn encode(&mut self, invoke: Option<i64>, xml: String) -> Result<BytesMut, String> {
        let mut buf = BytesMut::new();
        match self {
            Wire::Xml(codec) => {
                let invoke = invoke.and_then(|i| u16::try_from(i).ok());
                codec
                    .encode((invoke, xml), &mut buf)
                    .map_err(|e| e.to_string())?;
            }
            Wire::Ber {
                codec,
                module,
                acse_context,
            } => {
                let element = Element::parse(xml.as_bytes()).map_err(|e| e.to_string())?;
                // The session's start and end are the ACSE association's (no ROSE).
                let apdu = match ber::acse::write(&element, acse_context) {
                    Some(apdu) => apdu?,
                    None => ber::write(invoke.unwrap_or(0), &element, module)
                        .map_err(|e| e.to_string())?,
                };
                codec.encode(apdu, &mut buf).map_err(|e| e.to_string())?;
            }
        }
        Ok(buf)
    }

    /// A BER link's ROSE reject of the switch's invoke `invoke` for an operation
    /// this adapter does not serve (X.880 `unrecognizedOperation`), so the switch
    /// need not wait out its timer; none on an XML link, which has no such answer.
    pub fn reject_unrecognized(&mut self, invoke: i64) -> Option<Result<BytesMut, String>> {
        let Wire::Ber { codec, .. } = self else {
            return None;
        };
        Some(ber::rose::reject_unrecognized(invoke).and_then(|apdu| {
            let mut buf = BytesMut::new();
            codec.encode(apdu, &mut buf).map_err(|e| e.to_string())?;
            Ok(buf)
        }))
    }

    /// One frame as an element; the error names where in the stream it failed.
    pub fn read(&self, frame: &Frame) -> Result<Incoming, String> {
        match self {
            Wire::Xml(_) => Element::parse(&frame.xml)
                .map(|root| Incoming {
                    invoke_id: frame.invoke_id,
                    answer_id: frame.invoke_id.map(i64::from),
                    root,
                    wants_answer: false,
                })
                .map_err(|e| e.to_string()),
            Wire::Ber { module, .. } => {
                // The APDU starts after the 2-byte prefix.
                let inbound = ber::read(&frame.xml, module).map_err(|e| {
                    format!(
                        "undecodable APDU at byte {}: {}",
                        frame.offset + 2 + e.offset as u64,
                        e.message
                    )
                })?;
                Ok(Incoming {
                    invoke_id: inbound.invoke_id.and_then(|i| u16::try_from(i).ok()),
                    answer_id: inbound.invoke_id,
                    root: inbound.root,
                    wants_answer: inbound.wants_answer,
                })
            }
        }
    }
}
