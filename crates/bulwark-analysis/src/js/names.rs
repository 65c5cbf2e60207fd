//! [`NameMap`]: the fact walk's map from identifier names, with a presence filter in front.
//! Most names looked up during the walk (locals, parameters) were never tracked; the filter
//! answers those without hashing. The map keeps std's keyed SipHash because the names come from
//! untrusted code, where a fixed hash function would let a file force collisions.

use std::collections::HashMap;

/// A map from identifier names (borrowed from the parsed source) to `V`, behaving exactly like a
/// [`HashMap`]. A 1024-bit filter keeps one bit per (length, first, second and last byte) class
/// of the names ever inserted: a lookup whose bit is clear is a certain miss and skips the hash.
#[derive(Debug)]
pub(crate) struct NameMap<'a, V> {
    /// Bits of the names inserted so far (never cleared by removal: a stale bit only costs a
    /// lookup).
    filter: [u64; FILTER_WORDS],
    entries: HashMap<&'a str, V>,
}

/// Size of the filter in 64-bit words.
const FILTER_WORDS: usize = 16;

impl<V> Default for NameMap<'_, V> {
    fn default() -> Self {
        Self {
            filter: [0; FILTER_WORDS],
            entries: HashMap::new(),
        }
    }
}

impl<'a, V> NameMap<'a, V> {
    /// The filter word and bit of `name`: its class, spread by a multiplicative mix.
    fn slot(name: &str) -> (usize, u64) {
        let bytes = name.as_bytes();
        let byte = |index: usize| bytes.get(index).copied().map_or(0, u32::from);
        let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX) & 0xff;
        let class = length | byte(0) << 8 | byte(1) << 16 | byte(bytes.len().wrapping_sub(1)) << 24;
        let index = (class.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        (index / 64 % FILTER_WORDS, 1 << (index % 64))
    }

    /// Whether `name` may be in the map (`false`: certainly not), without hashing.
    pub(crate) fn may_contain(&self, name: &str) -> bool {
        let (word, bit) = Self::slot(name);
        self.filter[word] & bit != 0
    }

    /// The value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        if self.may_contain(name) {
            self.entries.get(name)
        } else {
            None
        }
    }

    /// Whether `name` has a value.
    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.may_contain(name) && self.entries.contains_key(name)
    }

    /// Sets the value of `name`.
    pub(crate) fn insert(&mut self, name: &'a str, value: V) {
        let (word, bit) = Self::slot(name);
        self.filter[word] |= bit;
        self.entries.insert(name, value);
    }

    /// Removes `name`, returning its value.
    pub(crate) fn remove(&mut self, name: &str) -> Option<V> {
        if self.may_contain(name) {
            self.entries.remove(name)
        } else {
            None
        }
    }

    /// Number of names with a value.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_hash_map() {
        let mut map = NameMap::default();
        assert_eq!(map.get("cp"), None);
        map.insert("cp", 1);
        map.insert("_0x1a2b", 2);
        map.insert("", 3);
        assert_eq!(map.get("cp"), Some(&1));
        assert_eq!(map.get("_0x1a2b"), Some(&2));
        assert_eq!(map.get(""), Some(&3));
        assert!(map.contains_key("cp"));
        assert!(!map.contains_key("cq"));
        assert_eq!(map.len(), 3);
        map.insert("cp", 4);
        assert_eq!(map.get("cp"), Some(&4));
        assert_eq!(map.remove("cp"), Some(4));
        assert_eq!(map.remove("cp"), None);
        assert_eq!(map.get("cp"), None);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn names_sharing_a_filter_bit_stay_apart() {
        let mut map = NameMap::default();
        // Same length, first and last byte: one filter class, told apart by the map.
        map.insert("axb", 1);
        assert_eq!(map.get("ayb"), None);
        assert!(!map.contains_key("ayb"));
        assert_eq!(map.remove("ayb"), None);
        assert_eq!(map.get("axb"), Some(&1));
    }
}
