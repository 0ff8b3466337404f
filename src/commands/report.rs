//! `ctibridge report agents|queues`: reports for managers, as JSON, CSV or a table.

use super::{Failure, Outcome};
use crate::cli::{ReportArgs, ReportFormat as Format};
use crate::crm::db;
use crate::reports::{self, period, render, Kind, Thresholds};

pub fn report(args: ReportArgs) -> Outcome {
    let (url, thresholds) = match (&args.database, &args.config) {
        (Some(url), None) => {
            let defaults = crate::config::ReportsConfig::default();
            (
                url.clone(),
                Thresholds {
                    service_level_s: defaults.service_level.as_secs_f64(),
                    short_abandon_s: defaults.short_abandon.as_secs_f64(),
                },
            )
        }
        (None, Some(file)) => {
            let loaded = crate::config::load_file(file, &crate::adapters::registry())
                .map_err(Failure::config)?;
            let r = &loaded.config.reports;
            (
                loaded.config.database.url.clone(),
                Thresholds {
                    service_level_s: r.service_level.as_secs_f64(),
                    short_abandon_s: r.short_abandon.as_secs_f64(),
                },
            )
        }
        _ => {
            return Err(Failure::config(
                "give either --database URL or --config FILE",
            ))
        }
    };
    let (from, to) =
        period::period(args.from.as_deref(), args.to.as_deref()).map_err(Failure::config)?;
    let pool = db::open(&url).map_err(Failure::new)?;
    let mut conn = pool.get().map_err(Failure::new)?;
    let report =
        reports::build(&mut conn, args.kind, from, to, thresholds).map_err(Failure::new)?;
    let list = match args.kind {
        Kind::Agents => &report["agents"],
        Kind::Queues => &report["queues"],
    };
    match args.format {
        Format::Json => println!("{report}"),
        Format::Csv => print!("{}", render::csv(list)),
        Format::Table => {
            println!("{} to {}", period::show(from), period::show(to));
            print!("{}", render::table(list));
        }
    }
    Ok(())
}
