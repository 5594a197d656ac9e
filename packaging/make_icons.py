#!/usr/bin/env python3
"""Generate the pushdesk icons (a white bell on a rounded blue square).

Run from the repository root:

    .venv/bin/python packaging/make_icons.py

Writes:
    web/icons/icon-192.png           rounded square, purpose "any"
    web/icons/icon-512.png           rounded square, purpose "any"
    web/icons/icon-512-maskable.png  full-bleed square, bell inside the 80 % safe zone
    web/icons/badge-72.png           white bell on transparent (notification badge)
    resources/icons/pushdesk.png     256 px, same artwork as the "any" icons
    resources/icons/pushdesk.svg     vector version of the same artwork
    resources/icons/pushdesk-N.png   the app icon at each size desktops ask for
    resources/icons/pushdesk-paused-N.png
                                     the tray icon while sending is paused: grey,
                                     with an amber pause badge
    resources/icons/pushdesk.ico     Windows: the executable's icon, 16 to 256 px
    resources/icons/pushdesk.icns    macOS: the app bundle's icon, 32 to 1024 px

The bell is described once, in a 100 x 100 unit box, and both the raster
(QPainter) and the SVG output are produced from that single description.
Every size is drawn at that size, not scaled from a larger one; Pillow only
packs the drawings into the .ico and .icns containers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
)

ROOT = Path(__file__).resolve().parent.parent
WEB_ICONS = ROOT / "web" / "icons"
RESOURCE_ICONS = ROOT / "resources" / "icons"

BLUE = "#1e5aa8"
WHITE = "#ffffff"
GREY = "#6b7480"
AMBER = "#e8a317"

# The sizes window managers, docks and trays ask for; pushdesk.resources
# expects exactly these.
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# What Windows asks an .ico for: the shell's small and large icons, the
# taskbar, Explorer's views up to "extra large".
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# What Pillow's ICNS writer stores (ic07 to ic14: 16 pt to 512 pt, at 1x and
# 2x). FIXME:icons Pillow writes no 16 px entry (icp4), so a 16 pt icon on a
# non-Retina screen is the 32 px drawing scaled down by macOS.
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)

# Corner radius of the rounded square, as a fraction of the icon size.
CORNER = 0.225

# --- Bell geometry (100 x 100 unit box) -----------------------------------
# Outline of the bell body: dome, flared sides and a rim with rounded ends.
BELL_BODY = [
    ("M", (20.0, 70.0)),
    ("C", (26.0, 64.0), (28.0, 58.0), (28.0, 46.0)),
    ("C", (28.0, 32.0), (37.5, 23.0), (50.0, 23.0)),
    ("C", (62.5, 23.0), (72.0, 32.0), (72.0, 46.0)),
    ("C", (72.0, 58.0), (74.0, 64.0), (80.0, 70.0)),
    ("Q", (84.5, 73.0), (80.0, 76.0)),
    ("L", (20.0, 76.0)),
    ("Q", (15.5, 73.0), (20.0, 70.0)),
    ("Z",),
]
# Circles: (centre x, centre y, radius).
BELL_KNOB = (50.0, 18.5, 5.5)
BELL_CLAPPER = (50.0, 84.0, 6.5)
# Visual centre of the artwork inside its box (used to centre it on the icon).
BELL_CENTRE = (50.0, 51.0)


def bell_path() -> QPainterPath:
    path = QPainterPath()
    for command, *points in BELL_BODY:
        pts = [QPointF(x, y) for x, y in points]
        if command == "M":
            path.moveTo(pts[0])
        elif command == "L":
            path.lineTo(pts[0])
        elif command == "C":
            path.cubicTo(pts[0], pts[1], pts[2])
        elif command == "Q":
            path.quadTo(pts[0], pts[1])
        elif command == "Z":
            path.closeSubpath()
    for cx, cy, r in (BELL_KNOB, BELL_CLAPPER):
        path.addEllipse(QPointF(cx, cy), r, r)
    path.setFillRule(Qt.FillRule.WindingFill)
    return path


def svg_bell_d() -> str:
    parts = []
    for command, *points in BELL_BODY:
        coords = " ".join(f"{x:g} {y:g}" for x, y in points)
        parts.append(f"{command} {coords}".strip())
    return " ".join(parts)


# --- Rendering ----------------------------------------------------------------


def draw_bell(painter: QPainter, size: int, bell_fraction: float, colour: str) -> None:
    """Draw the bell centred on a square canvas, its box spanning bell_fraction."""
    scale = size * bell_fraction / 100.0
    painter.save()
    painter.translate(size / 2.0, size / 2.0)
    painter.scale(scale, scale)
    painter.translate(-BELL_CENTRE[0], -BELL_CENTRE[1])
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(colour)))
    painter.drawPath(bell_path())
    painter.restore()


def draw_pause_badge(painter: QPainter, size: int) -> None:
    """An amber disc with two white bars in the lower right corner."""
    centre = QPointF(size * 0.71, size * 0.71)
    radius = size * 0.26
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(WHITE)))
    painter.drawEllipse(centre, radius, radius)
    painter.setBrush(QBrush(QColor(AMBER)))
    painter.drawEllipse(centre, radius * 0.84, radius * 0.84)
    painter.setBrush(QBrush(QColor(WHITE)))
    bar_width, bar_height = radius * 0.28, radius * 0.9
    for offset in (-0.26, 0.26):
        painter.drawRect(
            QRectF(
                centre.x() + offset * radius - bar_width / 2,
                centre.y() - bar_height / 2,
                bar_width,
                bar_height,
            )
        )
    painter.restore()


def render(size: int, kind: str) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)

    if kind == "any":
        painter.setBrush(QBrush(QColor(BLUE)))
        radius = size * CORNER
        painter.drawRoundedRect(QRectF(0, 0, size, size), radius, radius)
        draw_bell(painter, size, 0.70, WHITE)
    elif kind == "paused":
        painter.setBrush(QBrush(QColor(GREY)))
        radius = size * CORNER
        painter.drawRoundedRect(QRectF(0, 0, size, size), radius, radius)
        draw_bell(painter, size, 0.70, WHITE)
        draw_pause_badge(painter, size)
    elif kind == "maskable":
        # Full bleed: the platform applies its own mask (circle, squircle, ...).
        # The bell stays well inside the central safe-zone circle (radius 40 %).
        painter.fillRect(QRectF(0, 0, size, size), QColor(BLUE))
        draw_bell(painter, size, 0.64, WHITE)
    elif kind == "badge":
        draw_bell(painter, size, 1.06, WHITE)
    else:
        raise ValueError(kind)

    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def write_svg(path: Path, size: int = 256) -> None:
    radius = size * CORNER
    scale = size * 0.70 / 100.0
    offset_x = size / 2.0 - BELL_CENTRE[0] * scale
    offset_y = size / 2.0 - BELL_CENTRE[1] * scale
    kx, ky, kr = BELL_KNOB
    cx, cy, cr = BELL_CLAPPER
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" \
width="{size}" height="{size}" viewBox="0 0 {size} {size}">
  <title>pushdesk</title>
  <rect width="{size}" height="{size}" rx="{radius:g}" ry="{radius:g}" fill="{BLUE}"/>
  <g fill="{WHITE}" transform="translate({offset_x:g} {offset_y:g}) scale({scale:g})">
    <path d="{svg_bell_d()}"/>
    <circle cx="{kx:g}" cy="{ky:g}" r="{kr:g}"/>
    <circle cx="{cx:g}" cy="{cy:g}" r="{cr:g}"/>
  </g>
</svg>
"""
    path.write_text(svg, encoding="utf-8")


def to_pillow(image: QImage) -> Image.Image:
    """The same pixels as a Pillow RGBA image (straight, not premultiplied, alpha)."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    size = (rgba.width(), rgba.height())
    data = bytes(rgba.constBits())
    return Image.frombuffer("RGBA", size, data, "raw", "RGBA", rgba.bytesPerLine(), 1)


def save_ico(path: Path) -> None:
    # Pillow takes the frame of each size from append_images when one of that
    # size is given, so each frame is our drawing at that size.
    frames = [to_pillow(render(size, "any")) for size in ICO_SIZES]
    largest = frames[-1]
    largest.save(
        path,
        format="ICO",
        sizes=[(size, size) for size in ICO_SIZES],
        append_images=frames[:-1],
    )
    print(f"wrote {path.relative_to(ROOT)}")


def save_icns(path: Path) -> None:
    frames = [to_pillow(render(size, "any")) for size in ICNS_SIZES]
    largest = frames[-1]
    largest.save(path, format="ICNS", append_images=frames[:-1])
    print(f"wrote {path.relative_to(ROOT)}")


def save(image: QImage, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841

    save(render(192, "any"), WEB_ICONS / "icon-192.png")
    save(render(512, "any"), WEB_ICONS / "icon-512.png")
    save(render(512, "maskable"), WEB_ICONS / "icon-512-maskable.png")
    save(render(72, "badge"), WEB_ICONS / "badge-72.png")
    save(render(256, "any"), RESOURCE_ICONS / "pushdesk.png")
    for size in APP_ICON_SIZES:
        save(render(size, "any"), RESOURCE_ICONS / f"pushdesk-{size}.png")
        save(render(size, "paused"), RESOURCE_ICONS / f"pushdesk-paused-{size}.png")

    svg_path = RESOURCE_ICONS / "pushdesk.svg"
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    write_svg(svg_path)
    print(f"wrote {svg_path.relative_to(ROOT)}")

    save_ico(RESOURCE_ICONS / "pushdesk.ico")
    save_icns(RESOURCE_ICONS / "pushdesk.icns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
