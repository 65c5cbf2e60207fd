//! Fuzzes the policy file (`bulwark.toml`): any text must give a config or diagnostics, never a
//! panic, a hang or unbounded memory; the diagnostics' code frames must render, and a config
//! that loads must answer the registry gate's per-version question.
#![no_main]

use std::time::{Duration, SystemTime};

use bulwark_policy::date::Date;
use bulwark_policy::{Config, ConfigError, diagnostic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let today = Date::parse("2026-06-01").expect("a valid date");
    match Config::from_str_at(&text, today) {
        Ok(config) => {
            let mut out = Vec::new();
            diagnostic::render(
                "bulwark.toml",
                &config.source_text,
                &config.warnings,
                &mut out,
            )
            .expect("rendering into memory");
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
            let published = Some(now - Duration::from_secs(86_400));
            for (name, version) in [("left-pad", "1.3.0"), ("@scope/pkg", "2.0.0-beta.1")] {
                let _ = config.check_version(name, version, published, now);
                let _ = config.check_version(name, version, None, now);
            }
        }
        Err(ConfigError::Invalid {
            name,
            source_text,
            diagnostics,
        }) => {
            assert!(!diagnostics.is_empty(), "an invalid config has diagnostics");
            let mut out = Vec::new();
            diagnostic::render(&name, &source_text, &diagnostics, &mut out)
                .expect("rendering into memory");
        }
        Err(other) => panic!("from_str_at reads no file, yet: {other}"),
    }
});
