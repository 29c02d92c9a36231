"""2D toys as a picture: D's decision surface shaded behind real and generated points.

Colours follow GAN Lab: green where D says "real", purple where it says
"fake"; real points bright green, generated points bright purple/pink.
The picture is square in pixels (half-block cells hold two square-ish pixels).
"""

import numpy as np
from PIL import Image

SURFACE_FAKE = np.array([52, 26, 72], np.float32)  # D(x) = 0
SURFACE_REAL = np.array([22, 72, 40], np.float32)  # D(x) = 1
REAL_POINT = (110, 230, 120)
FAKE_POINT = (240, 120, 255)
ASCII_SURFACE = " .:"  # low to high D, kept faint so the points stand out
SURFACE_LEVELS = 12  # shades of the surface: fewer distinct colours, longer runs, fewer bytes to the terminal


def _surface(surface: np.ndarray | None, width: int, height: int) -> np.ndarray:
    """D's surface resized to (height, width) in [0, 1]; mid grey-ish when there is none."""
    if surface is None:
        return np.full((height, width), 0.5, np.float32)
    image = Image.fromarray(np.clip(surface, 0, 1).astype(np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32)


def _pixels(points: np.ndarray | None, extent: float, width: int, height: int):
    if points is None or len(points) == 0 or extent <= 0:
        return np.zeros(0, int), np.zeros(0, int)
    xy = np.asarray(points, np.float64)
    px = np.floor((xy[:, 0] + extent) / (2 * extent) * width).astype(int)
    py = np.floor((extent - xy[:, 1]) / (2 * extent) * height).astype(int)
    keep = (px >= 0) & (px < width) & (py >= 0) & (py < height)
    return px[keep], py[keep]


def scatter_rgb(points, real, surface, extent: float, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8: surface shading, generated points, then the real ones on top.

    Real points go last: they are few and tight (the modes), and must stay visible
    when a cloud of generated points covers them."""
    d = np.round(_surface(surface, width, height)[..., None] * (SURFACE_LEVELS - 1)) / (SURFACE_LEVELS - 1)
    rgb = (SURFACE_FAKE * (1 - d) + SURFACE_REAL * d).astype(np.uint8)
    for batch, colour in ((points, FAKE_POINT), (real, REAL_POINT)):
        px, py = _pixels(batch, extent, width, height)
        rgb[py, px] = colour
    return rgb


def scatter_ascii(points, real, surface, extent: float, cols: int, rows: int) -> list[str]:
    """One character per cell: faint surface ramp, "o" real, "x" generated, "#" both."""
    d = _surface(surface, cols, rows)
    index = np.clip((d * len(ASCII_SURFACE)).astype(int), 0, len(ASCII_SURFACE) - 1)
    grid = np.array(list(ASCII_SURFACE))[index]
    has_real = np.zeros((rows, cols), bool)
    has_fake = np.zeros((rows, cols), bool)
    px, py = _pixels(real, extent, cols, rows)
    has_real[py, px] = True
    px, py = _pixels(points, extent, cols, rows)
    has_fake[py, px] = True
    grid[has_real] = "o"
    grid[has_fake] = "x"
    grid[has_real & has_fake] = "#"
    return ["".join(row) for row in grid]
