//! `ctibridge bench` and its hidden child processes, the clients and the AMI
//! generator (see the `bench` module).

use super::{Failure, Outcome};
use crate::bench::{self, clients::ClientArgs, Options};
use crate::cli::BenchArgs;

/// `--rate`: a number of events per second, or `max` (`None`).
fn rate(text: &str) -> Result<Option<u64>, Failure> {
    match text {
        "max" => Ok(None),
        text => Ok(Some(
            text.parse::<u64>().ok().filter(|r| *r > 0).ok_or_else(|| {
                Failure::config(format!(
                    "--rate must be a number of events per second above 0, or `max` (got `{text}`)"
                ))
            })?,
        )),
    }
}

pub async fn bench(args: BenchArgs) -> Outcome {
    let rate = rate(&args.rate)?;
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
        idle_per_process: args.idle_per_process,
        contacts: args.contacts,
        lookup_database: args.lookup_database.clone(),
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

pub async fn ami_switch(extensions: usize, contacts: u64, rate_text: &str) -> Outcome {
    bench::ami_switch::run(bench::ami_switch::Load {
        extensions,
        contacts,
        rate: rate(rate_text)?,
    })
    .await
    .map_err(Failure::new)
}
