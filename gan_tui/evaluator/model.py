"""The domain evaluator: a small CNN classifier for 28x28 grey images.

Its penultimate layer (128 numbers after a ReLU) gives the features for
"FID (domain)", KID, precision/recall and diversity; its softmax gives the
class histogram of generated samples and the "IS (domain)".

Inputs are uint8 images (N, 1, 28, 28) or floats in [-1, 1]; anything else is
brought there by `to_evaluator_input` (grey, 28 px, [-1, 1]).
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 28
FEATURE_DIM = 128


WIDTHS = (16, 32, 64, 64)


def _block(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class DomainCNN(nn.Module):
    """Strided convolutions only (a 2-core CPU runs it at thousands of images a second):

    5x5/2 conv 16 (14 px) -> 3x3 conv 32 -> 3x3/2 conv 64 (7 px) -> 3x3/2 conv 64 (4 px)
    -> fc 128 + ReLU (the features) -> dropout -> fc num_classes.  About 193k parameters.
    """

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        self.num_classes = num_classes
        w1, w2, w3, w4 = widths
        self.body = nn.Sequential(
            *_block(1, w1, 5, 2),  # 14 px
            *_block(w1, w2),
            *_block(w2, w3, 3, 2),  # 7 px
            *_block(w3, w4, 3, 2),  # 4 px
            nn.Flatten(),
            nn.Linear(w4 * 4 * 4, FEATURE_DIM), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer: (N, 128), non-negative."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.features(x)
        return feats, self.head(feats)


def to_evaluator_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) in [0, 255], or floats in [-1, 1] -> float (N, 1, 28, 28) in [-1, 1].

    Colour becomes grey (ITU-R 601 weights), other sizes are resized with the
    same antialiased bilinear filter the datasets use; values are quantised to
    8 bits first, so generated and real images pass through the same steps.
    """
    if images.dtype != torch.uint8:
        images = ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    x = images.float()
    c = x.shape[1]
    if c == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
        x = (x * weights).sum(1, keepdim=True)
    elif c != 1:
        x = x[:, :1]
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
        x = x.round().clamp(0, 255)
    return x / 127.5 - 1.0
