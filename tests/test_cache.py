"""The artifact cache's file handling: atomic writes with the user's usual permissions."""
import os
import stat

import numpy as np

from secretlab.cache import atomic_write_json, save_npz


def test_written_files_get_the_umask_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_json(tmp_path / "a.json", {"x": 1})
        save_npz(tmp_path / "b.npz", {"x": np.arange(3)})
        os.umask(0o077)
        atomic_write_json(tmp_path / "private.json", {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.npz").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind


def _build_slowly(cache: str, counter: str, out: str) -> None:
    """A worker process: ask for one cached artifact whose build is slow and counted."""
    import os
    import time

    import numpy as np

    os.environ["SECRETLAB_CACHE"] = cache
    from secretlab.cache import cached_npz

    def build():
        with open(counter, "a") as fh:
            fh.write("built\n")
        time.sleep(1.0)
        return {"x": np.arange(5)}

    arrays, _ = cached_npz("race", {"name": "shared"}, build)
    np.save(out, arrays["x"])


def test_two_processes_asking_for_one_artifact_build_it_once(tmp_path):
    import multiprocessing as mp

    counter = tmp_path / "builds.txt"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_build_slowly, args=(str(tmp_path / "cache"), str(counter), str(tmp_path / f"out{i}.npy")))
             for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert counter.read_text().count("built") == 1  # the second process waited, then loaded
    assert (np.load(tmp_path / "out0.npy") == np.load(tmp_path / "out1.npy")).all()
    from secretlab.cache_admin import verify

    report = verify(tmp_path / "cache")
    assert len(report.ok) == 1 and not report.bad and not report.legacy
    assert not list((tmp_path / "cache").rglob("*.lock"))  # the holder removed its lock file


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path):
    import multiprocessing as mp
    import time

    from secretlab.cache import artifact_lock

    target = tmp_path / "kind" / "key" / "data.npz"
    ctx = mp.get_context("spawn")
    holder = ctx.Process(target=_hold_lock_forever, args=(str(target),))
    holder.start()
    time.sleep(1.5)
    holder.kill()
    holder.join()
    start = time.perf_counter()
    with artifact_lock(target):
        pass
    assert time.perf_counter() - start < 5


def _hold_lock_forever(path: str) -> None:
    import time

    from secretlab.cache import artifact_lock

    with artifact_lock(path):
        time.sleep(600)
