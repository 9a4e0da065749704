//! A JPEG-LS decoder (ITU-T T.87 | ISO/IEC 14495-1), lossless and near-lossless, for DICOM's
//! 1.2.840.10008.1.2.4.80 and .4.81.
//!
//! No pure-Rust JPEG-LS decoder exists and CharLS needs cmake, so kizon has its own. It decodes
//! what DICOM carries: one frame (SOF55), 2 to 16 bits per sample, one to four components
//! without subsampling, interleave modes none, line and sample (T.87 Annex B), custom
//! thresholds and RESET (LSE, C.2.4.1.1), and restart markers (DRI). Mapping tables
//! (C.2.4.1.2) and oversize images (C.2.4.1.4) are typed errors.
//!
//! The clause numbers in the comments are those of T.87 (06/98). Every length and count read
//! from the codestream is checked; corrupt data ends in [`Error`], never a panic, and the work
//! done is bounded by the image size the frame header states (which the caller has checked
//! against the DICOM header).

use crate::{ImageInfo, PixelError, interpret};

/// Why a JPEG-LS codestream cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, Error> {
    Err(Error(message.into()))
}

/// A decoded JPEG-LS image: samples interleaved by pixel, each at most `2^precision - 1`
/// (or the custom MAXVAL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub components: u32,
    pub precision: u8,
    /// The NEAR parameter of the (last) scan: 0 is lossless.
    pub near: u32,
    /// Interleave mode of the (last) scan: 0 none, 1 line, 2 sample.
    pub interleave: u8,
    pub samples: Vec<u16>,
}

/// J[RUNindex], the run-length order table (A.2.1), used by run mode (A.7.1).
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];
const MIN_C: i64 = -128;
const MAX_C: i64 = 127;

/// Coding parameters (C.2.4.1.1 defaults, A.2.1 derived values).
#[derive(Debug, Clone, Copy)]
struct Parameters {
    maxval: i64,
    t1: i64,
    t2: i64,
    t3: i64,
    reset: i64,
    near: i64,
    range: i64,
    qbpp: u32,
    limit: u32,
}

/// Custom preset parameters from an LSE marker segment (0 = default).
#[derive(Debug, Clone, Copy, Default)]
struct Preset {
    maxval: i64,
    t1: i64,
    t2: i64,
    t3: i64,
    reset: i64,
}

fn ceil_log2(n: i64) -> u32 {
    let mut bits = 0;
    while (1i64 << bits) < n {
        bits += 1;
    }
    bits
}

impl Parameters {
    /// C.2.4.1.1: default thresholds from MAXVAL and NEAR, overridden by the LSE values.
    fn new(precision: u8, near: i64, preset: Preset) -> Result<Parameters, Error> {
        let maxval = if preset.maxval > 0 {
            preset.maxval
        } else {
            (1i64 << precision) - 1
        };
        if near > (maxval / 2).min(255) {
            return err(format!("NEAR {near} is too large for MAXVAL {maxval}"));
        }
        let clamp = |i: i64, j: i64| if i > maxval || i < j { j } else { i };
        let (basic_t1, basic_t2, basic_t3) = (3i64, 7i64, 21i64);
        let (t1, t2, t3) = if maxval >= 128 {
            let factor = (maxval.min(4095) + 128) / 256;
            let t1 = clamp(factor * (basic_t1 - 2) + 2 + 3 * near, near + 1);
            let t2 = clamp(factor * (basic_t2 - 3) + 3 + 5 * near, t1);
            let t3 = clamp(factor * (basic_t3 - 4) + 4 + 7 * near, t2);
            (t1, t2, t3)
        } else {
            let factor = 256 / (maxval + 1);
            let t1 = clamp((basic_t1 / factor).max(2) + 3 * near, near + 1);
            let t2 = clamp((basic_t2 / factor).max(3) + 5 * near, t1);
            let t3 = clamp((basic_t3 / factor).max(4) + 7 * near, t2);
            (t1, t2, t3)
        };
        let t1 = if preset.t1 > 0 { preset.t1 } else { t1 };
        let t2 = if preset.t2 > 0 { preset.t2 } else { t2 };
        let t3 = if preset.t3 > 0 { preset.t3 } else { t3 };
        let reset = if preset.reset > 0 { preset.reset } else { 64 };
        if reset < 3 {
            return err(format!("RESET {reset} is below 3"));
        }
        // A.2.1
        let range = (maxval + 2 * near) / (2 * near + 1) + 1;
        let qbpp = ceil_log2(range);
        let bpp = ceil_log2(maxval + 1).max(2);
        let limit = 2 * (bpp + bpp.max(8));
        Ok(Parameters {
            maxval,
            t1,
            t2,
            t3,
            reset,
            near,
            range,
            qbpp,
            limit,
        })
    }
}

/// The context variables A, B, C, N of the 365 regular contexts and the two run interruption
/// contexts (365: RItype 0, 366: RItype 1), with Nn for the latter (A.2.1).
struct Contexts {
    a: Vec<i64>,
    b: Vec<i64>,
    c: Vec<i64>,
    n: Vec<i64>,
    nn: [i64; 2],
}

impl Contexts {
    fn new(p: &Parameters) -> Contexts {
        let a0 = ((p.range + 32) / 64).max(2);
        Contexts {
            a: vec![a0; 367],
            b: vec![0; 367],
            c: vec![0; 367],
            n: vec![1; 367],
            nn: [0; 2],
        }
    }
}

/// Reads the entropy-coded segment MSB first, removing the stuffed 0 bit that follows every
/// 0xFF byte (A.1, 9.1). A 0xFF followed by a byte with its high bit set is a marker: the
/// segment ends there and zero bits are supplied past it, counted in `padding`.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    cache: u64,
    count: u32,
    after_ff: bool,
    padding: u64,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            cache: 0,
            count: 0,
            after_ff: false,
            padding: 0,
        }
    }

    fn fill(&mut self) {
        while self.count <= 56 {
            match self.data.get(self.pos) {
                Some(&b) if self.after_ff => {
                    if b & 0x80 != 0 {
                        self.count += 8; // a marker: zeros from here on
                        self.padding += 8;
                    } else {
                        self.cache |= u64::from(b) << (57 - self.count);
                        self.count += 7;
                        self.pos += 1;
                        self.after_ff = false;
                    }
                }
                Some(&b) => {
                    self.cache |= u64::from(b) << (56 - self.count);
                    self.count += 8;
                    self.pos += 1;
                    self.after_ff = b == 0xFF;
                }
                None => {
                    self.count += 8;
                    self.padding += 8;
                }
            }
        }
    }

    #[inline]
    fn bits(&mut self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.fill();
        }
        let v = self.cache >> (64 - n);
        self.cache <<= n;
        self.count -= n;
        v
    }

    #[inline]
    fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// Zero bits before the next 1 bit (the 1 is consumed), at most `max` zeros; `None` when
    /// more zeros follow.
    fn unary(&mut self, max: u32) -> Option<u32> {
        let mut zeros = 0u32;
        loop {
            if self.count == 0 {
                self.fill();
            }
            let lz = self.cache.leading_zeros().min(self.count);
            if lz < self.count {
                zeros += lz;
                if zeros > max {
                    return None;
                }
                self.cache <<= lz + 1;
                self.count -= lz + 1;
                return Some(zeros);
            }
            zeros += lz;
            self.cache = 0;
            self.count = 0;
            if zeros > max {
                return None;
            }
        }
    }

    /// Whether the decoder has read past the end of the entropy-coded data by more than the
    /// final byte's padding allows.
    fn overran(&self) -> bool {
        self.padding > 64 + u64::from(self.count)
    }
}

/// A.3.3: gradient quantization.
#[inline]
fn quantize(d: i64, p: &Parameters) -> i64 {
    if d <= -p.t3 {
        -4
    } else if d <= -p.t2 {
        -3
    } else if d <= -p.t1 {
        -2
    } else if d < -p.near {
        -1
    } else if d <= p.near {
        0
    } else if d < p.t1 {
        1
    } else if d < p.t2 {
        2
    } else if d < p.t3 {
        3
    } else {
        4
    }
}

/// A.5.3 (decoding): a limited-length Golomb code of order `k`.
#[inline]
fn golomb(bits: &mut Bits<'_>, k: u32, limit: u32, qbpp: u32) -> Result<i64, Error> {
    let escape = limit.saturating_sub(qbpp + 1);
    let q = bits
        .unary(escape)
        .ok_or_else(|| Error("a Golomb code is longer than LIMIT".into()))?;
    if q < escape {
        Ok((i64::from(q) << k) | bits.bits(k) as i64)
    } else {
        Ok(bits.bits(qbpp) as i64 + 1)
    }
}

/// The Golomb parameter k: the least k with N·2^k ≥ A (A.5.1, A.7.2.1).
#[inline]
fn golomb_k(n: i64, a: i64) -> Result<u32, Error> {
    let mut k = 0u32;
    while (n << k) < a {
        k += 1;
        if k > 30 {
            return err("a context's Golomb parameter exceeds 30");
        }
    }
    Ok(k)
}

/// Reconstructs a sample from its prediction and dequantized error (A.4.4, with the modular
/// reduction undone and the result clamped to 0..=MAXVAL).
#[inline]
fn reconstruct(px: i64, errval: i64, p: &Parameters) -> i64 {
    let mut rx = px + errval * (2 * p.near + 1);
    let span = p.range * (2 * p.near + 1);
    if rx < -p.near {
        rx += span;
    } else if rx > p.maxval + p.near {
        rx -= span;
    }
    rx.clamp(0, p.maxval)
}

/// The decoding state of one scan.
struct Scan<'p> {
    p: &'p Parameters,
    ctx: Contexts,
}

impl Scan<'_> {
    /// A regular-mode sample (A.4–A.6) with neighbours a, b, c and context gradients `q`.
    #[inline]
    fn regular(
        &mut self,
        bits: &mut Bits<'_>,
        a: i64,
        b: i64,
        c: i64,
        q: (i64, i64, i64),
    ) -> Result<i64, Error> {
        let p = self.p;
        // A.3.4: the sign of the first non-zero quantized gradient; the context index is a
        // one-to-one map of (Q1, Q2, Q3) onto 1..=364.
        let mut index = (q.0 * 9 + q.1) * 9 + q.2;
        let sign = if index < 0 { -1 } else { 1 };
        index *= sign;
        let qi = index as usize;
        // A.4.1: edge-detecting predictor.
        let mut px = if c >= a.max(b) {
            a.min(b)
        } else if c <= a.min(b) {
            a.max(b)
        } else {
            a + b - c
        };
        // A.4.2: prediction correction.
        px += sign * self.ctx.c[qi];
        px = px.clamp(0, p.maxval);
        let k = golomb_k(self.ctx.n[qi], self.ctx.a[qi])?;
        let merrval = golomb(bits, k, p.limit, p.qbpp)?;
        // A.5.2 inverted: error mapping.
        let mut errval = if p.near == 0 && k == 0 && 2 * self.ctx.b[qi] <= -self.ctx.n[qi] {
            if merrval & 1 == 1 {
                (merrval - 1) / 2
            } else {
                -(merrval / 2) - 1
            }
        } else if merrval & 1 == 0 {
            merrval / 2
        } else {
            -(merrval + 1) / 2
        };
        if errval.abs() > p.range {
            return err("a prediction error is out of range");
        }
        // A.6.1: context update; A.6.2: bias computation.
        let ctx = &mut self.ctx;
        ctx.b[qi] += errval * (2 * p.near + 1);
        ctx.a[qi] += errval.abs();
        if ctx.n[qi] == p.reset {
            ctx.a[qi] >>= 1;
            ctx.b[qi] = if ctx.b[qi] >= 0 {
                ctx.b[qi] >> 1
            } else {
                -((1 - ctx.b[qi]) >> 1)
            };
            ctx.n[qi] >>= 1;
        }
        ctx.n[qi] += 1;
        if ctx.b[qi] <= -ctx.n[qi] {
            ctx.b[qi] += ctx.n[qi];
            if ctx.c[qi] > MIN_C {
                ctx.c[qi] -= 1;
            }
            if ctx.b[qi] <= -ctx.n[qi] {
                ctx.b[qi] = -ctx.n[qi] + 1;
            }
        } else if ctx.b[qi] > 0 {
            ctx.b[qi] -= ctx.n[qi];
            if ctx.c[qi] < MAX_C {
                ctx.c[qi] += 1;
            }
            if ctx.b[qi] > 0 {
                ctx.b[qi] = 0;
            }
        }
        errval *= sign;
        Ok(reconstruct(px, errval, p))
    }

    /// A.7.1.2: the length of a run of `RUNval`, at most `left` samples; `true` when the run
    /// was ended by the end of the line rather than by an interruption sample.
    fn run_length(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        left: usize,
    ) -> (usize, bool) {
        let mut count = 0usize;
        while bits.bit() {
            let segment = 1usize << J[*run_index];
            let take = segment.min(left - count);
            count += take;
            if take == segment && *run_index < 31 {
                *run_index += 1;
            }
            if count == left {
                return (count, true);
            }
            if bits.overran() {
                return (left, true);
            }
        }
        count += bits.bits(J[*run_index]) as usize;
        (count, false)
    }

    /// A.7.2: a run interruption sample with neighbours a (RUNval) and b.
    fn interruption(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: usize,
        a: i64,
        b: i64,
        force_type0: bool,
    ) -> Result<i64, Error> {
        let p = self.p;
        let ri_type = usize::from(!force_type0 && (a - b).abs() <= p.near);
        let qi = 365 + ri_type;
        let px = if ri_type == 1 { a } else { b };
        let temp = if ri_type == 0 {
            self.ctx.a[qi]
        } else {
            self.ctx.a[qi] + (self.ctx.n[qi] >> 1)
        };
        let k = golomb_k(self.ctx.n[qi], temp)?;
        let limit = p.limit.saturating_sub(J[run_index] + 1);
        let em_errval = golomb(bits, k, limit, p.qbpp)?;
        // A.7.2.2 inverted: map = EMErrval + RItype is odd; the sign follows from the map bit.
        let t = em_errval + ri_type as i64;
        let map = t & 1 == 1;
        let magnitude = (t + i64::from(map)) / 2;
        let nn = self.ctx.nn[ri_type];
        let negative = map == (k != 0 || 2 * nn >= self.ctx.n[qi]);
        let mut errval = if negative { -magnitude } else { magnitude };
        if errval.abs() > p.range {
            return err("a run interruption error is out of range");
        }
        // A.7.2.3: update of the run interruption context.
        let ctx = &mut self.ctx;
        if errval < 0 {
            ctx.nn[ri_type] += 1;
        }
        ctx.a[qi] += (em_errval + 1 - ri_type as i64) >> 1;
        if ctx.n[qi] == p.reset {
            ctx.a[qi] >>= 1;
            ctx.n[qi] >>= 1;
            ctx.nn[ri_type] >>= 1;
        }
        ctx.n[qi] += 1;
        if ri_type == 0 && a > b {
            errval = -errval;
        }
        Ok(reconstruct(px, errval, p))
    }

    /// Decodes one line of one component into `cur[1..=width]`, with `prev` the line above;
    /// both have one extra sample at each end (index 0 is x = -1, index width + 1 is x = width).
    fn line(
        &mut self,
        bits: &mut Bits<'_>,
        prev: &mut [i64],
        cur: &mut [i64],
        run_index: &mut usize,
    ) -> Result<(), Error> {
        let width = cur.len() - 2;
        // A.2.1 / Figure A.1 edges: Ra of the first sample is Rb, Rd of the last is Rb.
        cur[0] = prev[1];
        prev[width + 1] = prev[width];
        let mut x = 1;
        while x <= width {
            let (a, b, c, d) = (cur[x - 1], prev[x], prev[x - 1], prev[x + 1]);
            let q = (
                quantize(d - b, self.p),
                quantize(b - c, self.p),
                quantize(c - a, self.p),
            );
            if q == (0, 0, 0) {
                // A.7: run mode.
                let left = width - x + 1;
                let (length, to_end) = self.run_length(bits, run_index, left);
                if length > left || (!to_end && length == left) {
                    return err("a run passes the end of the line");
                }
                cur[x..x + length].fill(a);
                x += length;
                if to_end {
                    continue;
                }
                let b = prev[x];
                cur[x] = self.interruption(bits, *run_index, a, b, false)?;
                *run_index = run_index.saturating_sub(1);
                x += 1;
            } else {
                cur[x] = self.regular(bits, a, b, c, q)?;
                x += 1;
            }
        }
        if bits.overran() {
            return err("the entropy-coded data ends before the image");
        }
        Ok(())
    }

    /// Sample-interleaved (ILV 2) line of `n` components (Annex B.3): pixel by pixel, every
    /// component's sample in turn, sharing the context variables; run mode when every
    /// component's gradients quantize to zero. The run interruption sample of each component
    /// is coded with RItype 0 (prediction Rb), as the CharLS reference implementation does;
    /// verified on pydicom's sample-interleaved near-lossless file against pydicom/CharLS.
    fn line_interleaved(
        &mut self,
        bits: &mut Bits<'_>,
        prev: &mut [Vec<i64>],
        cur: &mut [Vec<i64>],
        run_index: &mut usize,
    ) -> Result<(), Error> {
        let n = cur.len();
        let width = cur[0].len() - 2;
        for c in 0..n {
            cur[c][0] = prev[c][1];
            prev[c][width + 1] = prev[c][width];
        }
        let mut x = 1;
        while x <= width {
            let mut qs = [(0i64, 0i64, 0i64); 4];
            let mut all_zero = true;
            for c in 0..n {
                let (a, b, cc, d) = (cur[c][x - 1], prev[c][x], prev[c][x - 1], prev[c][x + 1]);
                qs[c] = (
                    quantize(d - b, self.p),
                    quantize(b - cc, self.p),
                    quantize(cc - a, self.p),
                );
                all_zero &= qs[c] == (0, 0, 0);
            }
            if all_zero {
                let left = width - x + 1;
                let (length, to_end) = self.run_length(bits, run_index, left);
                if length > left || (!to_end && length == left) {
                    return err("a run passes the end of the line");
                }
                for comp in cur.iter_mut() {
                    let a = comp[x - 1];
                    comp[x..x + length].fill(a);
                }
                x += length;
                if to_end {
                    continue;
                }
                for c in 0..n {
                    let (a, b) = (cur[c][x - 1], prev[c][x]);
                    cur[c][x] = self.interruption(bits, *run_index, a, b, true)?;
                }
                *run_index = run_index.saturating_sub(1);
                x += 1;
            } else {
                for c in 0..n {
                    let (a, b, cc) = (cur[c][x - 1], prev[c][x], prev[c][x - 1]);
                    cur[c][x] = self.regular(bits, a, b, cc, qs[c])?;
                }
                x += 1;
            }
        }
        if bits.overran() {
            return err("the entropy-coded data ends before the image");
        }
        Ok(())
    }
}

struct Frame {
    precision: u8,
    height: u32,
    width: u32,
    components: Vec<u8>,
}

fn be16(data: &[u8], at: usize) -> Result<usize, Error> {
    match data.get(at..at + 2) {
        Some(b) => Ok(usize::from(u16::from_be_bytes([b[0], b[1]]))),
        None => err(format!(
            "the codestream ends inside a marker segment at byte {at}"
        )),
    }
}

/// Reads the frame header only: (width, height, components, precision).
pub fn frame_size(data: &[u8]) -> Result<(u32, u32, u32, u8), Error> {
    let mut at = 2;
    if !data.starts_with(&[0xFF, 0xD8]) {
        return err("no SOI marker");
    }
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return err(format!("no marker at byte {at}"));
        }
        let marker = data[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = be16(data, at + 2)?;
        if marker == 0xF7 {
            let frame = parse_sof(data.get(at + 4..at + 2 + length).unwrap_or(&[]))?;
            return Ok((
                frame.width,
                frame.height,
                frame.components.len() as u32,
                frame.precision,
            ));
        }
        at += 2 + length;
    }
    err("no SOF55 frame header")
}

fn parse_sof(body: &[u8]) -> Result<Frame, Error> {
    if body.len() < 6 {
        return err("the frame header is too short");
    }
    let precision = body[0];
    let height = u32::from(u16::from_be_bytes([body[1], body[2]]));
    let width = u32::from(u16::from_be_bytes([body[3], body[4]]));
    let count = usize::from(body[5]);
    if body.len() < 6 + 3 * count {
        return err("the frame header lists more components than it holds");
    }
    if !(2..=16).contains(&precision) {
        return err(format!("sample precision {precision}"));
    }
    if count == 0 || count > 4 {
        return err(format!("{count} components"));
    }
    let mut components = Vec::with_capacity(count);
    for i in 0..count {
        let sampling = body[6 + 3 * i + 1];
        if sampling != 0x11 {
            return err("subsampled components are not supported");
        }
        components.push(body[6 + 3 * i]);
    }
    if height == 0 || width == 0 {
        return err("a zero image dimension (oversize images, C.2.4.1.4, are not supported)");
    }
    Ok(Frame {
        precision,
        height,
        width,
        components,
    })
}

/// Decodes a JPEG-LS codestream (SOI … EOI). `max_samples` bounds the image the frame header
/// may declare.
pub fn decode(data: &[u8], max_samples: u64) -> Result<Decoded, Error> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return err("no SOI marker");
    }
    let mut at = 2;
    let mut frame: Option<Frame> = None;
    let mut preset = Preset::default();
    let mut restart_interval = 0usize;
    // planes[c] holds component c's samples, row by row.
    let mut planes: Vec<Vec<u16>> = Vec::new();
    let mut decoded_components = [false; 4];
    let mut last_near = 0;
    let mut last_ilv = 0;
    loop {
        if at + 2 > data.len() {
            break;
        }
        if data[at] != 0xFF {
            return err(format!("no marker at byte {at}"));
        }
        let marker = data[at + 1];
        match marker {
            0xFF => {
                at += 1;
                continue;
            }
            0xD9 => break, // EOI
            0xD0..=0xD7 | 0x01 => {
                at += 2;
                continue;
            }
            _ => {}
        }
        let length = be16(data, at + 2)?;
        if length < 2 || at + 2 + length > data.len() {
            return err(format!("marker segment at byte {at} overruns the data"));
        }
        let body = &data[at + 4..at + 2 + length];
        at += 2 + length;
        match marker {
            0xF7 => {
                if frame.is_some() {
                    return err("a second frame header");
                }
                let f = parse_sof(body)?;
                let samples = u64::from(f.width) * u64::from(f.height) * f.components.len() as u64;
                if samples > max_samples {
                    return err(format!(
                        "the frame declares {samples} samples, over the limit"
                    ));
                }
                let plane = f.width as usize * f.height as usize;
                planes = vec![vec![0u16; plane]; f.components.len()];
                frame = Some(f);
            }
            0xF8 => {
                // C.2.4.1: LSE. ID 1: preset coding parameters.
                match body.first() {
                    Some(1) if body.len() >= 11 => {
                        let v = |i: usize| i64::from(u16::from_be_bytes([body[i], body[i + 1]]));
                        preset = Preset {
                            maxval: v(1),
                            t1: v(3),
                            t2: v(5),
                            t3: v(7),
                            reset: v(9),
                        };
                    }
                    Some(1) => return err("the LSE preset parameters are too short"),
                    Some(id) => {
                        return err(format!(
                            "LSE marker segment type {id} (mapping tables or oversize images) is not supported"
                        ));
                    }
                    None => return err("an empty LSE marker segment"),
                }
            }
            0xDD => {
                if body.len() < 2 {
                    return err("the DRI marker segment is too short");
                }
                restart_interval = usize::from(u16::from_be_bytes([body[0], body[1]]));
            }
            0xDA => {
                let Some(f) = frame.as_ref() else {
                    return err("a scan before the frame header");
                };
                let count = usize::from(*body.first().unwrap_or(&0));
                if count == 0 || body.len() < 1 + 2 * count + 3 {
                    return err("the scan header is too short");
                }
                let mut members = Vec::with_capacity(count);
                for i in 0..count {
                    let id = body[1 + 2 * i];
                    let table = body[2 + 2 * i];
                    if table != 0 {
                        return err("mapping tables (C.2.4.1.2) are not supported");
                    }
                    let index =
                        f.components.iter().position(|&c| c == id).ok_or_else(|| {
                            Error(format!("the scan names unknown component {id}"))
                        })?;
                    if decoded_components[index] {
                        return err(format!("component {id} is in two scans"));
                    }
                    decoded_components[index] = true;
                    members.push(index);
                }
                let near = i64::from(body[1 + 2 * count]);
                let ilv = body[2 + 2 * count];
                let point_transform = body[3 + 2 * count] & 0x0F;
                if point_transform != 0 {
                    return err("a point transform is not supported");
                }
                if ilv > 2 || (ilv == 0 && count != 1) {
                    return err(format!("interleave mode {ilv} with {count} components"));
                }
                let p = Parameters::new(f.precision, near, preset)?;
                let consumed = scan(
                    &data[at..],
                    f,
                    &p,
                    ilv,
                    &members,
                    restart_interval,
                    &mut planes,
                )?;
                at += consumed;
                last_near = near as u32;
                last_ilv = ilv;
            }
            _ => {} // APPn, COM and others carry nothing we need
        }
    }
    let Some(f) = frame else {
        return err("no SOF55 frame header");
    };
    if decoded_components[..f.components.len()].iter().any(|d| !d) {
        return err("a component has no scan");
    }
    let n = f.components.len();
    let plane = f.width as usize * f.height as usize;
    let mut samples = Vec::with_capacity(plane * n);
    for i in 0..plane {
        for c in &planes {
            samples.push(c[i]);
        }
    }
    Ok(Decoded {
        width: f.width,
        height: f.height,
        components: n as u32,
        precision: f.precision,
        near: last_near,
        interleave: last_ilv,
        samples,
    })
}

/// Decodes one scan's entropy-coded data (with its restart intervals) into `planes`; returns
/// the bytes consumed.
fn scan(
    data: &[u8],
    f: &Frame,
    p: &Parameters,
    ilv: u8,
    members: &[usize],
    restart_interval: usize,
    planes: &mut [Vec<u16>],
) -> Result<usize, Error> {
    let width = f.width as usize;
    let height = f.height as usize;
    let n = members.len();
    let mut offset = 0usize;
    let mut y = 0usize;
    // Each restart interval (in lines) starts afresh (C.2.5 / A.2.1 initialisation).
    let interval = if restart_interval == 0 {
        height
    } else {
        restart_interval
    };
    while y < height {
        if y > 0 {
            // An RSTm marker separates restart intervals.
            match data.get(offset..offset + 2) {
                Some([0xFF, 0xD0..=0xD7]) => offset += 2,
                _ => return err("a restart marker is missing"),
            }
        }
        let mut bits = Bits::new(&data[offset..]);
        let mut state = Scan {
            p,
            ctx: Contexts::new(p),
        };
        let mut prev: Vec<Vec<i64>> = vec![vec![0i64; width + 2]; n];
        let mut cur: Vec<Vec<i64>> = vec![vec![0i64; width + 2]; n];
        let mut run_index = vec![0usize; n];
        let end = (y + interval).min(height);
        while y < end {
            match ilv {
                2 => {
                    state.line_interleaved(&mut bits, &mut prev, &mut cur, &mut run_index[0])?;
                }
                _ => {
                    // ILV 0 (one component) or 1 (line by line, a RUNindex per component,
                    // shared contexts: Annex B.2).
                    for c in 0..n {
                        state.line(&mut bits, &mut prev[c], &mut cur[c], &mut run_index[c])?;
                    }
                }
            }
            for (c, &member) in members.iter().enumerate() {
                let row = &mut planes[member][y * width..(y + 1) * width];
                for (dst, &v) in row.iter_mut().zip(&cur[c][1..=width]) {
                    *dst = v as u16;
                }
            }
            std::mem::swap(&mut prev, &mut cur);
            y += 1;
        }
        // The interval's entropy-coded data ends at the first marker: a 0xFF followed by a
        // byte with its high bit set (after 0xFF, entropy-coded data has a stuffed 0 bit).
        offset += next_marker(&data[offset..]);
    }
    Ok(offset)
}

/// The offset of the first marker in `data`, or its length.
fn next_marker(data: &[u8]) -> usize {
    data.windows(2)
        .position(|w| w[0] == 0xFF && w[1] >= 0x80)
        .unwrap_or(data.len())
}

/// Decodes one JPEG-LS frame of a DICOM image into pixel-interleaved values.
pub(crate) fn frame(data: &[u8], info: &ImageInfo, index: u32) -> Result<Vec<i64>, PixelError> {
    let corrupt = |e: Error| PixelError::Corrupt {
        frame: index,
        codec: "JPEG-LS",
        message: e.0,
    };
    let (width, height, components, _) = frame_size(data).map_err(corrupt)?;
    if width != info.columns || height != info.rows || components != info.samples_per_pixel {
        return Err(PixelError::Inconsistent(format!(
            "frame {index} is {width}×{height}×{components} in the JPEG-LS data but {}×{}×{} in the header",
            info.columns, info.rows, info.samples_per_pixel
        )));
    }
    let decoded = decode(data, info.samples_per_frame()).map_err(corrupt)?;
    let (bs, signed) = (info.bits_stored, info.signed);
    Ok(decoded
        .samples
        .iter()
        .map(|&v| interpret(u64::from(v), bs, signed))
        .collect())
}
