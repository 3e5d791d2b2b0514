//! The build cache's large maps, saved in parts: each map's entries spread over `PARTS`
//! parts by their key, each part a file of the cache named by its content's hash
//! (`BuildCache::write_part`). A build that changed a few pages changes a few parts, and
//! writes those, not the tens of megabytes of the whole map; a part is written in its
//! keys' order, so the same entries make the same bytes whatever order a map holds them in.

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
    let mut parts: Vec<Vec<(&K, &V)>> = (0..PARTS).map(|_| Vec::new()).collect();
    for (key, value) in map {
        parts[key.part()].push((key, value));
    }
    parts
        .into_par_iter()
        .map(|mut part| {
            part.sort_unstable_by(|a, b| a.0.cmp(b.0));
            cache.write_part(&postcard::to_stdvec(&part).map_err(std::io::Error::other)?)
        })
        .collect()
}

/// The map saved as the parts `names`, or `None` when one is missing or damaged.
pub(super) fn load<K: PartKey, V: DeserializeOwned + Send>(
    cache: &BuildCache,
    names: &[u128],
) -> Option<FxHashMap<K, V>> {
    let parts: Vec<Vec<(K, V)>> =
        names.par_iter().map(|&name| postcard::from_bytes(&cache.read_part(name)?).ok()).collect::<Option<_>>()?;
    // Made at its size at once: grown entry by entry, it would hash every key again
    // at each doubling.
    let mut map = FxHashMap::with_capacity_and_hasher(parts.iter().map(Vec::len).sum(), Default::default());
    map.extend(parts.into_iter().flatten());
    Some(map)
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
}
