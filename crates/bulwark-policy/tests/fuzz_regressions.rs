//! Hostile `bulwark.toml` inputs (the `policy_config` fuzz target's property, for inputs
//! beyond what it generates, and any crash it finds): each file under
//! `tests/fixtures/fuzz-regressions/` must give a config or diagnostics whose code frames
//! render, never a panic or a stack overflow.

use std::path::Path;

use bulwark_policy::date::Date;
use bulwark_policy::{Config, ConfigError, diagnostic};

#[test]
fn hostile_configs_give_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-regressions");
    let today = Date::parse("2026-06-01").unwrap();
    let mut checked = 0;
    for input in std::fs::read_dir(&root).unwrap() {
        let input = input.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&input).unwrap()).into_owned();
        let mut out = Vec::new();
        match Config::from_str_at(&text, today) {
            Ok(config) => {
                diagnostic::render("bulwark.toml", &text, &config.warnings, &mut out).unwrap();
            }
            Err(ConfigError::Invalid {
                name,
                source_text,
                diagnostics,
            }) => {
                assert!(!diagnostics.is_empty(), "{}", input.display());
                diagnostic::render(&name, &source_text, &diagnostics, &mut out).unwrap();
            }
            Err(other) => panic!("{}: {other}", input.display()),
        }
        checked += 1;
    }
    assert!(checked >= 1, "no inputs under {}", root.display());
}
