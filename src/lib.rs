//! imrf-site: a static site generator for the multilingual IMRF review.
//!
//! The pipeline runs one way: load (`config`, `i18n`, `content`) -> the `site` model ->
//! render (`markdown`, `templates`, `assets`, `render`) -> write (`output`). `build`
//! strings the stages together; `cli` and `main` only parse arguments and report.
//! See ARCHITECTURE.md for the map.

pub mod alignment;
pub mod assets;
pub mod blocks;
pub mod build;
pub mod cache;
pub mod check;
pub mod citation;
pub mod cli;
pub mod config;
pub mod content;
pub mod diagnostic;
pub mod error;
pub mod exchange;
pub mod files;
pub mod glossary;
pub mod hashes;
pub mod hreflang;
pub(crate) mod html;
pub mod i18n;
pub mod markdown;
pub mod offline;
pub mod output;
pub mod pdf;
pub mod render;
pub mod report;
pub mod search;
pub mod serve;
pub mod site;
pub mod stamps;
pub mod templates;
pub mod terminology;
pub mod translation;
pub mod types;
