//! `ctibridge bench` and its hidden client process (see the `bench` module).

use super::{Failure, Outcome};
use crate::bench::{self, clients::ClientArgs, Options};
use crate::cli::BenchArgs;

pub async fn bench(args: BenchArgs) -> Outcome {
    let rate = match args.rate.as_str() {
        "max" => None,
        text => Some(text.parse::<u64>().ok().filter(|r| *r > 0).ok_or_else(|| {
            Failure::config(format!(
                "--rate must be a number of events per second above 0, or `max` (got `{text}`)"
            ))
        })?),
    };
    if args.clients == 0 && args.supervisors == 0 {
        return Err(Failure::config(
            "--clients and --supervisors cannot both be 0",
        ));
    }
    if args.contacts == 0 || args.contacts > 8_000_000 {
        return Err(Failure::config("--contacts must be 1 to 8,000,000"));
    }
    let options = Options {
        source: args.adapter,
        clients: args.clients,
        supervisors: args.supervisors,
        rate,
        secs: args.secs.max(1),
        idle: args.idle,
        contacts: args.contacts,
    };
    let figures = bench::run(options).await.map_err(Failure::new)?;
    println!("{figures}");
    Ok(())
}

pub async fn clients(
    url: String,
    agents: usize,
    supervisors: usize,
    calls_complete: bool,
) -> Outcome {
    bench::clients::run(ClientArgs {
        url,
        agents,
        supervisors,
        calls_complete,
    })
    .await
    .map_err(Failure::new)
}
