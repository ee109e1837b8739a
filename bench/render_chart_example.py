"""Render example WHO growth charts to bench/out/ (SVG, and PNG when a converter is at hand) to look at.

Writes chart.svg (weight-for-age of a girl from birth to 2.5 years, falling below -2 SD in the second year),
chart-wfl.svg (weight-for-length), chart-lhfa.svg (length/height-for-age, 0-7 years) and
chart-empty.svg (the reference alone), plus chart.html showing them at phone width. PNGs are made
with ``rsvg-convert``, else ``cairosvg``, else librsvg and cairo through ctypes when the shared
libraries are installed; without any of them the PNG step is skipped.

    .venv/bin/python bench/render_chart_example.py
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

from crecer.lib.growth import DAYS_PER_MONTH, zscore_lhfa, zscore_wfa, zscore_wflh
from crecer.lib.growth.chart import ChartLabels, ChartPoint, render_chart

OUT = Path(__file__).resolve().parent / "out"


def _es(v: float, decimals: int = 1) -> str:
    return f"{v:.{decimals}f}".replace(".", ",").replace("-", "−")


def examples() -> dict[str, str]:
    girl = [(0, 3.1), (45, 4.4), (92, 5.6), (183, 6.9), (274, 7.6), (365, 8.1), (548, 8.0), (730, 8.6), (913, 9.9)]
    z = zscore_wfa(2, [d for d, _ in girl], [w for _, w in girl])
    wfa = [
        ChartPoint(d, w, f"{round(d / DAYS_PER_MONTH)} meses · {_es(w)} kg · z {_es(float(zz))}")
        for (d, w), zz in zip(girl, z, strict=True)
    ]
    by_length = [(67.0, 7.1, 300), (71.5, 7.6, 400), (74.0, 8.1, 500), (77.0, 8.4, 600)]
    zl = zscore_wflh(1, [a for *_, a in by_length], [w for _, w, _ in by_length], [c for c, *_ in by_length], "l")
    wfl = [
        ChartPoint(c, w, f"{_es(c)} cm · {_es(w)} kg · z {_es(float(zz))}")
        for (c, w, _), zz in zip(by_length, zl, strict=True)
    ]
    heights = [(30, 54.0), (400, 74.0), (800, 84.5), (1300, 96.0), (1900, 107.5), (2500, 117.0)]
    zh = zscore_lhfa(1, [d for d, _ in heights], [h for _, h in heights])
    lhfa = [
        ChartPoint(d, h, f"{round(d / DAYS_PER_MONTH)} meses · {_es(h)} cm · z {_es(float(zz))}")
        for (d, h), zz in zip(heights, zh, strict=True)
    ]
    return {
        "chart": render_chart("wfa", 2, wfa, labels=ChartLabels("Peso para la edad — niña <Ana & Co>", "Edad", "Peso")),
        "chart-wfl": render_chart(
            "wflh", 1, wfl, measure="l", labels=ChartLabels("Peso para la longitud — niño", "Longitud", "Peso")
        ),
        "chart-lhfa": render_chart(
            "lhfa", 1, lhfa, labels=ChartLabels("Longitud/talla para la edad — niño", "Edad", "Talla")
        ),
        "chart-empty": render_chart("wfa", 1, [], labels=ChartLabels("Peso para la edad — niño", "Edad", "Peso")),
    }


def _png_with_ctypes(svg: Path, png: Path, width: int) -> bool:
    """librsvg + cairo shared libraries (no Python package, no command-line tool needed)."""
    names = [ctypes.util.find_library(n) for n in ("rsvg-2", "cairo", "gobject-2.0")]
    if not all(names):
        return False
    rsvg, cairo, gobject = (ctypes.CDLL(n) for n in names if n)
    rsvg.rsvg_handle_new_from_data.restype = ctypes.c_void_p
    rsvg.rsvg_handle_new_from_data.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
    rsvg.rsvg_handle_render_document.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    cairo.cairo_image_surface_create.restype = ctypes.c_void_p
    cairo.cairo_create.restype = ctypes.c_void_p
    cairo.cairo_create.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_write_to_png.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    cairo.cairo_destroy.argtypes = [ctypes.c_void_p]
    cairo.cairo_surface_destroy.argtypes = [ctypes.c_void_p]
    gobject.g_object_unref.argtypes = [ctypes.c_void_p]

    data = svg.read_bytes()
    # viewBox="0 0 W H": keep the aspect ratio at the requested pixel width.
    vb = data.split(b'viewBox="', 1)[1].split(b'"', 1)[0].split()
    height = round(width * float(vb[3]) / float(vb[2]))
    handle = rsvg.rsvg_handle_new_from_data(data, len(data), None)
    if not handle:
        return False
    surface = cairo.cairo_image_surface_create(0, width, height)  # CAIRO_FORMAT_ARGB32
    cr = cairo.cairo_create(surface)
    viewport = (ctypes.c_double * 4)(0, 0, width, height)
    ok = rsvg.rsvg_handle_render_document(handle, cr, viewport, None)
    cairo.cairo_surface_write_to_png(surface, str(png).encode())
    cairo.cairo_destroy(cr)
    cairo.cairo_surface_destroy(surface)
    gobject.g_object_unref(handle)
    return bool(ok)


def to_png(svg: Path, png: Path, width: int) -> str | None:
    """Convert with the first converter available; the converter's name, or None."""
    if shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", "-w", str(width), "-o", str(png), str(svg)], check=True)
        return "rsvg-convert"
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=width)
        return "cairosvg"
    try:
        if _png_with_ctypes(svg, png, width):
            return "librsvg (ctypes)"
    except (OSError, AttributeError):
        pass
    return None


def main() -> int:
    OUT.mkdir(exist_ok=True)
    started = time.perf_counter()
    charts = examples()
    elapsed = (time.perf_counter() - started) / len(charts)
    page = ['<!doctype html><meta charset="utf-8"><title>Curvas</title><body>']
    for name, svg in charts.items():
        path = OUT / f"{name}.svg"
        path.write_text(svg + "\n", encoding="utf-8")
        page.append(f'<div><p>{name}</p><div><img src="{name}.svg" width="360" alt=""></div></div>')
        print(f"{path}: {len(svg.encode()):,} bytes")
        for suffix, width in (("", 1280), ("-phone", 360)):
            png = OUT / f"{name}{suffix}.png"
            used = to_png(path, png, width)
            print(f"  {png.name}: {used}" if used else "  no SVG to PNG converter found; PNG skipped")
    (OUT / "chart.html").write_text("\n".join(page) + "\n", encoding="utf-8")
    print(f"{elapsed * 1000:.1f} ms per chart")
    return 0


if __name__ == "__main__":
    sys.exit(main())
