//! Command-line definitions (clap). No logic: `main` dispatches on these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "imrf-site", version, about = "Builds the multilingual IMRF review as a static website")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct RootArg {
    /// The folder holding site/, themes/ and i18n/.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the site into the output folder (default: <root>/public).
    Build {
        #[command(flatten)]
        root: RootArg,
        /// Where to write the site (default: <root>/public).
        #[arg(long)]
        output: Option<PathBuf>,
        /// The URL the site is published at, overriding site/config.toml's base_url.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Check the site (content, templates, links) without writing anything.
    Check {
        #[command(flatten)]
        root: RootArg,
    },
}
