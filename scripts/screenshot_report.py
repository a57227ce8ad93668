"""Take a full-page screenshot of the HTML report with headless Chromium.

Used to look at the report as a reader's browser draws it, and to refresh the picture
in the README (``docs/img/report.png``)::

    make demo                                   # writes out/demo/report.html
    python scripts/screenshot_report.py         # full page -> out/demo/report-full.png,
                                                # top of it, scaled -> docs/img/report.png

Needs Chromium (Debian: ``apt-get install chromium``) and Pillow (installed with
matplotlib). Chromium draws the page at ``--width`` pixels in a window ``--height``
pixels tall; the blank space below the page's end is cropped. Chinese text needs a
Chinese font on the machine that takes the screenshot (Debian: ``fonts-noto-cjk``)
or the Chinese font subset the report embeds (when ``cvttf-notosanscjk-regular`` was
installed where it was written); with neither, the browser draws boxes for Chinese
characters, in the charts as in the tables, while Latin text and digits stay readable.
``--no-system-cjk`` shows the page as a computer without any Chinese font sees it:
Chromium runs with a fontconfig configuration that knows only the DejaVu fonts
(``/usr/share/fonts/truetype/dejavu``), so every Chinese character it draws comes from
the embedded font.

Options: ``--report``, ``--full`` (the full-page PNG), ``--out`` (the README picture),
``--width``, ``--height`` (window height; the page is cut there if longer),
``--keep`` (pixels from the top kept in the README picture), ``--scale`` (its
width in pixels) and ``--no-system-cjk``, e.g.::

    python scripts/screenshot_report.py --no-system-cjk \
        --full out/demo/report-full-no-cjk.png --out out/demo/report-no-cjk.png
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str:
    """Path of an installed Chromium (or Chrome); exits with a hint when there is none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no Chromium found: install it (Debian: apt-get install chromium) and retry.")


DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
"""The only font folder Chromium sees with ``--no-system-cjk`` (Debian's fonts-dejavu-core)."""


def fonts_conf(folder: Path, font_dir: str = DEJAVU_DIR) -> Path:
    """Write a fontconfig configuration that knows only ``font_dir``; returns its path."""
    if not Path(font_dir).is_dir():
        sys.exit(f"no font folder {font_dir!r}: install fonts-dejavu-core (Debian) and retry.")
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{font_dir}</dir>\n  <cachedir>{folder / 'cache'}</cachedir>\n"
        # the generic families as a machine's default configuration maps them
        "  <alias><family>sans-serif</family><prefer><family>DejaVu Sans</family></prefer>"
        "</alias>\n"
        "  <alias><family>serif</family><prefer><family>DejaVu Serif</family></prefer>"
        "</alias>\n"
        "  <alias><family>monospace</family><prefer><family>DejaVu Sans Mono</family>"
        "</prefer></alias>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def screenshot(
    report: Path, png: Path, width: int, height: int, no_system_cjk: bool = False
) -> None:
    """Draw ``report`` in headless Chromium and save a ``width`` x ``height`` PNG.

    With ``no_system_cjk``, Chromium sees only the DejaVu fonts (no Chinese font).
    """
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        env = dict(os.environ)
        if no_system_cjk:
            env["FONTCONFIG_FILE"] = str(fonts_conf(Path(profile)))
        cmd = [
            find_browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={Path(profile) / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            report.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180, env=env)
    if not png.is_file():
        sys.exit(f"Chromium wrote no screenshot to {str(png)!r}.")


def crop_blank_bottom(png: Path, margin: int = 24) -> tuple[int, int]:
    """Cut the white space below the page's last drawn row; returns the new size."""
    from PIL import Image, ImageChops

    with Image.open(png) as im:
        rgb = im.convert("RGB")
    bg = Image.new("RGB", rgb.size, (255, 255, 255))
    box = ImageChops.difference(rgb, bg).getbbox()
    if box is not None:
        rgb = rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + margin)))
    rgb.save(png, optimize=True)
    return rgb.size


def readme_picture(full: Path, out: Path, keep: int, scale: int) -> int:
    """The top ``keep`` pixels of ``full``, ``scale`` pixels wide, 256 colours; bytes written."""
    from PIL import Image

    with Image.open(full) as im:
        top = im.convert("RGB").crop((0, 0, im.width, min(im.height, keep)))
    if top.width > scale:
        top = top.resize((scale, round(top.height * scale / top.width)), Image.LANCZOS)
    out.parent.mkdir(parents=True, exist_ok=True)
    top.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out.stat().st_size


def main(argv=None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path, default=Path("out/demo/report.html"))
    ap.add_argument("--full", type=Path, default=Path("out/demo/report-full.png"))
    ap.add_argument("--out", type=Path, default=Path("docs/img/report.png"))
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=16000)
    ap.add_argument("--keep", type=int, default=2600)
    ap.add_argument("--scale", type=int, default=960)
    ap.add_argument(
        "--no-system-cjk",
        action="store_true",
        help="let Chromium see only the DejaVu fonts, as on a computer without Chinese fonts",
    )
    args = ap.parse_args(argv)
    if not args.report.is_file():
        sys.exit(f"no report at {str(args.report)!r}: run `make demo` first or pass --report.")
    screenshot(args.report, args.full, args.width, args.height, args.no_system_cjk)
    w, h = crop_blank_bottom(args.full)
    print(f"full page: {args.full} ({w} x {h} px)")
    if h >= args.height - 30:
        print(f"the page may be longer than the window: pass --height larger than {args.height}")
    size = readme_picture(args.full, args.out, args.keep, args.scale)
    print(f"README picture: {args.out} ({size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
