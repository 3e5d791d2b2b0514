//! A blake3 hash over several parts, their boundaries included: the one rule by which
//! the build cache's keys (`build::keys`) and a source's text as written
//! (`content::SourcePage::written_hash`) are hashed.

/// Hashes parts so that their boundaries count (`ab`,`c` differs from `a`,`bc`).
pub fn hash_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_count() {
        assert_ne!(hash_parts(&[b"ab", b"c"]), hash_parts(&[b"a", b"bc"]));
        assert_eq!(hash_parts(&[b"ab", b"c"]), hash_parts(&[b"ab", b"c"]));
    }
}
