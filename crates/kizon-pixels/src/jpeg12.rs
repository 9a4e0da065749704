//! Sequential DCT JPEG with 12-bit samples (ISO/IEC 10918-1 process 4, DICOM JPEG Extended
//! 1.2.840.10008.1.2.4.51), which `jpeg-decoder` rejects: a small baseline-style decoder for
//! Huffman-coded sequential scans, any sample precision 8 or 12, components without
//! subsampling (12-bit DICOM images are greyscale), restart intervals.
//!
//! Clauses cited are those of ISO/IEC 10918-1 (ITU-T T.81): B.2 (frame, scan, table
//! syntax), C (Huffman table specification), F.2.2 (decoding of DC and AC coefficients,
//! `DECODE`, `RECEIVE`, `EXTEND`), A.3.3 (the inverse DCT), F.2.1.3.1 (level shift).

use crate::{ImageInfo, PixelError, interpret};

fn corrupt(frame: u32, message: impl Into<String>) -> PixelError {
    PixelError::Corrupt {
        frame,
        codec: "JPEG",
        message: message.into(),
    }
}

/// Zig-zag order (Figure A.6): position k of the coded sequence → row-major index.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// A Huffman table in the form of F.2.2.3: for each code length, the largest code, and the
/// index of its first value.
#[derive(Clone, Default)]
struct Huffman {
    maxcode: [i32; 17],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    /// C.2 / Annex C: code sizes and codes from the BITS and HUFFVAL lists.
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Huffman {
        let mut h = Huffman {
            maxcode: [-1; 17],
            values,
            ..Huffman::default()
        };
        let mut code = 0i32;
        let mut k = 0i32;
        for length in 1..=16 {
            let n = i32::from(counts[length - 1]);
            if n > 0 {
                h.valptr[length] = k;
                h.mincode[length] = code;
                code += n;
                k += n;
                h.maxcode[length] = code - 1;
            }
            code <<= 1;
        }
        h
    }
}

/// Entropy-coded data with byte stuffing removed (F.1.2.3): 0xFF 0x00 is 0xFF; any other byte
/// after 0xFF is a marker, where the data ends (zero bits past it).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    cache: u64,
    count: u32,
    padding: u32,
}

impl Bits<'_> {
    fn fill(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(0xFF) => match self.data.get(self.pos + 1) {
                    Some(0x00) => {
                        self.pos += 2;
                        0xFF
                    }
                    _ => {
                        self.padding += 8;
                        0
                    }
                },
                Some(&b) => {
                    self.pos += 1;
                    b
                }
                None => {
                    self.padding += 8;
                    0
                }
            };
            self.cache |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.fill();
        }
        let v = (self.cache >> (64 - n)) as u32;
        self.cache <<= n;
        self.count -= n;
        v
    }

    /// F.2.2.3 DECODE.
    fn decode(&mut self, h: &Huffman) -> Option<u8> {
        let mut code = self.bits(1) as i32;
        for length in 1..=16 {
            if code <= h.maxcode[length] {
                let index = h.valptr[length] + code - h.mincode[length];
                return h.values.get(index as usize).copied();
            }
            code = (code << 1) | self.bits(1) as i32;
        }
        None
    }

    /// F.2.2.1 RECEIVE and EXTEND.
    fn receive_extend(&mut self, size: u8) -> i32 {
        if size == 0 || size > 16 {
            return 0;
        }
        let v = self.bits(u32::from(size)) as i32;
        if v < (1 << (size - 1)) {
            v - (1 << size) + 1
        } else {
            v
        }
    }

    /// Drops the bits up to the next byte boundary (before a restart marker).
    fn align(&mut self) {
        let drop = self.count % 8;
        self.bits(drop);
    }

    fn bytes_consumed(&self) -> usize {
        self.pos
            .saturating_sub(((self.count.saturating_sub(self.padding)) / 8) as usize)
    }
}

struct Component {
    id: u8,
    quant: usize,
}

/// The 2-D inverse DCT of A.3.3, separable, in f64.
fn idct(block: &[f64; 64], cos: &[[f64; 8]; 8], out: &mut [f64; 64]) {
    let mut tmp = [0.0f64; 64];
    for y in 0..8 {
        for x in 0..8 {
            let mut s = 0.0;
            for u in 0..8 {
                s += cos[x][u] * block[y * 8 + u];
            }
            tmp[y * 8 + x] = s;
        }
    }
    for x in 0..8 {
        for y in 0..8 {
            let mut s = 0.0;
            for v in 0..8 {
                s += cos[y][v] * tmp[v * 8 + x];
            }
            out[y * 8 + x] = s / 4.0;
        }
    }
}

/// Decodes one sequential-DCT JPEG frame into pixel-interleaved values.
pub(crate) fn frame(data: &[u8], info: &ImageInfo, index: u32) -> Result<Vec<i64>, PixelError> {
    let be16 = |at: usize| -> Result<usize, PixelError> {
        data.get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| corrupt(index, "the data ends inside a marker segment"))
    };
    let mut quant = [[0u16; 64]; 4];
    let mut dc_tables: [Huffman; 4] = Default::default();
    let mut ac_tables: [Huffman; 4] = Default::default();
    let mut components: Vec<Component> = Vec::new();
    let mut precision = 0u8;
    let (mut width, mut height) = (0usize, 0usize);
    let mut restart = 0usize;
    let mut planes: Vec<Vec<u16>> = Vec::new();
    let mut at = 2;
    let mut scanned = false;
    let mut cos = [[0.0f64; 8]; 8];
    for (x, row) in cos.iter_mut().enumerate() {
        for (u, c) in row.iter_mut().enumerate() {
            let cu = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            *c = cu * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos();
        }
    }
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return Err(corrupt(index, format!("no marker at byte {at}")));
        }
        let marker = data[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&marker) {
            at += 2;
            continue;
        }
        let length = be16(at + 2)?;
        if length < 2 || at + 2 + length > data.len() {
            return Err(corrupt(
                index,
                format!("marker segment at byte {at} overruns the data"),
            ));
        }
        let body = &data[at + 4..at + 2 + length];
        at += 2 + length;
        match marker {
            0xDB => {
                // B.2.4.1 DQT: one or more tables, 8- or 16-bit entries in zig-zag order.
                let mut i = 0;
                while i < body.len() {
                    let (pq, tq) = (body[i] >> 4, usize::from(body[i] & 15));
                    i += 1;
                    if tq > 3 {
                        return Err(corrupt(index, "quantization table id over 3"));
                    }
                    for k in 0..64 {
                        let q = if pq == 0 {
                            body.get(i + k).map(|&b| u16::from(b))
                        } else {
                            body.get(i + 2 * k..i + 2 * k + 2)
                                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                        };
                        quant[tq][ZIGZAG[k]] =
                            q.ok_or_else(|| corrupt(index, "a DQT segment is cut off"))?;
                    }
                    i += if pq == 0 { 64 } else { 128 };
                }
            }
            0xC4 => {
                // B.2.4.2 DHT.
                let mut i = 0;
                while i + 17 <= body.len() {
                    let (class, id) = (body[i] >> 4, usize::from(body[i] & 15));
                    let counts: [u8; 16] = body[i + 1..i + 17].try_into().unwrap_or([0; 16]);
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = body
                        .get(i + 17..i + 17 + total)
                        .ok_or_else(|| corrupt(index, "a DHT segment is cut off"))?
                        .to_vec();
                    if id > 3 || class > 1 {
                        return Err(corrupt(index, "Huffman table class or id out of range"));
                    }
                    let table = Huffman::new(&counts, values);
                    if class == 0 {
                        dc_tables[id] = table;
                    } else {
                        ac_tables[id] = table;
                    }
                    i += 17 + total;
                }
            }
            0xC0 | 0xC1 => {
                // B.2.2 frame header.
                if !components.is_empty() {
                    return Err(corrupt(index, "a second frame header"));
                }
                if body.len() < 6 {
                    return Err(corrupt(index, "the frame header is too short"));
                }
                precision = body[0];
                height = usize::from(u16::from_be_bytes([body[1], body[2]]));
                width = usize::from(u16::from_be_bytes([body[3], body[4]]));
                let count = usize::from(body[5]);
                if width as u32 != info.columns
                    || height as u32 != info.rows
                    || count as u32 != info.samples_per_pixel
                {
                    return Err(PixelError::Inconsistent(format!(
                        "frame {index} is {width}×{height}×{count} in the JPEG data but {}×{}×{} in the header",
                        info.columns, info.rows, info.samples_per_pixel
                    )));
                }
                if precision != 8 && precision != 12 {
                    return Err(corrupt(index, format!("sample precision {precision}")));
                }
                for c in 0..count {
                    let entry = body
                        .get(6 + 3 * c..9 + 3 * c)
                        .ok_or_else(|| corrupt(index, "the frame header is cut off"))?;
                    if entry[1] != 0x11 {
                        return Err(PixelError::Unsupported(
                            "subsampled components in a 12-bit JPEG".into(),
                        ));
                    }
                    components.push(Component {
                        id: entry[0],
                        quant: usize::from(entry[2] & 3),
                    });
                }
                planes = vec![vec![0u16; width * height]; count];
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(PixelError::Unsupported(format!(
                    "JPEG process SOF{} with more than 8 bits",
                    marker - 0xC0
                )));
            }
            0xDD => {
                restart = body
                    .get(0..2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .unwrap_or(0);
            }
            0xDA => {
                if components.is_empty() {
                    return Err(corrupt(index, "a scan before the frame header"));
                }
                let count = usize::from(*body.first().unwrap_or(&0));
                if count == 0 || body.len() < 1 + 2 * count + 3 {
                    return Err(corrupt(index, "the scan header is too short"));
                }
                let mut members = Vec::new();
                for i in 0..count {
                    let id = body[1 + 2 * i];
                    let tables = body[2 + 2 * i];
                    let c = components
                        .iter()
                        .position(|c| c.id == id)
                        .ok_or_else(|| corrupt(index, "the scan names an unknown component"))?;
                    members.push((c, usize::from(tables >> 4 & 3), usize::from(tables & 3)));
                }
                let consumed = scan(
                    &data[at..],
                    &members,
                    &components,
                    &quant,
                    &dc_tables,
                    &ac_tables,
                    (width, height, precision, restart),
                    &cos,
                    &mut planes,
                )
                .map_err(|m| corrupt(index, m))?;
                at += consumed;
                while at + 1 < data.len()
                    && !(data[at] == 0xFF && data[at + 1] != 0 && data[at + 1] != 0xFF)
                {
                    at += 1;
                }
                scanned = true;
            }
            _ => {}
        }
    }
    if !scanned {
        return Err(corrupt(index, "no scan"));
    }
    let (bs, signed) = (info.bits_stored, info.signed);
    let n = planes.len();
    let mut out = Vec::with_capacity(width * height * n);
    for p in 0..width * height {
        for plane in &planes {
            out.push(interpret(u64::from(plane[p]), bs, signed));
        }
    }
    Ok(out)
}

/// Decodes one sequential Huffman scan (F.2) into `planes`; returns the bytes consumed.
#[allow(clippy::too_many_arguments)]
fn scan(
    data: &[u8],
    members: &[(usize, usize, usize)],
    components: &[Component],
    quant: &[[u16; 64]; 4],
    dc_tables: &[Huffman; 4],
    ac_tables: &[Huffman; 4],
    (width, height, precision, restart): (usize, usize, u8, usize),
    cos: &[[f64; 8]; 8],
    planes: &mut [Vec<u16>],
) -> Result<usize, String> {
    let mut bits = Bits {
        data,
        pos: 0,
        cache: 0,
        count: 0,
        padding: 0,
    };
    let (bw, bh) = (width.div_ceil(8), height.div_ceil(8));
    let mut predictions = vec![0i32; members.len()];
    let max = (1i32 << precision) - 1;
    let shift = f64::from(1u32 << (precision - 1));
    let mut coefficients = [0.0f64; 64];
    let mut pixels = [0.0f64; 64];
    let mut interval_start = 0usize;
    for mcu in 0..bw * bh {
        if restart > 0 && mcu > 0 && mcu % restart == 0 {
            // F.1.2.3 / B.2.1: byte-align, skip the RSTn marker, reset the predictions.
            bits.align();
            // The marker is the first 0xFF followed by a non-zero byte from about where the
            // bits ran out (stuffed 0xFF 0x00 pairs make the count approximate).
            let from = bits.bytes_consumed().saturating_sub(3).max(interval_start);
            let at = from
                + data[from.min(data.len())..]
                    .windows(2)
                    .position(|w| w[0] == 0xFF && w[1] != 0)
                    .unwrap_or(data.len());
            match data.get(at..at.saturating_add(2)) {
                Some([0xFF, 0xD0..=0xD7]) => {
                    interval_start = at + 2;
                    bits = Bits {
                        data,
                        pos: at + 2,
                        cache: 0,
                        count: 0,
                        padding: 0,
                    };
                }
                _ => return Err(format!("restart marker missing before MCU {mcu}")),
            }
            predictions.iter_mut().for_each(|p| *p = 0);
        }
        let (bx, by) = (mcu % bw, mcu / bw);
        for (m, &(c, td, ta)) in members.iter().enumerate() {
            coefficients.fill(0.0);
            let q = &quant[components[c].quant];
            // F.2.2.1: the DC difference.
            let t = bits
                .decode(&dc_tables[td])
                .ok_or("an invalid DC Huffman code")?;
            predictions[m] = predictions[m].wrapping_add(bits.receive_extend(t));
            coefficients[0] = f64::from(predictions[m]) * f64::from(q[0]);
            // F.2.2.2: the AC coefficients.
            let mut k = 1;
            while k < 64 {
                let rs = bits
                    .decode(&ac_tables[ta])
                    .ok_or("an invalid AC Huffman code")?;
                let (r, s) = (usize::from(rs >> 4), rs & 15);
                if s == 0 {
                    if r == 15 {
                        k += 16;
                        continue;
                    }
                    break;
                }
                k += r;
                if k > 63 {
                    return Err("an AC run passes the end of the block".into());
                }
                let z = ZIGZAG[k];
                coefficients[z] = f64::from(bits.receive_extend(s)) * f64::from(q[z]);
                k += 1;
            }
            idct(&coefficients, cos, &mut pixels);
            let plane = &mut planes[c];
            for y in 0..8 {
                let py = by * 8 + y;
                if py >= height {
                    break;
                }
                for x in 0..8 {
                    let px = bx * 8 + x;
                    if px >= width {
                        break;
                    }
                    let v = (pixels[y * 8 + x] + shift).round() as i32;
                    plane[py * width + px] = v.clamp(0, max) as u16;
                }
            }
        }
        if bits.padding > 64 {
            return Err("the entropy-coded data ends before the image".into());
        }
    }
    Ok(bits.bytes_consumed())
}
