"""`run.jsonl` exactly as the Swift `RunLogWriter` writes it (docs/RUNLOG.md, schema 1.3): line 1 the header,
then one event per line, keys sorted, NaN/±∞ as strings, buffered and flushed at least once a second."""

import json
import math
import os
import time

SCHEMA = "1.3"    # 1.1: `telemetry`; 1.2: `sample`; 1.3: optional eval `multipleChoice`, header `runOptions`, telemetry `process` (the bridge writes none of these new fields; its logs are valid 1.3)


def _finite_or_string(value):
    """JSON has no NaN or ∞; the log writes them as strings (RunLogCoding), since a NaN loss must be recordable."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite_or_string(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_finite_or_string(v) for v in value]
    return value


def encode_record(record):
    """One record (a dict with `type`, and `time` for events) as its log line, without the newline. Fields that
    are None are left out, as Swift's `encodeIfPresent` does."""
    return json.dumps(_finite_or_string(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


class RunLogWriter:
    """Appends records to `run.jsonl`. Lines are buffered and written when 64 KiB accumulate, when a second has
    passed (`tick`), on `flush` (pause) and on `close` (which fsyncs)."""

    FLUSH_BYTES = 64 * 1024
    FLUSH_SECONDS = 1.0

    def __init__(self, path, header, append=False):
        """A new log starts with `header`; `append` continues a resumed run's log (its header is line 1)."""
        self.path = path
        exists = os.path.exists(path) and os.path.getsize(path) > 0
        if exists and not append:
            raise FileExistsError(f"{path}: a run log already exists; give a new run directory")
        if append and not exists:
            raise FileNotFoundError(f"{path}: no run log to continue")
        if append:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
        self._file = open(path, "a" if append else "w", encoding="utf-8")
        if append and torn:
            self._file.write("\n")    # a line the crashed run was cut off in stays one bad line, not two
        self._pending = []
        self._pending_bytes = 0
        self._last_flush = time.monotonic()
        if not append:
            self.append(header)
        self.flush()

    def append(self, record):
        line = encode_record(record) + "\n"
        self._pending.append(line)
        self._pending_bytes += len(line)
        if self._pending_bytes >= self.FLUSH_BYTES:
            self.flush()
        return line

    def tick(self):
        """Called from the training loop (also while paused): keeps readers at most a second behind."""
        if self._pending and time.monotonic() - self._last_flush >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self):
        if self._pending:
            self._file.write("".join(self._pending))
            self._pending.clear()
            self._pending_bytes = 0
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self):
        if self._file.closed:
            return
        self.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def iso_utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
