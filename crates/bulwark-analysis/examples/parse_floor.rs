//! Throughput floor of the analysis: reads every script under a directory (`.js .cjs .mjs .ts
//! .tsx .jsx`, not `.d.ts`) and, per mode, only reads it, parses it with oxc and drops the AST,
//! or runs the full analysis of its package. Used by `scripts/bench-scan.sh` to show how much of
//! the analysis time the parser alone costs on the same files.
//!
//! ```text
//! cargo run --release -p bulwark-analysis --example parse_floor -- read|parse DIR
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;
use rayon::prelude::*;

fn scripts(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            scripts(&path, out);
        } else if kind.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let script = [".js", ".cjs", ".mjs", ".ts", ".tsx", ".jsx"]
                .iter()
                .any(|suffix| name.ends_with(suffix));
            if script && !name.ends_with(".d.ts") {
                out.push(path);
            }
        }
    }
}

thread_local! {
    static ARENA: std::cell::RefCell<Allocator> = std::cell::RefCell::new(Allocator::default());
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".to_owned()));
    let started = Instant::now();
    let mut files = Vec::new();
    scripts(&root, &mut files);
    let bytes: u64 = files
        .par_iter()
        .map(|path| {
            let Ok(source) = std::fs::read(path) else {
                return 0;
            };
            if mode == "parse" {
                let text = String::from_utf8_lossy(&source);
                let source_type = SourceType::from_path(path).unwrap_or_default();
                ARENA.with(|arena| {
                    let mut allocator = arena.borrow_mut();
                    allocator.reset();
                    let parsed = Parser::new(&allocator, &text, source_type).parse();
                    std::hint::black_box(parsed.program.body.len());
                });
            }
            source.len() as u64
        })
        .sum();
    let elapsed = started.elapsed().as_secs_f64();
    let megabytes = bytes as f64 / 1e6;
    let line = format!(
        "{mode}: {} files, {megabytes:.0} MB in {elapsed:.2} s = {:.0} MB/s",
        files.len(),
        megabytes / elapsed
    );
    // Nothing useful is left to do when stdout is closed.
    let _ = writeln!(std::io::stdout(), "{line}");
}
