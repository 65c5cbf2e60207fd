//! Rekor transparency log entries of a Sigstore bundle: the signed entry timestamp (SET), the
//! RFC 6962 inclusion proof with its signed checkpoint, and the binding of the logged body to the
//! envelope (payload hash and signature).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::Digest as _;

use crate::crypto::{HashAlgorithm, hex, sha256};
use crate::trusted_root::{LogKey, TrustedRoot};

/// A bundle's `tlogEntries[]` item.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    /// Global log index (a decimal string in bundles).
    pub log_index: StringInt,
    /// `{keyId}`: base64 log id.
    pub log_id: LogId,
    /// Kind and version of the body (`intoto` 0.0.2, `dsse` 0.0.1).
    pub kind_version: Option<KindVersion>,
    /// When Rekor integrated the entry (Unix seconds, decimal string).
    pub integrated_time: StringInt,
    /// The SET.
    pub inclusion_promise: Option<InclusionPromise>,
    /// The inclusion proof (bundle v0.2+).
    pub inclusion_proof: Option<InclusionProof>,
    /// base64 of the canonical JSON body.
    pub canonicalized_body: String,
}

/// An integer that protobuf JSON writes as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringInt(pub i64);

impl<'de> Deserialize<'de> for StringInt {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match &value {
            serde_json::Value::String(text) => {
                text.parse().map(Self).map_err(serde::de::Error::custom)
            }
            serde_json::Value::Number(number) => number
                .as_i64()
                .map(Self)
                .ok_or_else(|| serde::de::Error::custom("integer out of range")),
            _ => Err(serde::de::Error::custom("expected an integer")),
        }
    }
}

/// `{keyId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// base64.
    pub key_id: String,
}

/// `{kind, version}`.
#[derive(Debug, Clone, Deserialize)]
pub struct KindVersion {
    /// `intoto`, `dsse`, …
    pub kind: String,
    /// `0.0.2`, …
    pub version: String,
}

/// `{signedEntryTimestamp}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// base64 DER ECDSA signature.
    pub signed_entry_timestamp: String,
}

/// RFC 6962 inclusion proof.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index in this log shard.
    pub log_index: StringInt,
    /// base64 root hash.
    pub root_hash: String,
    /// Tree size.
    pub tree_size: StringInt,
    /// base64 audit path.
    pub hashes: Vec<String>,
    /// Signed note.
    pub checkpoint: Option<Checkpoint>,
}

/// `{envelope}`: the signed note text.
#[derive(Debug, Clone, Deserialize)]
pub struct Checkpoint {
    /// The note.
    pub envelope: String,
}

/// Why a log entry check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RekorError {
    /// The entry names a log not in the trusted root (or of an unsupported key type).
    #[error("transparency log {0} is not trusted")]
    UnknownLog(String),
    /// The SET is missing or does not verify.
    #[error("signed entry timestamp {0}")]
    BadSet(&'static str),
    /// The inclusion proof does not lead to the root hash.
    #[error("inclusion proof {0}")]
    BadProof(&'static str),
    /// The checkpoint is malformed, unsigned, or names another tree.
    #[error("checkpoint {0}")]
    BadCheckpoint(&'static str),
    /// The logged body does not record this envelope.
    #[error("log entry body {0}")]
    BodyMismatch(&'static str),
}

fn log_for<'a>(
    root: &'a TrustedRoot,
    entry: &TlogEntry,
) -> Result<(&'a LogKey, Vec<u8>), RekorError> {
    let log_id = STANDARD
        .decode(&entry.log_id.key_id)
        .map_err(|_| RekorError::UnknownLog(entry.log_id.key_id.clone()))?;
    let log = root
        .tlogs
        .iter()
        .find(|log| log.log_id == log_id && log.key.is_some())
        .ok_or_else(|| RekorError::UnknownLog(entry.log_id.key_id.clone()))?;
    Ok((log, log_id))
}

/// Verifies the SET: the log's signature over canonical JSON of body, integratedTime, logID (hex)
/// and logIndex.
///
/// # Errors
/// [`RekorError`].
pub fn verify_set(entry: &TlogEntry, root: &TrustedRoot) -> Result<(), RekorError> {
    let (log, log_id) = log_for(root, entry)?;
    let promise = entry
        .inclusion_promise
        .as_ref()
        .ok_or(RekorError::BadSet("missing"))?;
    let signature = STANDARD
        .decode(promise.signed_entry_timestamp.trim())
        .map_err(|_| RekorError::BadSet("is not base64"))?;
    let body =
        serde_json::to_string(&entry.canonicalized_body).map_err(|_| RekorError::BadSet("body"))?;
    let message = format!(
        r#"{{"body":{body},"integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        entry.integrated_time.0,
        hex(&log_id),
        entry.log_index.0
    );
    if !log.validity.covers(entry.integrated_time.0) {
        return Err(RekorError::BadSet("made outside the log key's validity"));
    }
    let key = log
        .key
        .as_ref()
        .ok_or(RekorError::BadSet("key type not supported"))?;
    if key.verify(HashAlgorithm::Sha256, message.as_bytes(), &signature) {
        Ok(())
    } else {
        Err(RekorError::BadSet("does not verify"))
    }
}

fn hash_children(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root an RFC 6962 audit path leads to (RFC 9162 §2.1.3.2).
#[must_use]
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: [u8; 32],
    proof: &[[u8; 32]],
) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut node, mut last) = (index, size - 1);
    let mut hash = leaf_hash;
    for sibling in proof {
        if last == 0 {
            return None;
        }
        if node & 1 == 1 || node == last {
            hash = hash_children(sibling, &hash);
            if node & 1 == 0 {
                while node & 1 == 0 && node != 0 {
                    node >>= 1;
                    last >>= 1;
                }
            }
        } else {
            hash = hash_children(&hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    (last == 0).then_some(hash)
}

/// Verifies the inclusion proof of `entry` (when it has one) and its signed checkpoint. Returns
/// whether there was a proof to check (bundle v0.1 has only the SET).
///
/// # Errors
/// [`RekorError`].
pub fn verify_inclusion(entry: &TlogEntry, root: &TrustedRoot) -> Result<bool, RekorError> {
    let Some(proof) = &entry.inclusion_proof else {
        return Ok(false);
    };
    let body = STANDARD
        .decode(&entry.canonicalized_body)
        .map_err(|_| RekorError::BadProof("body is not base64"))?;
    let mut leaf = Vec::with_capacity(body.len() + 1);
    leaf.push(0);
    leaf.extend_from_slice(&body);
    let mut hashes = Vec::with_capacity(proof.hashes.len());
    for hash in &proof.hashes {
        let bytes = STANDARD
            .decode(hash)
            .map_err(|_| RekorError::BadProof("hash is not base64"))?;
        hashes.push(
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| RekorError::BadProof("hash is not 32 bytes"))?,
        );
    }
    let root_hash = STANDARD
        .decode(&proof.root_hash)
        .map_err(|_| RekorError::BadProof("root is not base64"))?;
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index.0),
        u64::try_from(proof.tree_size.0),
    ) else {
        return Err(RekorError::BadProof("negative index"));
    };
    let computed = root_from_inclusion_proof(index, size, sha256(&leaf), &hashes)
        .ok_or(RekorError::BadProof("has the wrong length"))?;
    if computed.as_slice() != root_hash.as_slice() {
        return Err(RekorError::BadProof("does not lead to the root hash"));
    }
    let checkpoint = proof
        .checkpoint
        .as_ref()
        .ok_or(RekorError::BadCheckpoint("missing"))?;
    verify_checkpoint(&checkpoint.envelope, size, &root_hash, entry, root)?;
    Ok(true)
}

/// A signed note: `origin\nsize\nbase64 root\n[extensions…]\n\n— name base64(keyhint‖sig)\n`.
fn verify_checkpoint(
    note: &str,
    size: u64,
    root_hash: &[u8],
    entry: &TlogEntry,
    root: &TrustedRoot,
) -> Result<(), RekorError> {
    let (log, log_id) = log_for(root, entry)?;
    let split = note
        .find("\n\n")
        .ok_or(RekorError::BadCheckpoint("has no signature block"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    let mut lines = text.lines();
    let _origin = lines.next().ok_or(RekorError::BadCheckpoint("is empty"))?;
    let note_size: u64 = lines
        .next()
        .and_then(|line| line.parse().ok())
        .ok_or(RekorError::BadCheckpoint("has no tree size"))?;
    let note_root = lines
        .next()
        .and_then(|line| STANDARD.decode(line).ok())
        .ok_or(RekorError::BadCheckpoint("has no root hash"))?;
    if note_size != size || note_root != root_hash {
        return Err(RekorError::BadCheckpoint(
            "names another tree than the proof",
        ));
    }
    let key = log
        .key
        .as_ref()
        .ok_or(RekorError::BadCheckpoint("key type not supported"))?;
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some(encoded) = rest.rsplit(' ').next() else {
            continue;
        };
        let Ok(signature) = STANDARD.decode(encoded) else {
            continue;
        };
        if signature.len() > 4
            && signature[..4] == log_id[..4.min(log_id.len())]
            && key.verify(HashAlgorithm::Sha256, text.as_bytes(), &signature[4..])
        {
            return Ok(());
        }
    }
    Err(RekorError::BadCheckpoint("signature does not verify"))
}

/// Checks that the logged body records this envelope: the payload's SHA-256 and the envelope's
/// signature (`intoto` 0.0.2 keeps it base64 of the base64 signature, `dsse` 0.0.1 as is).
///
/// # Errors
/// [`RekorError::BodyMismatch`].
pub fn verify_body_binding(
    entry: &TlogEntry,
    payload: &[u8],
    signature_base64: &str,
) -> Result<(), RekorError> {
    let body = STANDARD
        .decode(&entry.canonicalized_body)
        .map_err(|_| RekorError::BodyMismatch("is not base64"))?;
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| RekorError::BodyMismatch("is not JSON"))?;
    let payload_hash = hex(&sha256(payload));
    let signature = signature_base64.trim();
    let (recorded_hash, signatures) = match (body["kind"].as_str(), body["apiVersion"].as_str()) {
        (Some("intoto"), Some("0.0.2")) => {
            let content = &body["spec"]["content"];
            let signatures: Vec<String> = content["envelope"]["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item["sig"].as_str())
                .filter_map(|sig| STANDARD.decode(sig).ok())
                .filter_map(|sig| String::from_utf8(sig).ok())
                .collect();
            (
                content["payloadHash"]["value"].as_str().map(str::to_owned),
                signatures,
            )
        }
        (Some("dsse"), Some("0.0.1")) => {
            let spec = &body["spec"];
            let signatures: Vec<String> = spec["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item["signature"].as_str().map(str::to_owned))
                .collect();
            (
                spec["payloadHash"]["value"].as_str().map(str::to_owned),
                signatures,
            )
        }
        _ => return Err(RekorError::BodyMismatch("is of an unsupported kind")),
    };
    if recorded_hash.as_deref() != Some(payload_hash.as_str()) {
        return Err(RekorError::BodyMismatch("records another payload hash"));
    }
    if !signatures
        .iter()
        .any(|recorded| recorded.trim() == signature)
    {
        return Err(RekorError::BodyMismatch("records another signature"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(n: u8) -> [u8; 32] {
        sha256(&[0, n])
    }

    /// A 5-leaf tree built by hand: the proof of each leaf leads to the root.
    #[test]
    fn inclusion_proofs_of_a_small_tree() {
        let l: Vec<[u8; 32]> = (0..5).map(leaf).collect();
        let ab = hash_children(&l[0], &l[1]);
        let cd = hash_children(&l[2], &l[3]);
        let abcd = hash_children(&ab, &cd);
        let root = hash_children(&abcd, &l[4]);
        assert_eq!(
            root_from_inclusion_proof(0, 5, l[0], &[l[1], cd, l[4]]),
            Some(root)
        );
        assert_eq!(
            root_from_inclusion_proof(3, 5, l[3], &[l[2], ab, l[4]]),
            Some(root)
        );
        assert_eq!(root_from_inclusion_proof(4, 5, l[4], &[abcd]), Some(root));
        assert_ne!(root_from_inclusion_proof(4, 5, l[3], &[abcd]), Some(root));
        assert_eq!(root_from_inclusion_proof(4, 5, l[4], &[abcd, ab]), None);
        assert_eq!(root_from_inclusion_proof(5, 5, l[4], &[abcd]), None);
    }
}
