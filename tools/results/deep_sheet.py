#!/usr/bin/python3
"""Contact sheet of CNN pre-images (like seed 001 Figs. 5-8, 13-14): labelled tiles in a grid, the first tile
optionally the input image (centre square resized as `preimage` does), written as PNG or JPEG.

Usage:
  deep_sheet.py --out FIG.jpg [--original IMAGE] [--cols N] [--tile PX] [--title TEXT] LABEL=PNG ...
A LABEL=PNG whose PNG is missing becomes a grey tile marked "missing" (a layer that failed or was not run); "=-" is
an empty cell (to start a new row of a grid).
"""
import argparse
import os

from PIL import Image, ImageDraw, ImageFont

GAP, LABEL_H = 4, 16


def centre_square(im):
    w, h = im.size
    s = min(w, h)
    return im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def tile_of(path, px, crop):
    if not os.path.isfile(path):
        return None
    im = Image.open(path).convert("RGB")
    if crop:
        im = centre_square(im)
    return im.resize((px, px), Image.BILINEAR)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--original")
    ap.add_argument("--cols", type=int, default=7)
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--title", default="")
    ap.add_argument("--quality", type=int, default=85)
    ap.add_argument("tiles", nargs="+", metavar="LABEL=PNG")
    a = ap.parse_args()

    items = []
    if a.original:
        items.append(("input", tile_of(a.original, a.tile, True)))
    for t in a.tiles:
        label, path = t.split("=", 1)
        items.append((label, "blank" if path == "-" else tile_of(path, a.tile, False)))
    cols = min(a.cols, len(items))
    rows = (len(items) + cols - 1) // cols
    title_h = LABEL_H + GAP if a.title else 0
    cell_h = a.tile + LABEL_H
    sheet = Image.new("RGB", (cols * (a.tile + GAP) - GAP, title_h + rows * (cell_h + GAP) - GAP), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    if a.title:
        draw.text((2, 2), a.title, fill="black", font=font)
    for i, (label, im) in enumerate(items):
        x = (i % cols) * (a.tile + GAP)
        y = title_h + (i // cols) * (cell_h + GAP)
        draw.text((x + 2, y + 2), label, fill="black", font=font)
        if im == "blank":
            continue
        if im is None:
            draw.rectangle((x, y + LABEL_H, x + a.tile - 1, y + LABEL_H + a.tile - 1), fill=(160, 160, 160))
            draw.text((x + 4, y + LABEL_H + a.tile // 2), "missing", fill="black", font=font)
        else:
            sheet.paste(im, (x, y + LABEL_H))
    if a.out.lower().endswith((".jpg", ".jpeg")):
        sheet.save(a.out, quality=a.quality, optimize=True)
    else:
        sheet.save(a.out)


if __name__ == "__main__":
    main()
