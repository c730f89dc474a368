"""scripts/local_torch_wheel.py: which local torch wheel setup-python installs instead of PyPI's CUDA build."""

import importlib.util
import os
import shutil
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "local_torch_wheel.py")
spec = importlib.util.spec_from_file_location("local_torch_wheel", SCRIPT)
local_torch_wheel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(local_torch_wheel)


class LocalTorchWheelTests(unittest.TestCase):
    def directory(self, *names):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        for name in names:
            open(os.path.join(d, name), "w").close()
        return d

    def find(self, directories, tag="cp311", machine="x86_64", glibc=(2, 36)):
        return local_torch_wheel.find(directories, tag, machine, glibc)

    def test_picksTheNewestCPUWheelForThisPythonAndMachine(self):
        d = self.directory("torch-2.9.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                           "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                           "torch-2.15.0+cu132-cp311-cp311-manylinux_2_28_x86_64.whl",
                           "torch-2.14.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",
                           "torch-2.14.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl",
                           "transformers-5.0.0-py3-none-any.whl")
        self.assertEqual(self.find([d]), os.path.join(d, "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"))

    def test_aWheelNeedingANewerGlibcIsNotCompatible(self):
        d = self.directory("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
                           "torch-2.10.0+cpu-cp311-cp311-manylinux2014_x86_64.whl")
        self.assertEqual(self.find([d], glibc=(2, 17)), os.path.join(d, "torch-2.10.0+cpu-cp311-cp311-manylinux2014_x86_64.whl"))
        self.assertIsNone(self.find([d], glibc=(2, 12)))
        self.assertIsNone(self.find([d], glibc=None), "without glibc (musl) no manylinux wheel fits")

    def test_compressedPlatformTagsAndPlainLinuxWheels(self):
        d = self.directory("torch-2.11.0+cpu-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
        self.assertIsNotNone(self.find([d], glibc=(2, 17)))
        e = self.directory("torch-2.12.0+cpu-cp311-cp311-linux_x86_64.whl")
        self.assertIsNotNone(self.find([e], glibc=None))

    def test_nothingWhenNoDirectoryHasOne(self):
        # A torch wheel without +cpu may be a CUDA build: not taken.
        d = self.directory("torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl")
        self.assertIsNone(self.find([d, "/nonexistent/wheels", "https://download.pytorch.org/whl/cpu"]))


if __name__ == "__main__":
    unittest.main()
