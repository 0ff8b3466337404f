//! The routing dialogue: a call at a route point is offered to the
//! application that registered for it (`RouteRequest`), which selects a
//! destination (`RouteSelectRequest`) or gives up (`RouteEndRequest`); with
//! no registration, no answer in time, or an unusable choice, the call
//! takes the route point's default route. On a BER link (Phase III) the
//! switch's messages are `routeRequest` and `routeEndRequest` invokes.

use super::super::shared::CstaError;
use super::super::wire::EVENT_INVOKE_ID;
use super::{PendingRoute, Router, TimerMsg};

impl Router {
    pub(super) fn default_route(&self, route_point: &str) -> String {
        self.cfg
            .route_points
            .iter()
            .find(|r| r.device == route_point)
            .map(|r| r.default_route.clone())
            .unwrap_or_default()
    }

    /// A call reached a route point: ask the registered application, or
    /// take the default route at once when none is registered.
    pub(super) fn start_route(&mut self, call: &str, route_point: &str) {
        let calling = self
            .model
            .calls()
            .into_iter()
            .find(|c| c.id == call)
            .map(|c| c.calling)
            .unwrap_or_default();
        let reg = self.link.as_ref().and_then(|l| {
            l.route_regs
                .iter()
                .find(|(_, d)| d.as_deref().is_none_or(|d| d == route_point))
                .map(|(r, _)| (*r, l.id))
        });
        let Some((reg, link)) = reg else {
            let default = self.default_route(route_point);
            self.finish_route(call, route_point, &default);
            return;
        };
        let xref = self.next_route_xref;
        self.next_route_xref += 1;
        self.routes.insert(
            xref,
            PendingRoute {
                call: call.to_owned(),
                route_point: route_point.to_owned(),
                reg,
                link,
            },
        );
        if let Some(encoder) = self.ber.clone() {
            // BER: an invoke of its own (ROSE numbers every invoke), wanting
            // no result; the client's routeSelectRequest answers it.
            let Some(invoke) = self.link.as_mut().map(|l| i64::from(l.invoke_id())) else {
                return;
            };
            match encoder.route_request(invoke, (reg, xref), route_point, &calling, call) {
                Some(apdu) => self.send_apdu(&apdu),
                None => tracing::warn!("fake switch: no BER routeRequest in this phase"),
            }
        } else {
            let xml = self.writer.route_request(
                &reg.to_string(),
                &xref.to_string(),
                route_point,
                &calling,
                call,
            );
            self.send(EVENT_INVOKE_ID, &xml);
        }
        self.after(self.cfg.route_timeout, TimerMsg::RouteTimeout { xref });
    }

    pub(super) fn take_route(&mut self, xref: &str) -> Result<PendingRoute, CstaError> {
        xref.parse::<u32>()
            .ok()
            .and_then(|x| self.routes.remove(&x))
            .ok_or(CstaError::Operation("invalidCrossRefID"))
    }

    pub(super) fn route_selected(&mut self, pending: PendingRoute, xref: &str, selected: &str) {
        let error = match self
            .model
            .route_to(&pending.call, &pending.route_point, selected)
        {
            Ok(()) => {
                self.answer_route_waiter(&pending.call, selected);
                None
            }
            Err(e) => {
                // Unusable selection: the call still has to go somewhere.
                let default = self.default_route(&pending.route_point);
                self.finish_route(&pending.call, &pending.route_point, &default);
                Some(e)
            }
        };
        self.send_route_end(&pending, xref, error);
    }

    pub(super) fn send_route_end(
        &mut self,
        pending: &PendingRoute,
        xref: &str,
        error: Option<CstaError>,
    ) {
        if self.link.as_ref().is_none_or(|l| l.id != pending.link) {
            return;
        }
        if let Some(encoder) = self.ber.clone() {
            let Some(xref) = xref.parse::<u32>().ok() else {
                return;
            };
            let Some(invoke) = self.link.as_mut().map(|l| i64::from(l.invoke_id())) else {
                return;
            };
            if let Some(apdu) = encoder.route_end(invoke, (pending.reg, xref), error) {
                self.send_apdu(&apdu);
            }
        } else {
            let xml = self.writer.route_end(&pending.reg.to_string(), xref, error);
            self.send(EVENT_INVOKE_ID, &xml);
        }
    }

    pub(super) fn finish_route(&mut self, call: &str, route_point: &str, dest: &str) {
        if let Err(e) = self.model.route_to(call, route_point, dest) {
            tracing::debug!(call, dest, ?e, "fake switch: route not taken");
        }
        self.answer_route_waiter(call, dest);
    }

    fn answer_route_waiter(&mut self, call: &str, dest: &str) {
        if let Some(tx) = self.route_waiters.remove(call) {
            let _ = tx.send(dest.to_owned());
        }
    }
}
