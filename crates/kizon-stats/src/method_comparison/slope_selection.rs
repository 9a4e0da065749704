//! The k-th smallest of the `n(n−1)/2` pairwise slopes without listing them: O(n log n) per
//! count, so that Passing–Bablok runs on a hundred thousand specimens in a second where the
//! list of slopes would need forty gigabytes.
//!
//! The number of pairs with slope `≤ t` is the number of inversions of `r = y − t·x` in the
//! order of `x` (Cole, Salowe, Steiger & Szemerédi 1989; Matoušek 1991, *Inf Process Lett*
//! 39:183, "randomized optimal algorithm for slope selection"). As there, a random sample of
//! pairs brackets the wanted rank; a few halvings of the bracket (in angle) leave at most `4n`
//! slopes in it, and those are listed as the pairs whose order by `r` differs at the two ends
//! (inversions between two permutations, by merge sort), then selected exactly. The slopes
//! listed are computed as `atan(dy/dx)` from the pair itself, so the result is the very angle
//! the list of all slopes would give.

use super::difference;

/// Points ordered by `x`, with their groups of equal `x` (pairs inside a group have no finite
/// slope).
pub(super) struct Sorted {
    x: Vec<f64>,
    y: Vec<f64>,
    /// Start of each group of equal `x`, and the end.
    groups: Vec<usize>,
    /// Pairs inside groups: `Σ g(g−1)/2`.
    inside: u64,
}

impl Sorted {
    pub(super) fn new(x: &[f64], y: &[f64]) -> Sorted {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|a, b| x[*a].total_cmp(&x[*b]));
        let xs: Vec<f64> = order.iter().map(|i| x[*i]).collect();
        let ys: Vec<f64> = order.iter().map(|i| y[*i]).collect();
        let mut groups = vec![0];
        for i in 1..xs.len() {
            if difference(xs[i], xs[groups[groups.len() - 1]]) != 0.0 {
                groups.push(i);
            }
        }
        groups.push(xs.len());
        let inside = groups
            .windows(2)
            .map(|w| {
                let g = (w[1] - w[0]) as u64;
                g * g.saturating_sub(1) / 2
            })
            .sum();
        Sorted {
            x: xs,
            y: ys,
            groups,
            inside,
        }
    }

    /// `y − t·x` in the order of `x`.
    fn residuals(&self, t: f64) -> Vec<f64> {
        self.x.iter().zip(&self.y).map(|(x, y)| y - t * x).collect()
    }

    /// Pairs of distinct `x` whose slope is below `t`.
    fn count_below(&self, t: f64) -> u64 {
        // Pairs (i < j) with r[j] < r[i], each group of equal `x` ascending (none of its pairs
        // counts): the pairs minus those with r[j] ≥ r[i], counted as non-increasing pairs of
        // −r.
        let mut r: Vec<f64> = self.residuals(t).into_iter().map(|v| -v).collect();
        for w in self.groups.windows(2) {
            r[w[0]..w[1]].sort_by(|a, b| b.total_cmp(a));
        }
        let mut buffer = vec![0.0; r.len()];
        let n = r.len() as u64;
        let at_least = count_non_increasing_pairs(&mut r, &mut buffer) - self.inside;
        n * n.saturating_sub(1) / 2 - self.inside - at_least
    }

    /// Pairs of distinct `x` whose slope is at most `t`.
    pub(super) fn count_at_most(&self, t: f64) -> u64 {
        let mut r = self.residuals(t);
        // Each group of equal `x` by descending value: all its pairs count, and are taken off.
        for w in self.groups.windows(2) {
            r[w[0]..w[1]].sort_by(|a, b| b.total_cmp(a));
        }
        let mut buffer = vec![0.0; r.len()];
        // Every pair inside a group counts (descending within it); take them off again.
        count_non_increasing_pairs(&mut r, &mut buffer) - self.inside
    }

    /// The ranks, at `low`, of the points in their order at `high`, and the points in their
    /// order at `low`: a pair out of order between the two has its slope in `(low, high]`.
    fn orders(&self, low: f64, high: f64) -> (Vec<usize>, Vec<usize>) {
        let r_low = self.residuals(low);
        let r_high = self.residuals(high);
        let rank_order = |r: &[f64]| {
            let mut order: Vec<usize> = (0..r.len()).collect();
            order.sort_by(|a, b| r[*a].total_cmp(&r[*b]).then(b.cmp(a)));
            order
        };
        let at_low = rank_order(&r_low);
        let at_high = rank_order(&r_high);
        let mut position = vec![0usize; at_low.len()];
        for (rank, point) in at_low.iter().enumerate() {
            position[*point] = rank;
        }
        (at_high.iter().map(|p| position[*p]).collect(), at_low)
    }

    /// The angle of one pair whose slope lies in `(low, high]`: an adjacent pair out of order
    /// (one exists whenever any pair is).
    fn one_angle_between(&self, low: f64, high: f64) -> Option<f64> {
        let (sequence, at_low) = self.orders(low, high);
        sequence.windows(2).find_map(|w| {
            if w[0] < w[1] {
                return None;
            }
            self.angle(at_low[w[0]], at_low[w[1]])
        })
    }

    /// The angle of the slope between points `a` and `b`, as the list of all slopes has it
    /// (`atan(dy/dx)` of `mcr`'s differences), or `None` for equal `x`.
    fn angle(&self, a: usize, b: usize) -> Option<f64> {
        let (i, j) = if a < b { (a, b) } else { (b, a) };
        let dx = difference(self.x[j], self.x[i]);
        (dx != 0.0).then(|| (difference(self.y[j], self.y[i]) / dx).atan())
    }

    /// The angles of the pairs whose slope lies in `(low, high]`.
    fn angles_between(&self, low: f64, high: f64) -> Vec<f64> {
        let (mut sequence, at_low) = self.orders(low, high);
        let mut pairs = Vec::new();
        let mut buffer = vec![0usize; sequence.len()];
        inversions(&mut sequence, &mut buffer, &mut |a, b| {
            pairs.push((at_low[a], at_low[b]))
        });
        pairs
            .into_iter()
            .filter_map(|(a, b)| self.angle(a, b))
            .collect()
    }
}

impl Sorted {
    /// Finite slopes whose angle is `< a` and `≤ a`, where `a = atan(t)`, decided on each pair's
    /// own `atan(dy/dx)` as the list of all slopes decides it: the pairs within 1e-9 of `t`
    /// (where rounding in `y − t·x` could misplace an exact tie) are listed and compared one
    /// by one.
    pub(super) fn count_around(&self, t: f64) -> (u64, u64) {
        let band = 1e-9 * t.abs().max(1.0);
        let below = self.count_at_most(t - band);
        let in_band = self.count_at_most(t + band) - below;
        if in_band > 4 * self.x.len() as u64 + 16 {
            // Too many to list (integer results give millions of slopes of exactly ±1):
            // decided on y − t·x at `t` itself, exact for such data.
            return (self.count_below(t), self.count_at_most(t));
        }
        let angle = t.atan();
        let near = self.angles_between(t - band, t + band);
        let less = near.iter().filter(|a| **a < angle).count() as u64;
        let at_most = near.iter().filter(|a| **a <= angle).count() as u64;
        (below + less, below + at_most)
    }
}

/// Pairs `i < j` with `r[j] ≤ r[i]`, counted by merge sort (sorts `r` descending).
fn count_non_increasing_pairs(r: &mut [f64], buffer: &mut [f64]) -> u64 {
    let n = r.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let (left, right) = r.split_at_mut(mid);
    let mut count = count_non_increasing_pairs(left, &mut buffer[..mid])
        + count_non_increasing_pairs(right, &mut buffer[mid..]);
    // Both halves descending: for each right element, the left elements ≥ it.
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if left[i] >= right[j] {
            buffer[k] = left[i];
            i += 1;
        } else {
            count += i as u64;
            buffer[k] = right[j];
            j += 1;
        }
        k += 1;
    }
    while j < right.len() {
        count += i as u64;
        buffer[k] = right[j];
        j += 1;
        k += 1;
    }
    while i < left.len() {
        buffer[k] = left[i];
        i += 1;
        k += 1;
    }
    r.copy_from_slice(&buffer[..n]);
    count
}

/// Calls `found(a, b)` for every inversion (`a > b` standing before `b`) of a sequence of
/// distinct ranks, sorting it ascending.
fn inversions(s: &mut [usize], buffer: &mut [usize], found: &mut impl FnMut(usize, usize)) {
    let n = s.len();
    if n < 2 {
        return;
    }
    let mid = n / 2;
    {
        let (left, right) = s.split_at_mut(mid);
        inversions(left, &mut buffer[..mid], found);
        inversions(right, &mut buffer[mid..], found);
    }
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if s[i] < s[j] {
            buffer[k] = s[i];
            i += 1;
        } else {
            for left in &s[i..mid] {
                found(*left, s[j]);
            }
            buffer[k] = s[j];
            j += 1;
        }
        k += 1;
    }
    buffer[k..k + mid - i].copy_from_slice(&s[i..mid]);
    k += mid - i;
    buffer[k..k + n - j].copy_from_slice(&s[j..n]);
    s.copy_from_slice(&buffer[..n]);
}

/// A SplitMix64 generator: the sample of pairs is the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// The finite slopes' angles, selectable by rank without listing them.
pub(super) struct Selector<'a> {
    sorted: &'a Sorted,
    /// Finite slopes in all.
    pub total: u64,
    /// A sorted sample of finite slopes' angles.
    sample: Vec<f64>,
}

impl<'a> Selector<'a> {
    pub(super) fn new(sorted: &'a Sorted) -> Selector<'a> {
        let n = sorted.x.len();
        let pairs = (n as u64) * (n as u64 - 1) / 2;
        let total = pairs - sorted.inside; // pairs of distinct x
        let mut random = SplitMix(0x6B69_7A6F_6E2D_5042); // "kizon-PB"
        let mut sample = Vec::with_capacity(8 * n);
        for _ in 0..8 * n {
            let (i, j) = (random.below(n), random.below(n));
            if let Some(angle) = sorted.angle(i, j) {
                sample.push(angle);
            }
        }
        sample.sort_by(f64::total_cmp);
        Selector {
            sorted,
            total,
            sample,
        }
    }

    fn count_at_most_angle(&self, angle: f64) -> u64 {
        if angle >= std::f64::consts::FRAC_PI_2 {
            return self.total;
        }
        if angle <= -std::f64::consts::FRAC_PI_2 {
            return 0;
        }
        self.sorted.count_at_most(angle.tan())
    }

    /// The angle of rank `rank` (1-based) among the finite slopes; `None` when rounding at the
    /// bracket's ends keeps it from being exact.
    pub(super) fn nth(&self, rank: u64) -> Option<f64> {
        use std::f64::consts::FRAC_PI_2;
        let n = self.sorted.x.len() as u64;
        // A bracket from the sample: the rank's quantile ± four binomial standard errors.
        let (mut low, mut high) = (-FRAC_PI_2, FRAC_PI_2);
        let (mut below, mut at_high) = (0, self.total);
        if !self.sample.is_empty() {
            let m = self.sample.len() as f64;
            let q = rank as f64 / self.total as f64;
            let spread = 4.0 * (q * (1.0 - q) * m).sqrt() + 2.0;
            let at = |position: f64| {
                self.sample[(position.max(0.0) as usize).min(self.sample.len() - 1)]
            };
            let (try_low, try_high) = (at(q * m - spread), at(q * m + spread));
            let count_low = self.count_at_most_angle(try_low.next_down());
            if count_low < rank {
                low = try_low.next_down();
                below = count_low;
            }
            let count_high = self.count_at_most_angle(try_high);
            if count_high >= rank {
                high = try_high;
                at_high = count_high;
            }
        }
        // Halve the bracket until few slopes are left in it.
        let mut halvings = 0;
        while at_high - below > 4 * n + 16 && halvings < 200 {
            let mid = 0.5 * (low + high);
            if mid <= low || mid >= high {
                break;
            }
            let count = self.count_at_most_angle(mid);
            if count >= rank {
                high = mid;
                at_high = count;
            } else {
                low = mid;
                below = count;
            }
            halvings += 1;
        }
        if at_high - below > 4 * n + 16 && high.next_down() <= low {
            // The ends are neighbouring floats: the pairs between them share one slope (many
            // pairs with exactly one slope, as integer results give). Its angle is that of any
            // one of them, found without listing them all.
            return self.sorted.one_angle_between(low.tan(), high.tan());
        }
        let mut angles = self.sorted.angles_between(low.tan(), high.tan());
        let wanted = (rank - below) as usize;
        if wanted == 0 || wanted > angles.len() {
            // Rounding in y − t·x put a pair on the other side of an end than its own angle:
            // no exact answer from this bracket (the caller refuses rather than guess).
            return None;
        }
        let (_, value, _) = angles.select_nth_unstable_by(wanted - 1, f64::total_cmp);
        Some(*value)
    }
}

impl Sorted {
    /// Pairs of equal `x` and different `y`: vertical, an infinite slope.
    pub(super) fn vertical(&self) -> u64 {
        let mut vertical = 0;
        for w in self.groups.windows(2) {
            let mut ys: Vec<f64> = self.y[w[0]..w[1]].to_vec();
            ys.sort_by(f64::total_cmp);
            let g = ys.len() as u64;
            let mut same = 0;
            let mut start = 0;
            for i in 1..=ys.len() {
                if i == ys.len() || difference(ys[i], ys[start]) != 0.0 {
                    let k = (i - start) as u64;
                    same += k * k.saturating_sub(1) / 2;
                    start = i;
                }
            }
            vertical += g * g.saturating_sub(1) / 2 - same;
        }
        vertical
    }
}

/// Whether Kendall's tau of `x` and `y` is not negative, in O(n log n) (Knight 1966):
/// `S = n₀ − n₁ − n₂ + n₃ − 2·(discordant pairs)`, with exact ties as R counts them.
pub(super) fn kendall_not_negative(x: &[f64], y: &[f64]) -> bool {
    // −0 and +0 are one value (a tie), for the sort as for the tie counts.
    let zero = |v: &f64| if *v == 0.0 { 0.0 } else { *v };
    let x: Vec<f64> = x.iter().map(zero).collect();
    let y: Vec<f64> = y.iter().map(zero).collect();
    let (x, y) = (&x[..], &y[..]);
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| x[*a].total_cmp(&x[*b]).then(y[*a].total_cmp(&y[*b])));
    let ties = |key: &dyn Fn(usize) -> (u64, u64)| {
        let mut sorted: Vec<(u64, u64)> = (0..n).map(key).collect();
        sorted.sort_unstable();
        let mut total = 0u64;
        let mut start = 0;
        for i in 1..=n {
            if i == n || sorted[i] != sorted[start] {
                let k = (i - start) as u64;
                total += k * (k - 1) / 2;
                start = i;
            }
        }
        total
    };
    let bits = |v: f64| if v == 0.0 { 0 } else { v.to_bits() };
    let n1 = ties(&|i| (bits(x[i]), 0));
    let n2 = ties(&|i| (bits(y[i]), 0));
    let n3 = ties(&|i| (bits(x[i]), bits(y[i])));
    let mut ys: Vec<f64> = order.iter().map(|i| y[*i]).collect();
    let mut buffer = vec![0.0; n];
    let discordant = strict_descents(&mut ys, &mut buffer);
    let n0 = (n as u64) * (n as u64 - 1) / 2;
    (n0 + n3) as i128 - (n1 + n2) as i128 - 2 * discordant as i128 >= 0
}

/// Pairs `i < j` with `v[j] < v[i]`, by merge sort (sorts `v` ascending).
fn strict_descents(v: &mut [f64], buffer: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let (left, right) = v.split_at_mut(mid);
    let mut count =
        strict_descents(left, &mut buffer[..mid]) + strict_descents(right, &mut buffer[mid..]);
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if left[i] <= right[j] {
            buffer[k] = left[i];
            i += 1;
        } else {
            count += (left.len() - i) as u64;
            buffer[k] = right[j];
            j += 1;
        }
        k += 1;
    }
    buffer[k..k + left.len() - i].copy_from_slice(&left[i..]);
    k += left.len() - i;
    buffer[k..k + right.len() - j].copy_from_slice(&right[j..]);
    v.copy_from_slice(&buffer[..n]);
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut state = 0x1234_5678u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f64
        };
        let x: Vec<f64> = (0..n).map(|_| (next() % 30.0).round()).collect();
        let y: Vec<f64> = x.iter().map(|v| v + (next() % 7.0) - 3.0).collect();
        (x, y)
    }

    fn listed(x: &[f64], y: &[f64]) -> Vec<f64> {
        let mut angles = Vec::new();
        for j in 0..x.len() {
            for k in j + 1..x.len() {
                let dx = difference(x[k], x[j]);
                if dx != 0.0 {
                    angles.push((difference(y[k], y[j]) / dx).atan());
                }
            }
        }
        angles.sort_by(f64::total_cmp);
        angles
    }

    /// Counting by inversions agrees with counting every pair, at slopes between and at ties.
    #[test]
    fn counts_and_ranks_agree_with_every_pair() {
        let (x, y) = data(60);
        let sorted = Sorted::new(&x, &y);
        let all = listed(&x, &y);
        for t in [-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0] {
            let brute = all.iter().filter(|a| a.tan() <= t + 1e-12).count() as u64;
            assert_eq!(sorted.count_at_most(t), brute, "t = {t}");
        }
        for t in [-1.0, 0.0, 1.0, 2.0] {
            let brute = all.iter().filter(|a| a.tan() < t - 1e-12).count() as u64;
            assert_eq!(sorted.count_below(t), brute, "below t = {t}");
        }
        let selector = Selector::new(&sorted);
        assert_eq!(selector.total, all.len() as u64);
        for rank in [
            1,
            2,
            10,
            100,
            500,
            800,
            all.len() as u64 / 2,
            all.len() as u64,
        ] {
            assert_eq!(
                selector.nth(rank),
                Some(all[rank as usize - 1]),
                "rank {rank}"
            );
        }
    }

    /// Every rank, on integer data with many equal slopes and equal x.
    #[test]
    fn every_rank_of_small_integer_sets() {
        for n in [5, 12, 40, 41] {
            let (x, y) = data(n);
            let sorted = Sorted::new(&x, &y);
            let all = listed(&x, &y);
            let selector = Selector::new(&sorted);
            for rank in 1..=all.len() as u64 {
                assert_eq!(
                    selector.nth(rank),
                    Some(all[rank as usize - 1]),
                    "n {n} rank {rank}"
                );
            }
        }
    }
}
