//! `bulwark db update`: download an OSV archive and swap it in atomically.
//!
//! The HTTP client is a parameter (`http_get: Fn(&str) -> Result<Vec<u8>>`) so this crate
//! stays free of networking: the CLI passes a `ureq` + rustls getter, tests pass a closure.
//! The downloaded zip is streamed into one transaction that first removes everything the
//! same URL loaded last time; the transaction commits only when the whole archive was read
//! without damage and held at least one valid record. A truncated download, a corrupt
//! archive or an entry beyond the size caps rolls everything back, so the previous data
//! stays in place. Individual records that are not valid OSV are reported by name and
//! skipped, exactly as in `import`.

use std::io::Cursor;

use crate::error::{Error, ErrorKind, Result};
use crate::import::ZipEntries;
use crate::store::{ImportReport, SourceKind, Store};

/// OSV's archive of every npm advisory (malicious packages included).
pub const DEFAULT_OSV_NPM_URL: &str =
    "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip";

/// `scheme://user:secret@host/…` → `scheme://***@host/…`, so credentials never reach the
/// database, the status output or error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

impl Store {
    /// Download the OSV zip at `url` with `http_get` and replace what that URL loaded
    /// before, recording the URL (credentials redacted) and the time.
    ///
    /// # Errors
    /// [`ErrorKind::Download`] when the getter fails; [`ErrorKind::Archive`] when the
    /// archive is damaged, exceeds the caps or holds no valid record; database errors. In
    /// every error case the store is unchanged.
    pub fn update_from_url(
        &mut self,
        url: &str,
        http_get: impl Fn(&str) -> Result<Vec<u8>>,
    ) -> Result<ImportReport> {
        let label = redact_url(url);
        let bytes = http_get(url).map_err(|error| {
            Error::new(ErrorKind::Download, format!("cannot download `{label}`")).with_source(error)
        })?;
        if bytes.len() as u64 > self.limits.max_archive_bytes {
            return Err(Error::new(
                ErrorKind::Archive,
                format!(
                    "`{label}` is larger than the {}-byte cap",
                    self.limits.max_archive_bytes
                ),
            ));
        }
        let entries = ZipEntries::new(Cursor::new(bytes), label.clone().into(), self.limits, true)?;
        self.import_entries(&label, SourceKind::OsvDownload, entries, true)
    }
}
