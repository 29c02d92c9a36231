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


def grid_image(images: np.ndarray, columns: int | None = None) -> Image.Image:
    array = grid_array(images, columns)
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


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
