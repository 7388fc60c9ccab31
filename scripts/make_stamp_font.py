"""Make portal/fonts/DejaVuSans-Vietnamese.ttf: DejaVu Sans cut down to the letters Vietnamese
(and the portal's punctuation) need, without layout tables.

pyHanko subsets the signature appearance's font with fontTools on every signature; on the full
DejaVu Sans (700 KB, large GSUB/GPOS tables) that took ~0.4 s of each copy, on this cut-down font a
few milliseconds. Vietnamese letters are precomposed code points, so no shaping tables are needed.

The font is also rescaled to 1000 units per em: pyHanko 0.38 writes the glyph widths (/W) of an
embedded TrueType font in the font's own units where PDF wants thousandths of an em, so with
DejaVu's 2048 units every letter of the signature's appearance stood twice its width apart.
Run: .venv/bin/python scripts/make_stamp_font.py
"""

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem

FONTS = Path(__file__).resolve().parent.parent / "portal" / "fonts"
RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x17F), (0x1A0, 0x1B0), (0x300, 0x323), (0x1EA0, 0x1EF9),
          (0x2010, 0x2027), (0x2030, 0x203A), (0x20AB, 0x20AB)]


def main() -> None:
    font = TTFont(FONTS / "DejaVuSans.ttf")
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM", "kern"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for lo, hi in RANGES for cp in range(lo, hi + 1)])
    subsetter.subset(font)
    scale_upem(font, 1000)
    out = FONTS / "DejaVuSans-Vietnamese.ttf"
    font.save(out)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
