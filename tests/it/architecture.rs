//! The code's shape, as ARCHITECTURE.md states it: the top-level modules of `src/` import
//! one another in one direction (no cycle), and no source file grows past 500 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::repo_root;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(repo_root().join("src")).unwrap().display().to_string();
            found.push((relative, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The top-level module a file of `src/` belongs to (`search` for `search/format.rs`).
fn module_of(relative: &str) -> &str {
    let first = relative.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

/// Per top-level module, the other top-level modules it names as `crate::<module>`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&repo_root().join("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in &files {
        let module = module_of(relative);
        if module == "main" || module == "lib" {
            continue;
        }
        let named = graph.entry(module.to_string()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let name: String = text[at + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && name != module {
                named.insert(name);
            }
        }
    }
    graph
}

/// A path from `from` back to itself through the graph, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn the_modules_import_one_another_in_one_direction() {
    let graph = imports();
    assert!(graph.len() > 20 && graph["render"].contains("markdown"), "the import scan finds nothing: {graph:?}");
    let cycles: Vec<String> =
        graph.keys().filter_map(|module| cycle_through(&graph, module)).map(|cycle| cycle.join(" -> ")).collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));

    // The scan does see a cycle where there is one.
    let mut with_cycle = graph.clone();
    with_cycle.get_mut("markdown").unwrap().insert("render".into());
    assert!(cycle_through(&with_cycle, "render").is_some());
}

#[test]
fn no_source_file_is_over_500_lines() {
    let mut files = Vec::new();
    sources(&repo_root().join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|(_, text)| text.lines().count() > 500)
        .map(|(path, text)| format!("src/{path}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "split these along their ideas (ARCHITECTURE.md):\n{}", long.join("\n"));
}
