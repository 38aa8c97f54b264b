#!/usr/bin/python3
"""Renders a terminal capture with colours (`tmux capture-pane -e -p`) as a PNG.

    tmux capture-pane -e -p -t PANE >pane.txt
    /usr/bin/python3 docs/img/ansi2png.py pane.txt docs/img/up-progress.png [COLUMNS]

Needs Debian's python3-pil and fonts-dejavu-core (DejaVu Sans Mono). Understands SGR only: reset,
bold, dim, the 8 + 8 basic foreground colours and 256-colour foregrounds; anything else is ignored.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
BG = (30, 30, 30)
FG = (212, 212, 212)
PALETTE = [(0, 0, 0), (224, 90, 80), (110, 200, 110), (215, 186, 90), (90, 150, 235), (190, 120, 220),
           (90, 195, 210), (212, 212, 212)]
BRIGHT = [(110, 110, 110), (255, 120, 110), (140, 230, 140), (240, 215, 120), (130, 180, 255),
          (215, 150, 240), (130, 225, 235), (255, 255, 255)]


def xterm256(n):
    if n < 8:
        return PALETTE[n]
    if n < 16:
        return BRIGHT[n - 8]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    g = 8 + 10 * (n - 232)
    return (g, g, g)


def parse(line):
    """[(text, colour, bold, dim)] for one line."""
    out, colour, bold, dim = [], None, False, False
    for part in re.split(r"(\x1b\[[0-9;]*m)", line):
        if not part.startswith("\x1b["):
            if part:
                out.append((part, colour, bold, dim))
            continue
        codes = [int(c) if c else 0 for c in part[2:-1].split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                colour, bold, dim = None, False, False
            elif c == 1:
                bold = True
            elif c == 2:
                dim = True
            elif c == 22:
                bold = dim = False
            elif 30 <= c <= 37:
                colour = PALETTE[c - 30]
            elif 90 <= c <= 97:
                colour = BRIGHT[c - 90]
            elif c == 39:
                colour = None
            elif c == 38 and i + 2 < len(codes) and codes[i + 1] == 5:
                colour = xterm256(codes[i + 2])
                i += 2
            i += 1
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    lines = open(src, encoding="utf-8").read().rstrip("\n").split("\n")
    while lines and not re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]).strip():
        lines.pop()
    plain_width = max(len(re.sub(r"\x1b\[[0-9;]*m", "", l).rstrip()) for l in lines)
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else plain_width + 1
    regular, bold_font = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    cw = regular.getlength("M")
    lh = int(SIZE * 1.45)
    pad, bar = 18, 30
    img = Image.new("RGB", (int(cols * cw) + 2 * pad, bar + len(lines) * lh + 2 * pad), BG)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, img.width, bar], fill=(50, 50, 50))
    for k, c in enumerate([(237, 106, 94), (245, 191, 79), (98, 197, 84)]):
        d.ellipse([14 + k * 20, 10, 26 + k * 20, 22], fill=c)
    for row, line in enumerate(lines):
        x, y = pad, bar + pad + row * lh
        for text, colour, bold, dim in parse(line):
            c = colour or FG
            if dim:
                c = tuple(int(v * 0.6 + BG[k] * 0.4) for k, v in enumerate(c))
            for ch in text:  # one cell per code point, like the terminal
                d.text((x, y), ch, font=bold_font if bold else regular, fill=c)
                x += cw
    img.save(dst)


if __name__ == "__main__":
    main()
