"""PNG sample grids (images) and scatter plots (2-D mixtures), written atomically."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from tf_amgan.io_utils import atomic_write_bytes


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8 [0, 255]."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, ncols: int, pad: int = 1, fill: int = 64) -> np.ndarray:
    """Tiles [N, H, W, C] images (in [-1, 1]; NaN rows = empty cells) into one uint8 [H', W', C] grid."""
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    nrows = max(1, -(-n // ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), fill, np.uint8)
    for i in range(n):
        if np.isnan(images[i]).any():
            continue
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = to_uint8(images[i])
    return grid


def png_bytes(array: np.ndarray) -> bytes:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def save_grid(path: str, images: np.ndarray, ncols: int, scale: int = 2) -> np.ndarray:
    grid = make_grid(images, ncols)
    if scale > 1:
        grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    atomic_write_bytes(path, png_bytes(grid))
    return grid


def class_rows(images: np.ndarray, classes: np.ndarray, num_rows: int, ncols: int) -> np.ndarray:
    """Arranges samples into one row per class (first `ncols` of each); missing cells are NaN."""
    h = images.shape[1:]
    out = np.full((num_rows, ncols, *h), np.nan, np.float32)
    for k in range(num_rows):
        idx = np.flatnonzero(classes == k)[:ncols]
        out[k, : len(idx)] = images[idx]
    return out.reshape(num_rows * ncols, *h)


def scatter_png(
    path: str,
    fake: np.ndarray,
    real: np.ndarray | None = None,
    means: np.ndarray | None = None,
    size: int = 512,
    bounds: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """Scatter plot of 2-D samples: real in grey, generated in red, mode centres as blue crosses."""
    pts = [np.asarray(fake, np.float64)]
    if real is not None:
        pts.append(np.asarray(real, np.float64))
    if bounds is None:
        allp = np.concatenate(pts)
        lo, hi = np.percentile(allp, 0.5, axis=0), np.percentile(allp, 99.5, axis=0)
        span = float(max(hi - lo)) * 1.2 + 1e-6
        centre = (lo + hi) / 2
        bounds = (
            centre[0] - span / 2,
            centre[0] + span / 2,
            centre[1] - span / 2,
            centre[1] + span / 2,
        )
    x0, x1, y0, y1 = bounds
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)

    def px(p):
        return (
            (p[:, 0] - x0) / (x1 - x0) * (size - 1),
            (1 - (p[:, 1] - y0) / (y1 - y0)) * (size - 1),
        )

    if real is not None:
        for u, v in zip(*px(pts[1]), strict=True):
            draw.point((u, v), fill=(170, 170, 170))
    for u, v in zip(*px(pts[0]), strict=True):
        draw.rectangle((u - 1, v - 1, u + 1, v + 1), fill=(220, 30, 30))
    if means is not None:
        for u, v in zip(*px(np.asarray(means, np.float64)), strict=True):
            draw.line((u - 5, v, u + 5, v), fill=(30, 30, 220), width=2)
            draw.line((u, v - 5, u, v + 5), fill=(30, 30, 220), width=2)
    array = np.asarray(img)
    atomic_write_bytes(path, png_bytes(array))
    return array
