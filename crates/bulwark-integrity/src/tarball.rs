//! Reading a package tarball (gzip + tar) in memory with limits, into the reference a tamper
//! check compares installed files with. Links, absolute paths and `..` are refused; sizes and
//! entry counts are capped, so a hostile tarball cannot exhaust memory.

use std::collections::BTreeMap;
use std::io::Read as _;

/// Limits on one tarball.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest compressed tarball.
    pub max_tarball: u64,
    /// Largest single file.
    pub max_file: u64,
    /// Largest total uncompressed size.
    pub max_total: u64,
    /// Most entries.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tarball: 256 << 20,
            max_file: 128 << 20,
            max_total: 1 << 30,
            max_entries: 100_000,
        }
    }
}

/// What a file of the reference is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Its exact contents (from a tarball).
    Bytes(Vec<u8>),
    /// Its SHA-512 (from a pnpm store index).
    Sha512(Vec<u8>),
}

/// A package's published files, path (without the leading `package/`) to contents.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// The files.
    pub files: BTreeMap<String, Expected>,
    /// Entries refused (links, path escapes), as `path: reason`.
    pub refused: Vec<String>,
}

/// Why a tarball could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TarballError {
    /// Not gzip/tar, or corrupt.
    #[error("not a readable package tarball: {0}")]
    Corrupt(String),
    /// Over a limit.
    #[error("tarball over the limit: {0}")]
    TooLarge(String),
}

/// Reads one archive file of `size` bytes (as its header says) at `path`, counting it against
/// the per-file and the total (`total`, running) limits; reads no more than the per-file limit
/// whatever the header says.
fn read_file(
    file: impl std::io::Read,
    path: &str,
    size: u64,
    limits: Limits,
    total: &mut u64,
) -> Result<Vec<u8>, TarballError> {
    if size > limits.max_file {
        return Err(TarballError::TooLarge(format!("`{path}` has {size} bytes")));
    }
    *total = total.saturating_add(size);
    if *total > limits.max_total {
        return Err(TarballError::TooLarge(format!(
            "more than {} MiB unpacked",
            limits.max_total >> 20
        )));
    }
    let mut contents = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limits.max_file)
        .read_to_end(&mut contents)
        .map_err(|error| TarballError::Corrupt(format!("`{path}`: {error}")))?;
    Ok(contents)
}

/// Reads a `.tgz` held in memory into a [`Reference`]. Duplicate paths: the last one wins, as
/// when npm extracts.
///
/// # Errors
/// [`TarballError`].
pub fn read_tarball(bytes: &[u8], limits: Limits) -> Result<Reference, TarballError> {
    if bytes.len() as u64 > limits.max_tarball {
        return Err(TarballError::TooLarge(format!(
            "{} bytes compressed",
            bytes.len()
        )));
    }
    let header_allowance = (limits.max_entries as u64).saturating_mul(1024);
    let decoder =
        flate2::read::GzDecoder::new(bytes).take(limits.max_total.saturating_add(header_allowance));
    let mut archive = tar::Archive::new(decoder);
    let entries = archive
        .entries()
        .map_err(|error| TarballError::Corrupt(error.to_string()))?;
    let mut reference = Reference::default();
    let mut total = 0u64;
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_entries {
            return Err(TarballError::TooLarge(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let mut entry = entry.map_err(|error| TarballError::Corrupt(error.to_string()))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        let Some(path) = bulwark_types::package_tarball_path(&raw) else {
            reference
                .refused
                .push(format!("{raw}: absolute or `..` path"));
            continue;
        };
        if kind.is_symlink() || kind.is_hard_link() {
            reference.refused.push(format!("{path}: link"));
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        let contents = read_file(&mut entry, &path, size, limits, &mut total)?;
        reference.files.insert(path, Expected::Bytes(contents));
    }
    if reference.files.is_empty() && reference.refused.is_empty() {
        return Err(TarballError::Corrupt("no files".to_owned()));
    }
    Ok(reference)
}

/// The `package.json` of a gzip tarball (the last one, as npm extracts), streaming past the
/// other entries; `None` when there is none or the tarball is unreadable.
#[must_use]
pub fn read_manifest(bytes: &[u8], limits: Limits) -> Option<Vec<u8>> {
    let header_allowance = (limits.max_entries as u64).saturating_mul(1024);
    let decoder =
        flate2::read::GzDecoder::new(bytes).take(limits.max_total.saturating_add(header_allowance));
    let mut archive = tar::Archive::new(decoder);
    let mut manifest = None;
    for (count, entry) in archive.entries().ok()?.enumerate() {
        if count >= limits.max_entries {
            break;
        }
        let Ok(mut entry) = entry else {
            break;
        };
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous)
            || bulwark_types::package_tarball_path(&String::from_utf8_lossy(&entry.path_bytes()))
                .as_deref()
                != Some("package.json")
        {
            continue;
        }
        let mut contents = Vec::new();
        if (&mut entry)
            .take(16 << 20)
            .read_to_end(&mut contents)
            .is_ok()
        {
            manifest = Some(contents);
        }
    }
    manifest
}

/// Reads the package `name` out of a yarn berry cache zip (`node_modules/<name>/…` entries)
/// into a [`Reference`], with the same limits and refusals as a tarball.
///
/// # Errors
/// [`TarballError`].
pub fn read_berry_zip(bytes: &[u8], name: &str, limits: Limits) -> Result<Reference, TarballError> {
    if bytes.len() as u64 > limits.max_tarball {
        return Err(TarballError::TooLarge(format!(
            "{} bytes compressed",
            bytes.len()
        )));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|error| TarballError::Corrupt(error.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(TarballError::TooLarge(format!(
            "more than {} entries",
            limits.max_entries
        )));
    }
    let prefix = format!("node_modules/{name}/");
    let mut reference = Reference::default();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut file = archive
            .by_index(index)
            .map_err(|error| TarballError::Corrupt(error.to_string()))?;
        let raw = file
            .name()
            .map_err(|error| TarballError::Corrupt(error.to_string()))?
            .into_owned();
        let Some(inside) = raw.strip_prefix(&prefix) else {
            continue;
        };
        if file.is_dir() || inside.is_empty() {
            continue;
        }
        if inside
            .split('/')
            .any(|part| part == ".." || part.is_empty())
            || inside.starts_with('/')
        {
            reference
                .refused
                .push(format!("{raw}: `..` or empty path component"));
            continue;
        }
        if file.is_symlink() {
            reference.refused.push(format!("{inside}: link"));
            continue;
        }
        let size = file.size();
        let contents = read_file(&mut file, inside, size, limits, &mut total)?;
        reference
            .files
            .insert(inside.to_owned(), Expected::Bytes(contents));
    }
    if reference.files.is_empty() {
        return Err(TarballError::Corrupt(format!("no files under `{prefix}`")));
    }
    Ok(reference)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A gzip tarball of `(path, contents)` regular files.
    pub(crate) fn build(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, contents) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            builder.append_data(&mut header, path, *contents).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, &tar).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn strips_the_package_dir_and_enforces_limits() {
        let bytes = build(&[
            ("package/package.json", b"{}"),
            ("package/lib/a.js", b"x"),
            ("package/lib/a.js", b"y"),
        ]);
        let reference = read_tarball(&bytes, Limits::default()).unwrap();
        assert_eq!(reference.files.len(), 2);
        assert_eq!(reference.files["lib/a.js"], Expected::Bytes(b"y".to_vec()));
        let small = Limits {
            max_file: 1,
            ..Limits::default()
        };
        assert!(matches!(
            read_tarball(&bytes, small),
            Err(TarballError::TooLarge(_))
        ));
        assert!(matches!(
            read_tarball(b"not gzip", Limits::default()),
            Err(TarballError::Corrupt(_))
        ));
        assert_eq!(
            bulwark_types::package_tarball_path("package/../../etc/passwd"),
            None
        );
        assert_eq!(bulwark_types::package_tarball_path("/etc/passwd"), None);
    }

    #[test]
    fn berry_zips_keep_the_package_under_node_modules() {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer.add_directory("node_modules/@s/a/", options).unwrap();
        for (path, contents) in [
            ("node_modules/@s/a/index.js", &b"x"[..]),
            ("node_modules/@s/a/package.json", b"{}"),
            ("node_modules/other/x.js", b"y"),
        ] {
            writer.start_file(path, options).unwrap();
            std::io::Write::write_all(&mut writer, contents).unwrap();
        }
        let bytes = writer.finish().unwrap().into_inner();
        let reference = read_berry_zip(&bytes, "@s/a", Limits::default()).unwrap();
        assert_eq!(
            reference.files.keys().collect::<Vec<_>>(),
            ["index.js", "package.json"]
        );
        assert!(read_berry_zip(&bytes, "missing", Limits::default()).is_err());
        assert!(read_berry_zip(b"not a zip", "a", Limits::default()).is_err());
    }
}
