//! The default audit sink: JSON lines appended to a file by a writer thread, so a request
//! does not wait for the disk. The queue is bounded (65,536 records): when the disk cannot
//! keep up, requests wait rather than the memory growing or records being dropped.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};

use crate::store::{AuditRecord, AuditSink, StoreError};

enum Message {
    Record(AuditRecord),
    Flush(SyncSender<()>),
}

/// Appends one JSON object per decision to a file.
#[derive(Debug)]
pub struct JsonLinesAudit {
    sender: SyncSender<Message>,
}

/// Records queued for the writer thread at most.
const QUEUE: usize = 65_536;

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Message")
    }
}

impl JsonLinesAudit {
    /// Opens `path` for appending (creating it and its directory).
    ///
    /// # Errors
    /// [`StoreError::Io`] when the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                what: "cannot create",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| StoreError::Io {
                what: "cannot open the audit log",
                path: path.to_path_buf(),
                source,
            })?;
        let (sender, receiver) = sync_channel::<Message>(QUEUE);
        std::thread::Builder::new()
            .name("bulwark-audit".into())
            .spawn(move || {
                let mut out = BufWriter::new(file);
                while let Ok(message) = receiver.recv() {
                    let mut pending = Some(message);
                    // Write everything queued, then flush once.
                    while let Some(message) = pending.take() {
                        match message {
                            Message::Record(record) => {
                                if let Ok(line) = serde_json::to_string(&record) {
                                    let _ = writeln!(out, "{line}");
                                }
                            }
                            Message::Flush(done) => {
                                let _ = out.flush();
                                let _ = done.send(());
                            }
                        }
                        pending = receiver.try_recv().ok();
                    }
                    let _ = out.flush();
                }
            })
            .map_err(|source| StoreError::Io {
                what: "cannot start the audit writer for",
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self { sender })
    }

    fn send(&self, message: Message) {
        let _ = self.sender.send(message);
    }
}

impl AuditSink for JsonLinesAudit {
    fn record(&self, record: AuditRecord) {
        self.send(Message::Record(record));
    }

    fn flush(&self) {
        let (done, wait) = sync_channel(1);
        self.send(Message::Flush(done));
        let _ = wait.recv();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_json_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/audit.jsonl");
        let audit = JsonLinesAudit::open(&path).unwrap();
        let mut record = AuditRecord::now("127.0.0.1".into(), "ms", "2.1.3", "tarball");
        record.decision = "block";
        record.reason = "too-new".into();
        audit.record(record.clone());
        audit.record(record);
        audit.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["package"], "ms");
        assert_eq!(lines[0]["decision"], "block");
        assert_eq!(lines[0]["reason"], "too-new");
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
    }
}
