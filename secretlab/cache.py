"""Artifact cache: config hashing, atomic writes, verified loads, the cache folder.

Every expensive artifact (dataset, checkpoint, result table) is stored under ``cache_dir()/<kind>/<hash of its
config>/`` and written atomically (temporary file in the same folder, then ``os.replace``), so an interrupted run
never leaves a half-written file behind and a rerun with the same config reuses the result.

Verification. Next to each artifact ``X`` sits ``X.manifest.json``: the SHA-256 of
X's bytes and the config it was made from (the values its cache key hashes,
``CACHE_VERSION`` first, so the config re-derives the key). It is written only
after X is in place, and the old manifest and file are removed before X is
rewritten, so a manifest never vouches for a half-written or replaced file.
:func:`load_artifact` checks the file's hash against the manifest and the
manifest's config against the one asked for (a file copied between folders is
caught by either); anything wrong, edited, truncated or unreadable raises one
:class:`ArtifactError` naming the file, what is wrong and how to rebuild. A bad
artifact is never used and never deleted automatically.

Legacy artifacts (written before manifests, or by a run interrupted between the
artifact and its manifest) are verified as far as they can be, then trusted on
first use: the file must load, and the config recorded with it must match the one
asked for (the folder's ``config.json``; a checkpoint's embedded model/train
configs and warm-start key; a dataset's embedded config). Then the manifest is
written with the hash of the bytes just verified, and later loads check it; keys,
folders and file formats are unchanged, so nothing is retrained. ``dqn_source`` and
``dqn_target`` entries never had a config record: for them "it loads" and the
cache key are all that vouch on first use. A file rewritten after that by code
from before manifests (an older checkout, ``refresh=True``) no longer matches its
manifest: it is reported, not used.

Concurrency. Two processes that need the same artifact build it once: the builder holds :func:`artifact_lock`
(a ``flock`` on ``.X.lock`` beside it) while it checks, builds (on one torch thread) and writes; the other waits,
then loads. A holder that dies releases the lock with its file descriptor and leaves nothing half-written.

The cache folder is ``$SECRETLAB_CACHE`` if set, else ``.cache/`` at the root of a source checkout (ignored by
git), else ``~/.cache/secretlab``. ``secretlab cache verify`` checks every manifest; ``cache clean`` empties it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence, TypeVar

import numpy as np

from secretlab.determinism import result_threads

T = TypeVar("T")

#: Bumped when the meaning of a cached artifact changes (e.g. a model-code change), so stale entries are never reused.
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


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray],
             key_parts: Sequence[Any] | None = None) -> None:
    """Write arrays as a plain, uncompressed ``.npz`` atomically (no object arrays).

    With ``key_parts`` (what its cache key hashes) it is a cached artifact: its manifest follows.
    """
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only plain arrays are stored")
    writer = atomic_path(path) if key_parts is None else write_artifact(path, key_parts)
    with writer as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_npz(fh: BinaryIO) -> dict[str, np.ndarray]:
    """Every array of an open ``.npz`` file; never unpickles."""
    with np.load(fh, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``.npz`` written by :func:`save_npz` (hash-checked if it has a manifest); never unpickles."""
    return read_verified(path, read_npz)


def cached_npz(kind: str, config: Any, build: Callable[[], dict[str, np.ndarray]], refresh: bool = False,
               legacy_check: Callable[[dict[str, np.ndarray]], str | None] | None = None
               ) -> tuple[dict[str, np.ndarray], Path]:
    """Load ``kind/<hash(config)>/data.npz`` (verified) or build, save and return it.

    ``legacy_check``: for an artifact without a manifest, a check of the config embedded in the
    arrays (None if it matches, else what differs), on top of the folder's ``config.json``.
    """
    key = config_hash(config)
    path = artifact_path(kind, key, "data.npz")
    record = _jsonable(config)

    def legacy(arrays: dict[str, np.ndarray]) -> str | None:
        return config_json_problem(path, record) or (legacy_check(arrays) if legacy_check else None)

    def build_and_save() -> dict[str, np.ndarray]:
        arrays = build()
        atomic_write_json(path.with_name("config.json"), record)  # describes the folder: safe to write first
        save_npz(path, arrays, key_parts=(config,))
        return arrays

    arrays = load_or_build(path, lambda: path.exists() and not refresh,
                           lambda: load_artifact(path, (config,), read_npz, legacy), build_and_save)
    return arrays, path


def load_or_build(path: str | os.PathLike, cached: Callable[[], bool], load: Callable[[], T],
                  build: Callable[[], T]) -> T:
    """What every cached builder does: ``load()`` if ``cached()``; else take :func:`artifact_lock` on
    ``path``, check again (another process may have built it while this one waited) and ``build()``
    (which writes the artifact) only if it is still missing, with one torch thread."""
    if cached():
        return load()
    with artifact_lock(path):
        if cached():
            return load()
        with result_threads():  # the same bytes whatever the machine's core count (secretlab.determinism)
            return build()


@contextlib.contextmanager
def artifact_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold the exclusive build lock of artifact ``path`` (``.<name>.lock`` beside it, an advisory ``flock``;
    the leading dot keeps it out of ``secretlab cache verify``).

    Callers check for the artifact again once they hold it: a process that waited finds what the holder
    wrote and loads it instead of building it a second time. The holder deletes the lock file on release
    (nothing stays in the cache), and the lock goes with its file descriptor, so a killed holder never
    blocks the rerun (its file stays behind, hidden, and is reused).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            _remove_own_lock(lock, fh)
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_own_lock(lock: Path, fh: Any) -> None:
    """Delete the lock file while still holding it, unless it is already another holder's new file.

    A process that was waiting on the deleted file gets the lock, checks again and loads the artifact; one
    that arrives later makes a new file. Nothing is left in the cache folder.
    """
    try:
        if os.stat(lock).st_ino == os.fstat(fh.fileno()).st_ino:
            os.unlink(lock)
    except FileNotFoundError:
        pass


# ================================================================== verification
MANIFEST_SUFFIX = ".manifest.json"
_MANIFEST_VERSION = 1


class ArtifactError(ValueError):
    """A cached artifact failed verification (hash, config or readability); it was not used."""

    path: Path
    """The artifact."""
    problem: str
    """What is wrong with it (the message without the advice)."""


def manifest_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + MANIFEST_SUFFIX)


def key_config(key_parts: Sequence[Any]) -> Any:
    """The JSON form of what ``config_hash(*key_parts)`` hashes (so a manifest's config re-derives its key)."""
    return _jsonable([CACHE_VERSION, *key_parts])


def key_of(config: Any, length: int = 16) -> str:
    """The cache key of a manifest's ``config`` (as :func:`config_hash` computes it)."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


@contextlib.contextmanager
def write_artifact(path: str | os.PathLike, key_parts: Sequence[Any]) -> Iterator[Path]:
    """Yield a temporary path for the artifact; move it into place, then write its manifest."""
    path = Path(path)
    # The old file goes first, manifest before file: if this write fails, no manifest vouches for
    # anything and no old (perhaps bad) file is left to be adopted as a legacy artifact.
    manifest_path(path).unlink(missing_ok=True)
    path.unlink(missing_ok=True)
    with atomic_path(path) as tmp:
        yield tmp
    write_manifest(path, key_parts)


def write_json_artifact(path: str | os.PathLike, obj: Any, key_parts: Sequence[Any]) -> None:
    """:func:`atomic_write_json` as a cached artifact (its manifest follows)."""
    with write_artifact(path, key_parts) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")


def write_manifest(path: str | os.PathLike, key_parts: Sequence[Any], sha256: str | None = None,
                   adopted: bool = False) -> None:
    """Record ``path``'s hash and config (``adopted``: a legacy file, trusted on first use)."""
    path = Path(path)
    atomic_write_json(manifest_path(path), {
        "manifest_version": _MANIFEST_VERSION, "file": path.name,
        "sha256": sha256 or file_sha256(path), "bytes": path.stat().st_size,
        "recorded": "adopted legacy file" if adopted else "written", "config": key_config(key_parts)})


def file_sha256(path: str | os.PathLike) -> str:
    with open(path, "rb") as fh:
        return _sha256(fh)


def _sha256(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def load_artifact(path: str | os.PathLike, key_parts: Sequence[Any], load: Callable[[BinaryIO], T],
                  legacy_check: Callable[[T], str | None] | None = None) -> T:
    """``load`` the cached file at ``path`` after checking it against its manifest and ``key_parts``.

    Without a manifest (legacy, or a write interrupted before it): ``load`` it, run ``legacy_check``
    on the result (None: the recorded config matches; else what differs), then write the manifest.
    Raises :class:`ArtifactError` for anything wrong.
    """
    path = Path(path)
    expected = key_config(key_parts)
    if manifest_path(path).exists():
        manifest = read_manifest(path)
        problem = config_problem("its manifest", manifest["config"], expected)
        if problem:
            raise artifact_error(path, problem)
        value, _ = _read(path, load, manifest["sha256"])
        return value
    value, digest = _read(path, load)
    try:
        problem = legacy_check(value) if legacy_check is not None else None
    except ArtifactError:
        raise
    except Exception as err:  # a malformed legacy file, e.g. a checkpoint without its configs
        raise artifact_error(path, f"unreadable ({describe_error(err)})") from None
    if problem:
        raise artifact_error(path, problem)
    try:
        write_manifest(path, key_parts, digest, adopted=True)
    except OSError:  # a read-only cache still loads; the file is verified again next time
        pass
    return value


def check_file(path: str | os.PathLike) -> None:
    """The cheap check of a cached file with a manifest: its hash, and its manifest's config against the
    folder's key (an entry copied to another key). Raises :class:`ArtifactError`."""
    path = Path(path)
    manifest = read_manifest(path)
    key = key_of(manifest["config"], len(path.parent.name))
    if key != path.parent.name:
        raise artifact_error(path, f"config mismatch: its manifest's config has cache key {key}, not this "
                                   f"folder's {path.parent.name} (copied from another entry?)")
    _read(path, lambda fh: None, manifest["sha256"])


def read_verified(path: str | os.PathLike, load: Callable[[BinaryIO], T]) -> T:
    """``load`` a file, hash-checked against its manifest if it has one; errors as :class:`ArtifactError`."""
    path = Path(path)
    expected = read_manifest(path)["sha256"] if manifest_path(path).exists() else None
    return _read(path, load, expected)[0]


def read_torch(fh: BinaryIO) -> Any:
    """``torch.load`` of plain tensors, numbers and containers only (``weights_only=True``)."""
    import torch

    return torch.load(fh, map_location="cpu", weights_only=True)


def read_json(fh: BinaryIO) -> Any:
    return json.loads(fh.read())


def _read(path: Path, load: Callable[[BinaryIO], T], sha256: str | None = None) -> tuple[T, str]:
    """Hash the open file, compare with ``sha256``, then ``load`` the same bytes: (value, hash)."""
    try:
        with open(path, "rb") as fh:  # one open file for hash and load: both see the same bytes
            digest = _sha256(fh)
            if sha256 is not None and digest != sha256:
                raise artifact_error(path, f"hash mismatch: its SHA-256 is {digest[:16]}..., its manifest "
                                           f"records {str(sha256)[:16]}... (the file was edited, truncated "
                                           "or replaced after it was written)")
            fh.seek(0)
            return load(fh), digest
    except ArtifactError:
        raise
    except Exception as err:  # BadZipFile, EOFError, torch's RuntimeError, UnpicklingError, KeyError, ...
        raise artifact_error(path, f"unreadable ({describe_error(err)})") from None


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of ``path``; :class:`ArtifactError` if it is unreadable or describes another file."""
    path, mpath = Path(path), manifest_path(path)
    try:
        manifest = json.loads(mpath.read_text())
        if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str) \
                or "config" not in manifest:
            raise ValueError("not a manifest: needs 'sha256' and 'config'")
        if manifest.get("file") != path.name:
            raise ValueError(f"it describes {manifest.get('file')!r}, not {path.name!r}")
    except Exception as err:
        raise artifact_error(path, f"unreadable manifest {mpath} ({describe_error(err)})") from None
    return manifest


def read_config_json(path: str | os.PathLike) -> Any | None:
    """The ``config.json`` next to ``path`` (None if absent); :class:`ArtifactError` if unreadable."""
    config_path = Path(path).with_name("config.json")
    if not config_path.exists():
        return None
    try:
        return json.loads(config_path.read_text())
    except Exception as err:
        raise artifact_error(path, f"unreadable {config_path} ({describe_error(err)})") from None


def config_json_problem(path: str | os.PathLike, expected: Any) -> str | None:
    """None if the ``config.json`` next to ``path`` records ``expected``, else what is wrong."""
    recorded = read_config_json(path)
    if recorded is None:
        return "config unknown: it has no manifest and no config.json saying which config it was made from"
    return config_problem("its config.json", recorded, expected)


def config_problem(source: str, recorded: Any, expected: Any) -> str | None:
    """None if ``recorded`` equals ``expected`` (as JSON), else a 'config mismatch' naming the first difference."""
    if _canonical(recorded) == _canonical(expected):
        return None
    where, got, want = _first_difference(_plain(recorded), _plain(expected))
    where = f"config{where}" if where.startswith("[") else where  # a manifest's list of key parts
    return (f"config mismatch: {source} records a different config than the one asked for "
            f"(at {where}: {_clip(got)} recorded, {_clip(want)} asked for)")


def _plain(obj: Any) -> Any:
    return json.loads(_canonical(obj))


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _first_difference(a: Any, b: Any, where: str = "") -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if _canonical(a.get(k, "<absent>")) != _canonical(b.get(k, "<absent>")):
                return _first_difference(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{where}.{k}" if where else k)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if _canonical(x) != _canonical(y):
                return _first_difference(x, y, f"{where}[{i}]")
    return where or "the top level", a, b


def _clip(value: Any, width: int = 80) -> str:
    text = json.dumps(value, default=_json_default)
    return text if len(text) <= width else text[:width - 3] + "..."


def describe_error(err: BaseException) -> str:
    """``Class: message`` of a load error, without the loaders' advice to load unsafely."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    if isinstance(err, pickle.UnpicklingError):  # torch advises unsafe loading here: never pass that on
        found = re.search(r"WeightsUnpickler error: (.*?)(?:\. Please use|\n|$)", text)
        text = (found.group(1) if found else "") or "it holds objects other than plain tensors and numbers"
    if "allow_pickle" in text or "weights_only" in text:  # numpy's text suggests allow_pickle likewise
        text = "it holds pickled (object) data, which is never loaded"
    text = text.strip().splitlines()[0] if text.strip() else "no message"
    return f"{type(err).__name__}: {text[:300]}"


def artifact_error(path: str | os.PathLike, problem: str) -> ArtifactError:
    """The one error for a bad artifact: its path, what is wrong and how to rebuild it."""
    path = Path(path)
    try:
        kind = path.resolve().parent.relative_to(cache_dir().resolve()).parts[0]
    except (ValueError, IndexError):
        kind = None
    if kind is None:
        what, how = "artifact", f"replace or delete {path} and write it again"
    else:
        what, how = "cached artifact", (
            f"pass refresh=True to the function that loads it, or delete the folder {path.parent} "
            f"(`secretlab cache clean --kind {kind}` deletes every {kind} artifact) and run again")
    err = ArtifactError(f"{what} {path}: {problem}. It was not used (and is left in place). To rebuild it, {how}.")
    err.path, err.problem = path, problem
    return err
