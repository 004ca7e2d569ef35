"""The reference suite needs PyTorch; `nox -s reference` installs it and sets
MICROGRAD_REQUIRE_TORCH=1, so there a missing torch fails instead of skipping."""

import os

import pytest

if os.getenv("MICROGRAD_REQUIRE_TORCH") == "1":
    import torch
else:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: run `nox -s reference`")

torch.set_default_dtype(torch.float64)
