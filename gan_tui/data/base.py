"""What a dataset is to the trainer: something that hands out batches on the device."""

import math

import torch


class Dataset:
    kind: str  # "points" or "images"
    name: str
    shape: tuple[int, ...]  # one example, without the batch dimension
    num_classes: int = 0

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch of real examples in the networks' value range, with labels if any."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def shard(self, rank: int, size: int) -> "Dataset":
        """This rank's part, for multi-process training. Sampled sets (the toys) need none:
        each rank draws from its own random generator."""
        return self


class ToyMixture(Dataset):
    """An equal-weight mixture of isotropic 2D Gaussians, sampled fresh on the device."""

    kind = "points"

    def __init__(self, name: str, centres: list[tuple[float, float]], std: float, device: torch.device):
        self.name = name
        self.centres = torch.tensor(centres, dtype=torch.float32, device=device)
        self.std = std
        self.shape = (2,)
        self.num_classes = len(centres)
        radius = float(self.centres.abs().max())
        self.extent = math.ceil(radius + 1.0)  # half-width of the square that shows it

    def sample(self, batch_size, generator):
        device = self.centres.device
        mode = torch.randint(len(self.centres), (batch_size,), generator=generator, device=device)
        noise = torch.randn(batch_size, 2, generator=generator, device=device)
        return self.centres[mode] + self.std * noise, mode

    def describe(self) -> str:
        return f"{self.name}: {len(self.centres)} Gaussians, std {self.std}"


class ImageDataset(Dataset):
    """Images kept on the device as uint8 (N, C, H, W); batches are index gathers."""

    kind = "images"

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor | None, class_names: list[str]):
        assert images.dtype == torch.uint8 and images.dim() == 4
        self.name = name
        self.images = images
        self.labels = labels
        self.class_names = class_names
        self.num_classes = len(class_names)
        self.shape = tuple(images.shape[1:])

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, batch_size, generator):
        index = torch.randint(len(self), (batch_size,), generator=generator, device=self.images.device)
        batch = self.images[index].float().div_(127.5).sub_(1.0)
        labels = self.labels[index] if self.labels is not None else None
        return batch, labels

    def shard(self, rank: int, size: int) -> "ImageDataset":
        """Every size-th image from `rank` on: disjoint parts of about equal size and class mix."""
        labels = self.labels[rank::size] if self.labels is not None else None
        return ImageDataset(self.name, self.images[rank::size].contiguous(), labels, self.class_names)

    def describe(self) -> str:
        c, h, w = self.shape
        return f"{self.name}: {len(self)} images of {c}x{h}x{w}"


def fit_images(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) to size x size and to `channels` (0 = keep), in chunks."""
    n, c, h, w = images.shape
    if channels and channels != c:
        if c == 1:
            images = images.expand(n, channels, h, w)
        elif channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], device=images.device)[:c].view(1, c, 1, 1)
            images = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        else:
            images = images[:, :channels]
    if size and (h, w) != (size, size):
        out = []
        for chunk in images.split(4096):
            resized = torch.nn.functional.interpolate(chunk.float(), size=(size, size), mode="bilinear",
                                                      antialias=True, align_corners=False)
            out.append(resized.round().clamp(0, 255).to(torch.uint8))
        images = torch.cat(out)
    return images.contiguous()
