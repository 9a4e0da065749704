pub const DEFAULT_MAX_DISTANCE: u32 = 8;
pub fn hamming_distance(a: u64, b: u64) -> u32 { (a ^ b).count_ones() }
pub fn near_duplicate_pairs() {}
