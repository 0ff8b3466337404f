//! Data-directed routing: a switch asks where to send a call (a CSTA RouteRequest
//! from a route point / VDN); the engine looks the caller up in the CRM and, when the
//! contact has a `route` (e.g. a priority queue for a key account), answers with a
//! RouteSelect. Without one the engine does not answer, and the adapter's own
//! fallback applies (its `route_default`, or the switch's default route) when its
//! routing timer runs out, so a slow database never strands a call.

use ctibridge_adapter::{Command, CommandRequest};

use super::{Engine, Internal};
use crate::crm::db;
use crate::crm::lookup::{self, CallerInfo};

impl Engine {
    pub(super) fn on_route_request(
        &mut self,
        switch: &str,
        route_id: String,
        calling: Option<String>,
    ) {
        let Some(number) = calling else {
            tracing::debug!(
                switch,
                route_id,
                "route request without a caller number; left to the fallback"
            );
            return;
        };
        let pool = self.pool.clone();
        let lookup = self.config.lookup.clone();
        let internal = self.internal_tx.clone();
        let switch = switch.to_string();
        tokio::spawn(async move {
            let result = db::with_conn(&pool, move |conn| {
                lookup::lookup_call(conn, Some(&number), None, &lookup)
            })
            .await
            .map_err(|e| e.to_string());
            let _ = internal.send(Internal::RouteLookupDone {
                switch,
                route_id,
                result,
            });
        });
    }

    pub(super) fn route_lookup_done(
        &mut self,
        switch: String,
        route_id: String,
        result: Result<CallerInfo, String>,
    ) {
        let info = match result {
            Ok(info) => info,
            Err(e) => {
                tracing::warn!(
                    switch,
                    route_id,
                    "route look-up failed ({e}); left to the fallback"
                );
                return;
            }
        };
        let Some((contact, destination)) = info
            .matches
            .iter()
            .find_map(|m| m.route.clone().map(|r| (m.name.clone(), r)))
        else {
            tracing::debug!(switch, route_id, "no contact route; left to the fallback");
            return;
        };
        let Some(link) = self.switches.get(&switch).filter(|l| l.up) else {
            return;
        };
        tracing::info!(
            switch,
            route_id,
            contact,
            destination,
            "routing the call by its contact"
        );
        let (request, answer) = CommandRequest::new(Command::RouteSelect {
            route_id: route_id.clone(),
            destination,
        });
        let sender = link.side.commands.clone();
        let timeout = link.request_timeout;
        tokio::spawn(async move {
            if sender.try_send(request).is_err() {
                tracing::warn!(
                    switch,
                    route_id,
                    "switch not taking commands; route left to the fallback"
                );
                return;
            }
            match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(Ok(_))) => {}
                Ok(Ok(Err(e))) => tracing::warn!(switch, route_id, "route select refused: {e}"),
                _ => tracing::warn!(switch, route_id, "route select not confirmed"),
            }
        });
    }
}
