"""Pictures of samples as PIL images: image grids and 2D scatters."""

import math

import numpy as np
from PIL import Image, ImageDraw


def grid_array(images: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile uint8 (N, C, H, W) images into one (H', W', C) array with `pad` black pixels between."""
    n, c, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    out = np.zeros((rows * (h + pad) + pad, columns * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        out[y:y + h, x:x + w] = images[i].transpose(1, 2, 0)
    return out


def sample_columns(samples) -> int | None:
    """Images per row for a Samples event: its own `columns`, else one column per class for
    conditional samples (they cycle through the classes), else None (a square grid)."""
    if getattr(samples, "columns", 0):
        return int(samples.columns)
    if samples.labels is not None and len(samples.labels):
        return int(samples.labels.max()) + 1
    return None


def _caption_lines(caption: str, width_px: int, char_px: int = 6) -> list[str]:
    """The caption in ASCII (PIL's built-in font has no arrows), wrapped to the grid's width."""
    text = caption.replace("→", "->").encode("ascii", "replace").decode()
    per_line = max(width_px // char_px, 8)
    lines: list[str] = []
    for part in text.split("  "):
        words, line = part.split(), ""
        for word in words:
            if line and len(line) + 1 + len(word) > per_line:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            lines.append(line)
    return lines


def grid_image(images: np.ndarray, columns: int | None = None, caption: str = "") -> Image.Image:
    """The grid as a PIL image; a caption goes above it, in lines of small white text."""
    array = grid_array(images, columns)
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    if not caption:
        return image
    lines = _caption_lines(caption, image.width)
    line_px = 12
    out = Image.new(image.mode, (image.width, image.height + line_px * len(lines) + 2))
    draw = ImageDraw.Draw(out)
    white = 255 if image.mode == "L" else (255,) * len(image.getbands())
    for i, line in enumerate(lines):
        draw.text((2, 1 + i * line_px), line, fill=white)
    out.paste(image, (0, out.height - image.height))
    return out


def scatter_image(points: np.ndarray, real: np.ndarray | None, surface: np.ndarray | None,
                  extent: float, size: int = 512) -> Image.Image:
    """Generated points (orange) over real points (blue) over D's surface (grey: dark = fake)."""
    if surface is not None:
        shade = (np.clip(surface, 0, 1) * 160 + 40).astype(np.uint8)
        image = Image.fromarray(shade).resize((size, size), Image.Resampling.BILINEAR).convert("RGB")
    else:
        image = Image.new("RGB", (size, size), (24, 24, 24))
    draw = ImageDraw.Draw(image)

    def to_pixels(xy):
        px = (xy[:, 0] + extent) / (2 * extent) * (size - 1)
        py = (extent - xy[:, 1]) / (2 * extent) * (size - 1)
        return np.stack([px, py], 1)

    for batch, colour in ((real, (80, 150, 255)), (points, (255, 150, 40))):
        if batch is None:
            continue
        for x, y in to_pixels(np.asarray(batch, dtype=np.float64)):
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colour)
    return image
