#!/usr/bin/env python3
"""Regenerates the vendored Noto Sans JP subsets in this directory.

Source: npm package @expo-google-fonts/noto-sans-jp 0.4.3 (Noto Sans JP 2.004, SIL OFL 1.1):
    npm pack @expo-google-fonts/noto-sans-jp && tar xzf expo-google-fonts-noto-sans-jp-0.4.3.tgz
    python3 make_subset.py package/400Regular/NotoSansJP_400Regular.ttf package/700Bold/NotoSansJP_700Bold.ttf

Needs fonttools (PyPI) for pyftsubset. The subset keeps every character of
  - ASCII, Latin-1 and Latin Extended-A, Greek, Cyrillic, general punctuation, letterlike
    symbols, arrows, mathematical operators, enclosed alphanumerics, box drawing, shapes,
  - CJK symbols and punctuation, hiragana, katakana, enclosed CJK, CJK compatibility,
    half-width and full-width forms,
  - JIS X 0208 (all 6,879 characters, including the 6,355 kanji of levels 1 and 2),
  - JIS X 0213 plane 1 (levels 1-3; e.g. 剝 塡 頰 𠮟 of the 2010 常用漢字),
  - the Windows-31J (CP932) NEC and IBM extensions (e.g. ① ㈱ 髙 﨑),
as far as Noto Sans JP has them. Everything else (JIS X 0213 plane 2, rarer CJK
Unified Ideographs) is dropped; kizon-report refuses to render a character the
embedded fonts cannot draw rather than print a blank box.
"""
import subprocess, sys

def euc_2byte(codec):
    s = set()
    for a in range(0xA1, 0xFF):
        for b in range(0xA1, 0xFF):
            try:
                s.update(bytes([a, b]).decode(codec))
            except UnicodeDecodeError:
                pass
    return s

def cp932():
    s = set()
    for a in list(range(0x81, 0xA0)) + list(range(0xE0, 0xFD)):
        for b in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
            try:
                s.update(bytes([a, b]).decode("cp932"))
            except UnicodeDecodeError:
                pass
    return s

RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x017F), (0x0370, 0x03FF), (0x0400, 0x04FF),
    (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x218F),
    (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F),
    (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x3000, 0x30FF), (0x3200, 0x33FF),
    (0xFF00, 0xFFEF),
]

def charset():
    s = set()
    for lo, hi in RANGES:
        s |= {chr(c) for c in range(lo, hi + 1)}
    s |= euc_2byte("euc_jp")  # JIS X 0208
    s |= euc_2byte("euc_jis_2004")  # JIS X 0213 plane 1
    s |= cp932()
    return "".join(sorted(s))

def main(regular, bold):
    with open("charset.txt", "w", encoding="utf-8") as f:
        f.write(charset())
    for src, out in ((regular, "NotoSansJP-Regular-subset.ttf"), (bold, "NotoSansJP-Bold-subset.ttf")):
        subprocess.run(
            ["pyftsubset", src, "--text-file=charset.txt", "--layout-features=*",
             f"--output-file={out}"],
            check=True,
        )

if __name__ == "__main__":
    main(*sys.argv[1:3])
