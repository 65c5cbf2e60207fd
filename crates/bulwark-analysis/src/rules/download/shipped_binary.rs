use crate::context::{BinaryFormat, FileContext, FileKind};
use crate::report::{Confidence, Finding, Severity};
use crate::rule::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ### What it does
    /// Reports ELF, PE and Mach-O executables shipped in a package that has no build reason for
    /// them: no `binding.gyp`, no `prebuilds/`, not a `.node` addon, and a manifest without
    /// `os`/`cpu` fields (platform packages such as `@esbuild/linux-x64` declare those). A binary
    /// that an install hook runs is high.
    ///
    /// ### Why is this bad?
    /// Native droppers ship a ready-made implant (the 2024 `.elf` droppers, `sdd.dll`,
    /// Shai-Hulud's Mach-O stage two) that static JavaScript review never sees.
    ///
    /// ### Examples
    /// Incorrect: a package `left-padder` with `lib/.cache/update.exe`.
    /// Correct: `@esbuild/linux-x64` shipping `bin/esbuild` with `"os": ["linux"]`.
    ShippedBinary, "shipped-binary", Download
}

impl Rule for ShippedBinary {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn run_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let FileKind::Binary(format) = file.kind else {
            return;
        };
        let lower = file.path.to_ascii_lowercase();
        if lower.ends_with(".node")
            || lower.contains("prebuilds/")
            || lower.contains("build/release/")
        {
            return;
        }
        let manifest = file.manifest;
        let platform_package = manifest.is_some_and(|manifest| {
            manifest.raw.contains("\"os\"") || manifest.raw.contains("\"cpu\"")
        });
        let has_native_build = manifest.is_some_and(|manifest| {
            manifest.raw.contains("binding.gyp")
                || manifest.raw.contains("node-gyp")
                || manifest.raw.contains("prebuild")
        });
        if platform_package || has_native_build {
            return;
        }
        let run_by_hook = manifest.is_some_and(|manifest| {
            let name = file.path.rsplit('/').next().unwrap_or(file.path);
            manifest
                .install_scripts()
                .any(|(_, script)| script.contains(name))
        });
        let kind = match format {
            BinaryFormat::Elf => "ELF",
            BinaryFormat::Pe => "PE (Windows)",
            BinaryFormat::MachO => "Mach-O",
        };
        let severity = if run_by_hook || file.install_time {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(file.finding(
            &Self::META,
            severity,
            Confidence::Medium,
            None,
            format!("ships a {kind} executable without a build reason"),
            Some(file.path),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tester::{Case, test_rule};

    #[test]
    fn test() {
        let pass = vec![
            Case::Files(vec![
                (
                    "package.json",
                    r#"{"name":"@esbuild/linux-x64","os":["linux"],"cpu":["x64"]}"#,
                ),
                ("bin/esbuild", "\u{7f}ELF\u{2}\u{1}\u{1}"),
            ]),
            Case::Files(vec![
                ("package.json", r#"{"name":"a"}"#),
                ("build/Release/addon.node", "\u{7f}ELF\u{2}\u{1}\u{1}"),
            ]),
            Case::Files(vec![
                ("package.json", r#"{"name":"a"}"#),
                ("README.md", "ELF is a format"),
            ]),
        ];
        let fail = vec![
            Case::Files(vec![
                (
                    "package.json",
                    r#"{"name":"a","scripts":{"postinstall":"./lib/update"}}"#,
                ),
                ("lib/update", "\u{7f}ELF\u{2}\u{1}\u{1}"),
            ]),
            Case::Files(vec![
                ("package.json", r#"{"name":"a"}"#),
                ("x.bin", "\u{7f}ELF\u{2}\u{1}\u{1}"),
            ]),
        ];
        test_rule(ShippedBinary::META.name, pass, fail);
    }
}
