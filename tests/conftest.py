"""Test-suite setup: a private artifact cache, so every run starts from nothing (as CI does)."""
import os
import tempfile

import pytest

# Set before any secretlab import so that papermill kernels (child processes) inherit it too.
_CACHE = tempfile.mkdtemp(prefix="secretlab-test-cache-")
os.environ.setdefault("SECRETLAB_CACHE", _CACHE)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache folder for tests that check caching behaviour."""
    monkeypatch.setenv("SECRETLAB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
