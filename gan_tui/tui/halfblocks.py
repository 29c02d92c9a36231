"""Pictures as terminal text.

True colour and 256 colours: the upper half block "▀" with the top pixel as
foreground and the bottom pixel as background, so each cell shows two square-ish
pixels. 16 colours or none: an ASCII brightness ramp, one cell per 1x2 pixels.
Rows come back as lists of rich Segments (runs of equal colour merged), which a
Line-API widget turns into Strips without any markup parsing.
"""

import math

import numpy as np
from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

UPPER_HALF = "▀"
ASCII_RAMP = " .:-=+*#%@"

# The xterm 256-colour palette without the 16 theme-dependent colours.
_CUBE_LEVELS = np.array([0, 95, 135, 175, 215, 255])
_CUBE_MIDS = (_CUBE_LEVELS[1:] + _CUBE_LEVELS[:-1]) / 2


def uses_blocks(depth: str) -> bool:
    return depth in ("truecolor", "256")


def fit_scale(height: int, width: int, box_cols: int, box_rows: int) -> float:
    """Scale that fits an image of square pixels into a box of cells two pixels tall.

    Upscaling is kept to whole factors so small images stay crisp."""
    if height <= 0 or width <= 0 or box_cols <= 0 or box_rows <= 0:
        return 0.0
    scale = min(box_cols / width, 2 * box_rows / height)
    return float(math.floor(scale)) if scale >= 1 else scale


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (height, width, 3): area average down, nearest up."""
    if rgb.shape[0] == height and rgb.shape[1] == width:
        return rgb
    down = width < rgb.shape[1] or height < rgb.shape[0]
    method = Image.Resampling.BOX if down else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(rgb).resize((max(width, 1), max(height, 1)), method))


def to_rgb(array: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1) or (H, W, 3+) uint8 -> (H, W, 3)."""
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3])


def quantize_256(rgb: np.ndarray) -> np.ndarray:
    """Nearest xterm colour (16..255) for each pixel: the 6x6x6 cube or the grey ramp."""
    px = rgb.astype(np.int32)
    steps = np.searchsorted(_CUBE_MIDS, px)  # 0..5 per channel
    cube = _CUBE_LEVELS[steps]
    cube_err = ((cube - px) ** 2).sum(-1)
    grey_step = np.clip(np.rint((px.mean(-1) - 8) / 10), 0, 23).astype(np.int32)
    grey = 8 + 10 * grey_step
    grey_err = ((px - grey[..., None]) ** 2).sum(-1)
    cube_index = 16 + 36 * steps[..., 0] + 6 * steps[..., 1] + steps[..., 2]
    return np.where(grey_err < cube_err, 232 + grey_step, cube_index)


class BlockPainter:
    """Turns RGB pixel arrays into half-block rows, caching one Style per colour pair."""

    def __init__(self, depth: str = "truecolor"):
        self.depth = depth
        self._styles: dict[tuple[int, int], Style] = {}
        self._colors: dict[int, Color] = {}

    def _color(self, key: int) -> Color:
        color = self._colors.get(key)
        if color is None:
            if self.depth == "256":
                color = Color.from_ansi(key)
            else:
                color = Color.from_rgb((key >> 16) & 255, (key >> 8) & 255, key & 255)
            self._colors[key] = color
        return color

    def _style(self, top: int, bottom: int) -> Style:
        style = self._styles.get((top, bottom))
        if style is None:
            if bottom < 0:
                style = Style(color=self._color(top))
            elif top == bottom:
                style = Style(bgcolor=self._color(top))
            else:
                style = Style(color=self._color(top), bgcolor=self._color(bottom))
            self._styles[(top, bottom)] = style
        return style

    def _keys(self, rgb: np.ndarray) -> np.ndarray:
        if self.depth == "256":
            return quantize_256(rgb)
        px = rgb.astype(np.int64)
        return (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]

    def rows(self, rgb: np.ndarray) -> list[list[Segment]]:
        """(H, W, 3) uint8 -> ceil(H/2) rows of W cells."""
        keys = self._keys(rgb)
        if keys.shape[0] % 2:  # odd height: the last bottom half is the terminal's background
            keys = np.vstack([keys, np.full((1, keys.shape[1]), -1, keys.dtype)])
        out = []
        for top, bottom in zip(keys[0::2], keys[1::2]):
            change = np.flatnonzero((top[1:] != top[:-1]) | (bottom[1:] != bottom[:-1])) + 1
            starts = [0, *change.tolist()]
            ends = [*change.tolist(), len(top)]
            row = []
            for a, b in zip(starts, ends):
                t, bt = int(top[a]), int(bottom[a])
                text = " " * (b - a) if t == bt else UPPER_HALF * (b - a)
                row.append(Segment(text, self._style(t, bt)))
            out.append(row)
        return out


def ascii_rows(gray: np.ndarray) -> list[str]:
    """(rows, cols) brightness in [0, 1] -> one ramp character per cell."""
    index = np.clip((gray * (len(ASCII_RAMP) - 1)).round().astype(int), 0, len(ASCII_RAMP) - 1)
    ramp = np.array(list(ASCII_RAMP))
    return ["".join(row) for row in ramp[index]]


def image_rows(rgb: np.ndarray, box_cols: int, box_rows: int, depth: str,
               painter: BlockPainter | None = None) -> list[list[Segment]]:
    """Fit an (H, W, 3) uint8 picture into a box of cells and draw it for `depth`."""
    h, w = rgb.shape[:2]
    scale = fit_scale(h, w, box_cols, box_rows)
    if scale <= 0:
        return []
    width = max(1, min(box_cols, round(w * scale)))
    if uses_blocks(depth):
        height = max(1, min(2 * box_rows, round(h * scale)))
        return (painter or BlockPainter(depth)).rows(resize(rgb, width, height))
    height = max(1, min(box_rows, round(h * scale / 2)))
    small = resize(rgb, width, height).astype(np.float32)
    gray = (0.299 * small[..., 0] + 0.587 * small[..., 1] + 0.114 * small[..., 2]) / 255.0
    return [[Segment(line)] for line in ascii_rows(gray)]
