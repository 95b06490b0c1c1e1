"""Artifact cache: config hashing, atomic writes, the cache folder.

Every expensive artifact (dataset, checkpoint, result table) is stored under
``cache_dir()/<kind>/<hash of its config>/`` and written atomically (temporary
file in the same folder, then ``os.replace``), so an interrupted run never leaves
a half-written file behind and a rerun with the same config reuses the result.

The cache folder is ``$SECRETLAB_CACHE`` if set, else ``.cache/`` at the root of
a source checkout (ignored by git), else ``~/.cache/secretlab``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

T = TypeVar("T")

#: Bumped when the meaning of a cached artifact changes (e.g. a model-code change
#: that makes old checkpoints wrong), so stale entries are never reused.
CACHE_VERSION = 1


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").exists() and (root / "secretlab").is_dir() else None


def cache_dir() -> Path:
    env = os.environ.get("SECRETLAB_CACHE")
    if env:
        path = Path(env)
    elif (root := repo_root()) is not None:
        path = root / ".cache"
    else:
        path = Path.home() / ".cache" / "secretlab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot hash config value of type {type(obj).__name__}: {obj!r}")


def config_hash(*parts: Any, length: int = 16) -> str:
    """Stable hash of dataclasses, dicts, lists, arrays and scalars."""
    blob = json.dumps(_jsonable([CACHE_VERSION, *parts]), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def artifact_path(kind: str, key: str, filename: str) -> Path:
    folder = cache_dir() / kind / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder / filename


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp creates 0600; give the file the user's usual permissions
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    """The process umask (read by setting it, then restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as a plain, uncompressed ``.npz`` atomically (no object arrays)."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only plain arrays are stored")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``.npz`` written by :func:`save_npz`; never unpickles."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def cached_npz(kind: str, config: Any, build: Callable[[], dict[str, np.ndarray]],
               refresh: bool = False) -> tuple[dict[str, np.ndarray], Path]:
    """Load ``kind/<hash(config)>/data.npz`` or build, save and return it."""
    key = config_hash(config)
    path = artifact_path(kind, key, "data.npz")
    if path.exists() and not refresh:
        return load_npz(path), path
    arrays = build()
    save_npz(path, arrays)
    atomic_write_json(path.with_name("config.json"), _jsonable(config))
    return arrays, path
