"""corral-crashfs itself (tests/crashfs), through the kernel's real FUSE path: what a power cut
keeps. These check the test tool, not a server, so they run the same in every suite run. The
model's corner cases are unit tests (tests/crashfs/durable_tree_test.cc)."""
import mmap
import os
import shutil
import tempfile

import pytest

from harness import crashfs

pytestmark = [
    pytest.mark.skipif(crashfs.available() is not None, reason=str(crashfs.available())),
    pytest.mark.storage_independent,  # no server at all
]


@pytest.fixture
def disk():
    root = tempfile.mkdtemp(prefix="corral-it-crashfs-")
    made = []

    def make(*options):
        d = crashfs.CrashFs(root, f"disk{len(made)}", options).mount()
        made.append(d)
        return d
    yield make
    for d in made:
        d.remove()
    shutil.rmtree(root, ignore_errors=True)


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path, data, sync):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        if sync:
            os.fsync(f.fileno())


def after_power_cut(d):
    counts = d.power_cut()
    d.mount()
    return counts


def test_only_fsynced_data_and_names_survive(disk):
    d = disk("--metadata=strict")
    os.mkdir(d.path("dir"))
    write_file(d.path("dir", "synced"), b"kept", sync=True)
    write_file(d.path("dir", "unsynced"), b"lost", sync=False)
    fsync_path(d.path("dir"))
    fsync_path(d.path())
    write_file(d.path("dir", "late"), b"no name", sync=True)  # after the directory's fsync
    counts = after_power_cut(d)
    assert counts["file_syncs"] == 2 and counts["dir_syncs"] == 2
    assert sorted(os.listdir(d.path("dir"))) == ["synced", "unsynced"]
    assert open(d.path("dir", "synced"), "rb").read() == b"kept"
    assert open(d.path("dir", "unsynced"), "rb").read() == b""


def test_a_rename_needs_its_directory_fsynced(disk):
    d = disk("--metadata=strict")
    write_file(d.path("current"), b"old", sync=True)
    fsync_path(d.path())
    write_file(d.path("current.tmp"), b"new", sync=True)
    os.rename(d.path("current.tmp"), d.path("current"))
    after_power_cut(d)
    assert open(d.path("current"), "rb").read() == b"old"
    write_file(d.path("current.tmp"), b"new", sync=True)
    os.rename(d.path("current.tmp"), d.path("current"))
    fsync_path(d.path())
    after_power_cut(d)
    assert os.listdir(d.path()) == ["current"]
    assert open(d.path("current"), "rb").read() == b"new"


def test_the_journal_model_commits_names_on_any_fsync(disk):
    d = disk("--metadata=journal")
    os.mkdir(d.path("dir"))
    write_file(d.path("dir", "a"), b"a", sync=False)
    write_file(d.path("b"), b"b", sync=True)
    after_power_cut(d)
    assert os.listdir(d.path("dir")) == ["a"]
    assert open(d.path("dir", "a"), "rb").read() == b""
    assert open(d.path("b"), "rb").read() == b"b"


def test_mmap_writes_survive_only_after_msync(disk):
    d = disk("--metadata=journal")
    for name, sync in (("unsynced", False), ("synced", True)):
        fd = os.open(d.path(name), os.O_RDWR | os.O_CREAT, 0o644)
        os.ftruncate(fd, 8192)
        os.fsync(fd)  # the size, not the bytes written through the map below
        m = mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        m[4096:4101] = b"hello"
        if sync:
            m.flush()  # msync(MS_SYNC)
        m.close()
        os.close(fd)
    after_power_cut(d)
    assert open(d.path("synced"), "rb").read()[4096:4101] == b"hello"
    assert open(d.path("unsynced"), "rb").read() == bytes(8192)


def test_ignored_fsyncs_keep_nothing(disk):
    d = disk("--metadata=journal", "--ignore-fsync=log.*")
    write_file(d.path("log.1"), b"txns", sync=True)
    write_file(d.path("snapshot.1"), b"tree", sync=True)
    counts = after_power_cut(d)
    assert counts["ignored_file_syncs"] == 1
    assert open(d.path("log.1"), "rb").read() == b""
    assert open(d.path("snapshot.1"), "rb").read() == b"tree"


def test_o_sync_writes_are_durable_at_once(disk):
    d = disk("--metadata=journal")
    fd = os.open(d.path("f"), os.O_WRONLY | os.O_CREAT | os.O_SYNC, 0o644)
    os.write(fd, b"each write")
    os.close(fd)
    after_power_cut(d)
    assert open(d.path("f"), "rb").read() == b"each write"


def test_an_open_file_outlives_its_unlink(disk):
    d = disk("--metadata=strict")
    write_file(d.path("f"), b"x", sync=True)
    fsync_path(d.path())
    with open(d.path("f"), "r+b") as f:
        os.unlink(d.path("f"))
        f.write(b"y")
        f.flush()
        f.seek(0)
        assert f.read() == b"y"
        os.fsync(f.fileno())
    after_power_cut(d)
    assert open(d.path("f"), "rb").read() == b"y"  # the unlink was never made durable
