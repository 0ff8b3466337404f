//! Data-directed routing: a switch asks where to send a call (a CSTA RouteRequest
//! from a route point / VDN); the engine looks the caller up in the CRM and, when the
//! contact has a `route` (e.g. a priority queue for a key account), answers with a
//! RouteSelect. Without one the engine does not answer, and the adapter's own
//! fallback applies (its `route_default`, or the switch's default route) when its
//! routing timer runs out, so a slow database never strands a call.

use ctibridge_adapter::Command;

use super::effects::{AfterCommand, DbJob, Effect};
use super::Engine;
use crate::crm::db::DbError;
use crate::crm::lookup::CallerInfo;

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
        self.effects.push(Effect::Db(DbJob::RouteLookup {
            switch: switch.to_string(),
            route_id,
            number,
        }));
    }

    pub(super) fn route_lookup_done(
        &mut self,
        switch: String,
        route_id: String,
        result: Result<CallerInfo, DbError>,
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
        if !self.switches.get(&switch).is_some_and(|l| l.up) {
            return;
        }
        tracing::info!(
            switch,
            route_id,
            contact,
            destination,
            "routing the call by its contact"
        );
        self.effects.push(Effect::Command {
            switch,
            command: Command::RouteSelect {
                route_id: route_id.clone(),
                destination,
            },
            then: AfterCommand::Route { route_id },
        });
    }
}
