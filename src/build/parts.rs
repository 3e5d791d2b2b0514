//! The build cache's large maps, saved in parts: each map's entries spread over `PARTS`
//! parts by their key, each part a file of the cache named by its content's hash
//! (`BuildCache::write_part`). A build that changed a few pages changes a few parts, and
//! writes those, not the tens of megabytes of the whole map; a part is written in its
//! keys' order, so the same entries make the same bytes whatever order a map holds them in.
//! A map keyed by a `Key` (`load_keyed`, `save_keyed`) does not even encode a part whose
//! keys are those it was read with.

use std::hash::Hash;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::Key;
use crate::cache::BuildCache;

/// Parts per map: a one-page edit changes a dozen entries of a map of tens of thousands.
const PARTS: usize = 256;

/// What a map is keyed by, and which part an entry goes to: a byte of a hash of its key,
/// so entries spread evenly and stay in their part from one build to the next.
pub(super) trait PartKey: Ord + Eq + Hash + Serialize + DeserializeOwned + Send + Sync {
    fn part(&self) -> usize;
}

impl PartKey for Key {
    /// A key is a hash already.
    fn part(&self) -> usize {
        usize::from(self[0]) % PARTS
    }
}

impl PartKey for String {
    fn part(&self) -> usize {
        (xxhash_rust::xxh3::xxh3_64(self.as_bytes()) % PARTS as u64) as usize
    }
}

/// Saves `map` in parts, and returns their names, in part order.
pub(super) fn save<K: PartKey, V: Serialize + Sync>(
    cache: &BuildCache,
    map: &FxHashMap<K, V>,
) -> std::io::Result<Vec<u128>> {
    split(map).into_par_iter().map(|part| write(cache, &part)).collect()
}

/// The entries of `map` by part, each part in its keys' order.
fn split<K: PartKey, V: Sync>(map: &FxHashMap<K, V>) -> Vec<Vec<(&K, &V)>> {
    let mut parts: Vec<Vec<(&K, &V)>> = (0..PARTS).map(|_| Vec::new()).collect();
    for (key, value) in map {
        parts[key.part()].push((key, value));
    }
    parts.par_iter_mut().for_each(|part| part.sort_unstable_by(|a, b| a.0.cmp(b.0)));
    parts
}

fn write<K: Serialize, V: Serialize>(cache: &BuildCache, part: &[(&K, &V)]) -> std::io::Result<u128> {
    cache.write_part(&postcard::to_stdvec(part).map_err(std::io::Error::other)?)
}

/// The parts a map keyed by a `Key` was read from: each part's name, with a hash of the
/// keys it holds. In one binary (the cache's), the value a `Key` names is always the
/// same: a key is a hash of all its value is made from, and the value is made the same
/// way from it. The build relies on this already when it reuses a value by its key
/// instead of making it. So a part that holds the same keys at the next save holds the
/// same bytes, and keeps its name without being encoded.
#[derive(Default)]
pub(super) struct KeyedParts(Vec<(u128, u128)>);

/// A hash of the keys of a part, in its order.
fn keys_hash<'k>(keys: impl Iterator<Item = &'k Key>) -> u128 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    keys.for_each(|key| hasher.update(key));
    hasher.digest128()
}

/// `save`, for a map keyed by a `Key` that was read from the parts `read`: a part whose
/// keys are the same keeps its name.
pub(super) fn save_keyed<V: Serialize + Sync>(
    cache: &BuildCache,
    map: &FxHashMap<Key, V>,
    read: &KeyedParts,
) -> std::io::Result<Vec<u128>> {
    let parts = split(map);
    parts
        .into_par_iter()
        .enumerate()
        .map(|(n, part)| match read.0.get(n) {
            Some(&(name, keys)) if keys == keys_hash(part.iter().map(|(key, _)| *key)) => Ok(name),
            _ => write(cache, &part),
        })
        .collect()
}

/// The map saved as the parts `names`, or `None` when one is missing or damaged.
pub(super) fn load<K: PartKey, V: DeserializeOwned + Send>(
    cache: &BuildCache,
    names: &[u128],
) -> Option<FxHashMap<K, V>> {
    Some(joined(read_parts(cache, names)?))
}

/// `load`, for a map keyed by a `Key`, with the parts it was read from (`save_keyed`).
pub(super) fn load_keyed<V: DeserializeOwned + Send>(
    cache: &BuildCache,
    names: &[u128],
) -> Option<(FxHashMap<Key, V>, KeyedParts)> {
    let parts = read_parts(cache, names)?;
    let keys = parts.iter().map(|part| keys_hash(part.iter().map(|(key, _)| key)));
    let read = KeyedParts(names.iter().copied().zip(keys).collect());
    Some((joined(parts), read))
}

/// The entries of each part of `names`, or `None` when one is missing or damaged.
fn read_parts<K: PartKey, V: DeserializeOwned + Send>(cache: &BuildCache, names: &[u128]) -> Option<Vec<Vec<(K, V)>>> {
    names.par_iter().map(|&name| postcard::from_bytes(&cache.read_part(name)?).ok()).collect()
}

/// One map of the entries of every part.
fn joined<K: PartKey, V>(parts: Vec<Vec<(K, V)>>) -> FxHashMap<K, V> {
    // Made at its size at once: grown entry by entry, it would hash every key again
    // at each doubling.
    let mut map = FxHashMap::with_capacity_and_hasher(parts.iter().map(Vec::len).sum(), Default::default());
    map.extend(parts.into_iter().flatten());
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_saved_in_parts_loads_back_and_an_edit_changes_one_part() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::open(dir.path()).unwrap();
        let path = |n: u32| format!("en/page-{n}/index.html");
        let map: FxHashMap<String, u32> = (0..2000).map(|n| (path(n), n)).collect();
        let names = save(&cache, &map).unwrap();
        assert_eq!(names.len(), PARTS);
        let the_other_way: FxHashMap<String, u32> = (0..2000).rev().map(|n| (path(n), n)).collect();
        assert_eq!(save(&cache, &the_other_way).unwrap(), names, "the same entries make the same parts");
        assert_eq!(load::<String, u32>(&cache, &names), Some(map.clone()));

        let mut edited = map.clone();
        edited.insert(path(7), 7000);
        let edited_names = save(&cache, &edited).unwrap();
        let changed: Vec<usize> = (0..PARTS).filter(|&n| names[n] != edited_names[n]).collect();
        assert_eq!(changed, [path(7).part()]);
        assert_eq!(load::<String, u32>(&cache, &edited_names), Some(edited));

        std::fs::remove_file(dir.path().join("parts").join(format!("{:032x}", names[3]))).unwrap();
        assert_eq!(load::<String, u32>(&cache, &names), None, "a part missing: nothing is loaded");
    }

    #[test]
    fn a_keyed_part_whose_keys_did_not_change_keeps_its_name_unencoded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::open(dir.path()).unwrap();
        let key = |n: u32| -> Key { blake3::hash(&n.to_le_bytes()).into() };
        let map: FxHashMap<Key, u32> = (0..2000).map(|n| (key(n), n)).collect();
        let names = save(&cache, &map).unwrap();
        let (loaded, read) = load_keyed::<u32>(&cache, &names).unwrap();
        assert_eq!(loaded, map);
        assert_eq!(
            save_keyed(&cache, &map, &KeyedParts::default()).unwrap(),
            names,
            "nothing read: written as `save` does"
        );

        // Values a key does not name (never so in a build): the parts are not encoded.
        let other_values: FxHashMap<Key, u32> = map.iter().map(|(key, n)| (*key, n + 1)).collect();
        assert_eq!(save_keyed(&cache, &other_values, &read).unwrap(), names, "the same keys keep their parts");

        let changed = |edited: &FxHashMap<Key, u32>| {
            let edited_names = save_keyed(&cache, edited, &read).unwrap();
            assert_eq!(load::<Key, u32>(&cache, &edited_names).as_ref(), Some(edited));
            (0..PARTS).filter(|&n| names[n] != edited_names[n]).collect::<Vec<usize>>()
        };
        let mut added = map.clone();
        added.insert(key(5000), 5000);
        assert_eq!(changed(&added), [key(5000).part()], "a key added");
        let mut removed = map.clone();
        removed.remove(&key(7));
        assert_eq!(changed(&removed), [key(7).part()], "a key removed");
        let mut replaced = removed.clone();
        replaced.insert(key(5000), 7);
        let mut parts = vec![key(7).part(), key(5000).part()];
        parts.sort();
        parts.dedup();
        assert_eq!(changed(&replaced), parts, "a key replaced by another");
    }
}
