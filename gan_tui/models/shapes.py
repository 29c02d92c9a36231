"""Image sizes the convolutional networks accept, and how they get there."""

import math

from gan_tui.errors import BadInput

IMAGE_SIZES = (28, 32, 64)


def seed_and_stages(size: int) -> tuple[int, int]:
    """(seed side, number of 2x stages): 28 = 7 * 2^2, 32 = 4 * 2^3, 64 = 4 * 2^4."""
    seed = 7 if size % 7 == 0 else 4
    return seed, int(math.log2(size // seed))


def resolutions(size: int) -> list[int]:
    """Every side a growing network passes through, seed first: 32 -> [4, 8, 16, 32]."""
    seed, stages = seed_and_stages(size)
    return [seed * 2 ** i for i in range(stages + 1)]


def check_image_shape(data_shape, architecture: str, source: str, sizes=IMAGE_SIZES) -> tuple[int, int]:
    """(channels, side) of square images of an accepted size, else BadInput."""
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] not in sizes:
        raise BadInput(f'{source}: key "model.architecture" is "{architecture}", which needs square images of '
                       f"{', '.join(map(str, sizes))} px, but the data is {'x'.join(map(str, data_shape))}; "
                       f'set "data.image_size" to one of those.')
    return data_shape[0], data_shape[1]
