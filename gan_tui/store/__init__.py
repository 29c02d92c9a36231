from gan_tui.store.reader import RunReader
from gan_tui.store.writer import RunStore

__all__ = ["RunReader", "RunStore"]
