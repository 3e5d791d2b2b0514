//! Command-line definitions (clap). No logic: `main` dispatches on these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exchange::Format;
use crate::report::MessageFormat;

#[derive(Debug, Parser)]
#[command(name = "imrf-site", version, about = "Builds the multilingual IMRF review as a static website")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How errors and warnings are shown: for people (with the offending line), or one
    /// JSON object per line on standard error, for editors and CI.
    #[arg(long, global = true, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
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
        /// Where the build cache is kept (default: <root>/.imrf-site-cache).
        #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
        cache_dir: Option<PathBuf>,
        /// Build everything anew, neither reading nor writing the build cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Check the site (content, templates, links) without writing anything.
    Check {
        #[command(flatten)]
        root: RootArg,
    },
    /// Show each language's translation state: pages translated, missing, outdated; UI strings missing.
    Status {
        #[command(flatten)]
        root: RootArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
        /// Exit with an error when any page or UI string is missing or outdated.
        #[arg(long)]
        strict: bool,
        /// Record that translations are up to date with their original: `fr` (all of
        /// French) or `fr/objective-14.md` (one page).
        #[arg(long, value_name = "LANG[/PAGE]")]
        stamp: Option<String>,
    },
    /// Serve the site at http://127.0.0.1:1111/, rebuilding and reloading open pages on every change.
    Serve {
        #[command(flatten)]
        root: RootArg,
        /// The port to listen on; 0 picks a free one (the URL printed says which).
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// The address to listen on. Anything but loopback lets other machines see the preview.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Exchange translations with translators' tools: export to PO or XLIFF, import back.
    Translation {
        #[command(subcommand)]
        command: TranslationCommand,
    },
    /// Scaffold a new language: i18n/<code>.toml with every key to translate, and site/content/<code>/.
    NewLanguage {
        #[command(flatten)]
        root: RootArg,
        /// A BCP 47 language code, e.g. `pt-BR`, `sw`, `zh-Hant`.
        code: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum TranslationCommand {
    /// Write one file per page, and one for the UI strings, for a CAT tool (OmegaT, Poedit,
    /// Trados, memoQ, Weblate): every paragraph, heading, list item, footnote, question
    /// and front-matter value as a unit with its id, the English, the translation and its state.
    Export {
        #[command(flatten)]
        root: RootArg,
        /// The language to export, e.g. `fr`.
        lang: String,
        /// The file format.
        #[arg(long, value_enum, default_value_t = Format::Po)]
        format: Format,
        /// Where to write the files (default: <root>/translations/<lang>/).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Write translated files from a CAT tool back into site/content/<lang>/ and i18n/<lang>.toml.
    Import {
        #[command(flatten)]
        root: RootArg,
        /// The language of the files, e.g. `fr`.
        lang: String,
        /// The translated .po, .xlf or .xliff files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}
