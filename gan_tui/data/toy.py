"""The 2D mixtures of the mode-collapse literature.

Settings as in Unrolled GAN (Metz et al. 2017) and VEEGAN (Srivastava et al.
2017), also used by PacGAN (Lin et al. 2018):
- ring8: 8 Gaussians with means on a circle of radius 2, std 0.02;
- grid25: 25 Gaussians with means on the grid {-4, -2, 0, 2, 4}^2, std 0.05.
"""

import math

from gan_tui.data.base import ToyMixture

RING8_RADIUS = 2.0
RING8_STD = 0.02
GRID25_SPACING = 2.0
GRID25_STD = 0.05


def ring8(settings, device, **_):
    centres = [(RING8_RADIUS * math.cos(2 * math.pi * i / 8), RING8_RADIUS * math.sin(2 * math.pi * i / 8))
               for i in range(8)]
    return ToyMixture("ring8", centres, RING8_STD, device)


def grid25(settings, device, **_):
    ticks = [GRID25_SPACING * (i - 2) for i in range(5)]
    return ToyMixture("grid25", [(x, y) for x in ticks for y in ticks], GRID25_STD, device)
