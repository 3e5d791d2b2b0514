//! The `imrf-site` command: parses arguments, runs the library, prints the result or
//! the error once, and chooses the exit code.

use std::process::ExitCode;

use clap::Parser;
use imrf_site::build::{self, BuildOptions, Cache};
use imrf_site::cli::{Cli, Command, StatusFormat, TranslationCommand};
use imrf_site::diagnostic::Warning;
use imrf_site::report::{Diagnostic, Reporter, Severity};
use imrf_site::{exchange, serve, translation};

/// jemalloc rather than the system allocator: a build allocates and frees millions of
/// small strings across threads, on which glibc's allocator spent a fifth of the build's
/// CPU time and, fragmented, held more memory (see BENCHMARKS.md). Its options are
/// built in (`.cargo/config.toml`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let reporter = Reporter::new(cli.message_format);
    match run(cli.command, &reporter) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            reporter.error(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, reporter: &Reporter) -> anyhow::Result<()> {
    match command {
        Command::Build { root, output, base_url, cache_dir, no_cache } => {
            let cache = match (no_cache, cache_dir) {
                (true, _) => Cache::Off,
                (false, Some(dir)) => Cache::In(dir),
                (false, None) => Cache::Default,
            };
            let options = BuildOptions { root: root.root, output, base_url, cache };
            let report = build::build(&options)?;
            reporter.warnings(&report.warnings);
            println!("{}", report.summary());
        }
        Command::Check { root } => {
            let rendered = build::render(&BuildOptions::new(&root.root))?;
            reporter.warnings(&rendered.warnings);
            for problem in &rendered.link_problems {
                eprintln!("{}", reporter.render(&Diagnostic::parse(Severity::Error, problem)));
            }
            if !rendered.link_problems.is_empty() {
                anyhow::bail!("{} broken link(s) or language alternate(s)", rendered.link_problems.len());
            }
            println!("No errors: {} files would be written", rendered.files.len());
        }
        Command::Status { root, format, strict, stamp } => {
            if let Some(target) = stamp {
                let changed = translation::stamp(&root.root, &target)?;
                println!("Stamped {} file(s)", changed.len());
                for path in changed {
                    println!("  {}", path.display());
                }
                return Ok(());
            }
            let report = translation::status(&root.root)?;
            match format {
                StatusFormat::Text => print!("{}", translation::format_status(&report)),
                StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            if strict && report.iter().any(translation::LanguageStatus::incomplete) {
                anyhow::bail!("translations are incomplete or outdated (see above)");
            }
        }
        Command::Serve { root, port, bind } => {
            serve::serve(&serve::ServeOptions { root: root.root, bind, port })?;
        }
        Command::Translation { command } => run_translation(command, reporter)?,
        Command::NewLanguage { root, code } => {
            for path in translation::new_language(&root.root, &code)? {
                println!("created {}", path.display());
            }
            println!("Next: translate the strings and pages, then `imrf-site status` shows what is left.");
        }
    }
    Ok(())
}

fn run_translation(command: TranslationCommand, reporter: &Reporter) -> anyhow::Result<()> {
    match command {
        TranslationCommand::Export { root, lang, format, output } => {
            let report = exchange::export::export(&root.root, &lang, format, output.as_deref())?;
            for path in &report.files {
                println!("wrote {}", path.display());
            }
            println!(
                "Exported {} units in {} files: {} translated, {} outdated (fuzzy), {} new",
                report.units,
                report.files.len(),
                report.translated,
                report.outdated,
                report.new
            );
        }
        TranslationCommand::Import { root, lang, files } => {
            let report = exchange::import::import(&root.root, &lang, &files)?;
            for (path, units) in &report.written {
                println!("wrote {} ({units} unit(s) changed)", path.display());
            }
            for (path, units) in &report.fuzzy {
                reporter.warning(&Warning {
                    message: format!(
                        "{}: {} unit(s) still marked fuzzy (to review) were not imported: {}",
                        path.display(),
                        units.len(),
                        units.join(", ")
                    ),
                });
            }
            for (path, units) in &report.incomplete {
                reporter.warning(&Warning {
                    message: format!(
                        "{}: not written: a new page is written once every unit is translated; untranslated: {}",
                        path.display(),
                        units.join(", ")
                    ),
                });
            }
            for key in &report.stamped {
                println!("stamped {lang}/{key}: it follows the current original");
            }
            if report.written.is_empty() && report.incomplete.is_empty() && report.fuzzy.is_empty() {
                println!("Nothing changed: every translation in the file(s) is already in the site");
            }
        }
    }
    Ok(())
}
