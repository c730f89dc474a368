"""Batches addressable by position (BatchSource.swift, ShuffledBatches): batch `index` of epoch `epoch` is
always the same, so a loader's whole state is a position, and the order equals `xright train`'s."""

from .rng import epoch_order


class Batches:
    def __init__(self, items, batch_size, shuffle_seed):
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        self.items, self.batch_size, self.shuffle_seed = items, batch_size, shuffle_seed
        self._epoch, self._order = None, None

    @property
    def epoch_length(self):
        return (len(self.items) + self.batch_size - 1) // self.batch_size

    def batch(self, epoch, index):
        """(items, their ids) of the global batch; every rank computes the same and takes its share."""
        if not 0 <= index < self.epoch_length:
            raise IndexError(f"batch position: expected an index below {self.epoch_length}, got {index}")
        if epoch != self._epoch:
            self._order, self._epoch = epoch_order(len(self.items), self.shuffle_seed, epoch), epoch
        ids = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return [self.items[i] for i in ids], ids


class Cursor:
    """A loader's progress (BatchCursor): a fresh pass in the next shuffle each epoch it begins; a source
    shorter than the session's epoch cycles through its order again."""

    def __init__(self):
        self.epoch, self.index, self.epochs_begun = 0, 0, 0

    def begin_epoch(self):
        self.epoch, self.index = self.epochs_begun, 0
        self.epochs_begun += 1

    def current(self, source):
        return source.batch(self.epoch, self.index % source.epoch_length)

    def advance(self):
        self.index += 1

    def to_json(self):
        return {"position": {"epoch": self.epoch, "index": self.index}, "epochsBegun": self.epochs_begun}

    @classmethod
    def from_json(cls, saved):
        cursor = cls()
        cursor.epoch, cursor.index = saved["position"]["epoch"], saved["position"]["index"]
        cursor.epochs_begun = saved["epochsBegun"]
        return cursor
