//! Pure decoders behind the constant resolver: base64, hex and char-code strings as an
//! obfuscator would write them. Every function bounds its output and never panics on input.

use base64::Engine as _;
use compact_str::CompactString;

/// Upper bound on any string the resolver builds (folded or decoded).
pub(crate) const MAX_RESOLVED: usize = 1 << 20;

/// A constant string the resolver could compute, and whether decoding was involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The value (inline when short: most constants are, and resolving one then allocates
    /// nothing).
    pub(crate) value: CompactString,
    /// A decoder (base64, hex, char codes) produced (part of) the value.
    pub(crate) decoded: bool,
}

impl Resolved {
    /// A plain (not decoded) constant.
    pub(crate) fn plain(value: impl Into<CompactString>) -> Self {
        Self {
            value: value.into(),
            decoded: false,
        }
    }
}

/// Lenient base64 (standard or URL-safe, padding optional, whitespace ignored) to UTF-8 (lossy).
pub(crate) fn decode_base64(input: &str) -> Option<String> {
    if input.len() > MAX_RESOLVED * 2 {
        return None;
    }
    let cleaned: String = input
        .chars()
        .filter(|character| !character.is_ascii_whitespace())
        .collect();
    let trimmed = cleaned.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for engine in engines {
        if let Ok(bytes) = engine.decode(trimmed) {
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    None
}

/// Hex pairs to UTF-8 (lossy); `None` when `input` is not an even run of hex digits.
pub(crate) fn decode_hex(input: &str) -> Option<String> {
    let bytes = input.trim().as_bytes();
    if !bytes.len().is_multiple_of(2) || bytes.len() > MAX_RESOLVED * 2 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        out.push(u8::try_from(high * 16 + low).ok()?);
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `String.fromCharCode(...)` of numeric arguments.
pub(crate) fn from_char_codes(codes: &[f64]) -> Option<String> {
    let mut out = String::with_capacity(codes.len());
    for code in codes {
        if !(0.0..=f64::from(u16::MAX)).contains(code) || code.fract() != 0.0 {
            return None;
        }
        // The range check above makes the cast exact.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked range"
        )]
        let unit = *code as u32;
        out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
    }
    Some(out)
}

/// Formats a number the way JavaScript string concatenation would, for integers.
pub(crate) fn number_to_string(value: f64) -> Option<String> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        #[expect(clippy::cast_possible_truncation, reason = "integral and bounded")]
        let integer = value as i64;
        Some(integer.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders() {
        assert_eq!(
            decode_base64("Y2hpbGRfcHJvY2Vzcw==").as_deref(),
            Some("child_process")
        );
        assert_eq!(
            decode_base64("Y2hpbGRfcHJvY2Vzcw").as_deref(),
            Some("child_process")
        );
        assert_eq!(decode_hex("65786563").as_deref(), Some("exec"));
        assert_eq!(decode_hex("6578656"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(
            from_char_codes(&[101.0, 118.0, 97.0, 108.0]).as_deref(),
            Some("eval")
        );
        assert_eq!(from_char_codes(&[-1.0]), None);
        assert_eq!(number_to_string(12.0).as_deref(), Some("12"));
    }
}
