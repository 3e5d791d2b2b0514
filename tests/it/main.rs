//! Integration tests: one binary, a module per feature. Each test copies a fixture site
//! (`tests/fixtures/<case>/`) or the bundled site into a temporary folder, runs the real
//! `imrf-site` binary on it and checks the output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser_support;
mod support;

mod architecture;
mod blocks;
mod browser;
mod build;
mod cache;
mod errors;
mod exchange;
mod glossary;
mod hardening;
mod hardening_fuzz;
mod hardening_serve;
mod offline;
mod open_data;
mod pdf;
mod search;
mod serve;
mod theme;
mod theme_output;
mod translation;
