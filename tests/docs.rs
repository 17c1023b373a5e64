//! The docs say what the code does: the settings table of docs/OPERATIONS.md names every key of
//! config/default.toml with the default it has there, and the README stays short. Reads files;
//! runs without any service.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The parts of `text` between backticks.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The settings table's rows: the variables a row names (first column) and the defaults it gives
/// (last column), each as written between backticks.
fn settings_rows() -> Vec<(Vec<String>, Vec<String>)> {
    let doc = read("docs/OPERATIONS.md");
    let table = doc
        .split("| variable | meaning | default |")
        .nth(1)
        .expect("docs/OPERATIONS.md has the settings table");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
            let names = quoted(cells[0]).into_iter().map(str::to_owned).collect();
            let defaults = quoted(cells[cells.len() - 1])
                .into_iter()
                .map(str::to_owned)
                .collect();
            (names, defaults)
        })
        .collect()
}

#[test]
fn the_settings_table_names_every_default_with_its_value() {
    let rows = settings_rows();
    let defaults = read("config/default.toml");
    let mut checked = 0;
    for line in defaults.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').expect("key = value");
        let variable = key.trim().to_uppercase();
        let value = value.trim().trim_matches('"');
        let (names, documented) = rows
            .iter()
            .find(|(names, _)| names.contains(&variable))
            .unwrap_or_else(|| panic!("{variable} is missing from docs/OPERATIONS.md"));
        if value.is_empty() {
            // An empty default is written in words ("none: ...").
            assert!(documented.is_empty(), "{variable}: {documented:?}");
            continue;
        }
        // A row naming several variables gives their defaults in the same order.
        let expected = if documented.len() == names.len() {
            let i = names.iter().position(|n| *n == variable).unwrap();
            &documented[i]
        } else {
            &documented[0]
        };
        assert_eq!(
            expected, value,
            "{variable}: docs/OPERATIONS.md says `{expected}`, config/default.toml `{value}`"
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} defaults were checked");
}

#[test]
fn the_readme_is_short_and_points_to_every_page_in_docs() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 150, "README.md has {lines} lines");
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            readme.contains(&format!("docs/{name}")),
            "README.md does not point to docs/{name}"
        );
    }
}
