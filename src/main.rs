//! The `imrf-site` command: parses arguments, runs the library, prints the result or
//! the error once, and chooses the exit code.

use std::process::ExitCode;

use clap::Parser;
use imrf_site::build::{self, BuildOptions};
use imrf_site::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Build { root, output, base_url } => {
            let options = BuildOptions { root: root.root, output, base_url };
            let report = build::build(&options)?;
            for warning in &report.warnings {
                eprintln!("{warning}");
            }
            println!("{}", report.summary());
        }
        Command::Check { root } => {
            let rendered = build::render(&BuildOptions::new(&root.root))?;
            for warning in &rendered.warnings {
                eprintln!("{warning}");
            }
            println!("No errors: {} files would be written", rendered.files.len());
        }
    }
    Ok(())
}
