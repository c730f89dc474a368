"""GPU telemetry per device through NVML (`nvidia-ml-py`, imported as `pynvml`). Without it, or without a GPU,
`probe()` says why, and the run records that once instead of sampling."""


class GPUTelemetry:
    def __init__(self):
        self.handles, self.reason = [], None
        try:
            import pynvml
        except ImportError:
            self.reason = "no GPU telemetry: nvidia-ml-py (pynvml) is not installed"
            return
        try:
            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
        except Exception as error:     # NVMLError_LibraryNotFound, DriverNotLoaded, …: all mean "no GPU here"
            self.reason = f"no GPU: NVML is unavailable ({error})"
            return
        if count == 0:
            self.reason = "no GPU: NVML reports 0 devices"
            return
        self.nvml = pynvml
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]

    @property
    def available(self):
        return bool(self.handles)

    def sample(self, host, rank, local_device=None):
        """One entry per visible device (or only the rank's own device when given)."""
        out = []
        for index, handle in enumerate(self.handles):
            if local_device is not None and index != local_device:
                continue
            n = self.nvml
            entry = {"host": host, "rank": rank, "index": index}
            for key, read in (
                    ("name", lambda: n.nvmlDeviceGetName(handle)),
                    ("utilization", lambda: float(n.nvmlDeviceGetUtilizationRates(handle).gpu)),
                    ("memoryUsedBytes", lambda: int(n.nvmlDeviceGetMemoryInfo(handle).used)),
                    ("memoryTotalBytes", lambda: int(n.nvmlDeviceGetMemoryInfo(handle).total)),
                    ("temperatureC", lambda: float(n.nvmlDeviceGetTemperature(handle, n.NVML_TEMPERATURE_GPU))),
                    ("powerWatts", lambda: n.nvmlDeviceGetPowerUsage(handle) / 1000.0)):
                try:
                    value = read()
                    entry[key] = value.decode() if isinstance(value, bytes) else value
                except Exception:
                    pass    # a device may not report every field (power on some boards)
            out.append(entry)
        return out
