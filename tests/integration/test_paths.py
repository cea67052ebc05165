"""Path validation per operation (client-protocol.md §12)."""
import pytest

from harness import raw
from harness.raw import AddWatchMode, CreateFlags, Err, Op

REJECTED_CHARS = {
    "u0001": "\u0001", "u001f": "\u001f", "tab": "\t", "u007f": "\u007f", "u0080": "\u0080",
    "u009f": "\u009f", "ue000": "\ue000", "uf8ff": "\uf8ff", "ufff0": "\ufff0",
    "u1f600-utf8": "\U0001F600",
}
ACCEPTED_CHARS = {"u00a0": "\u00a0", "ud7ff": "\ud7ff", "uf900": "\uf900", "uffef": "\uffef",
                  "space": " "}


def _enc(s):
    return s.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- create

@pytest.mark.parametrize("path", ["", "a", "//a", "/.", "/..", "/\u0000x"])
def test_create_invalid_without_parent_lookup(rc, path):
    assert rc.create(path)[0] == Err.BADARGUMENTS


def test_create_relative_path_with_slash_looks_up_parent(rc):
    # contains a '/', so the parent ("a") is looked up first: not found
    assert rc.create("a/b")[0] == Err.NONODE


@pytest.mark.parametrize("suffix", ["/m/", "/m//b", "/m/.", "/m/./b", "/m/../b"])
def test_create_with_missing_parent_is_no_node_first(rc, base, suffix):
    assert rc.create(base + suffix)[0] == Err.NONODE


@pytest.mark.parametrize("suffix", ["/", "/.", "/..", "/\u0001", "/a\u0000b"])
def test_create_with_existing_parent_is_bad_arguments(rc, base, suffix):
    assert rc.create(base + suffix)[0] == Err.BADARGUMENTS


def test_sequential_create_validates_path_plus_digit(rc, base):
    S = CreateFlags.PERSISTENT_SEQUENTIAL
    assert rc.create(f"{base}/", flags=S) == (0, f"{base}/0000000000")
    assert rc.create(f"{base}/.", flags=S) == (0, f"{base}/.0000000001")
    assert rc.create(f"{base}/..", flags=S) == (0, f"{base}/..0000000002")
    assert rc.create(f"{base}//", flags=S)[0] == Err.NONODE  # parent "{base}/" does not exist


@pytest.mark.parametrize("name", list(REJECTED_CHARS), ids=list(REJECTED_CHARS))
def test_create_rejected_characters(rc, base, name):
    ch = REJECTED_CHARS[name]
    assert rc.create(_enc(f"{base}/a{ch}b"))[0] == Err.BADARGUMENTS


def test_create_rejects_cesu8_surrogate_pair_and_invalid_utf8(rc, base):
    cesu = _enc(f"{base}/a") + "\ud83d\ude00".encode("utf-8", "surrogatepass")
    assert rc.create(cesu)[0] == Err.BADARGUMENTS
    assert rc.create(base.encode() + b"/a\xffb")[0] == Err.BADARGUMENTS


@pytest.mark.parametrize("name", list(ACCEPTED_CHARS), ids=list(ACCEPTED_CHARS))
def test_create_accepted_characters(rc, base, name):
    path = f"{base}/a{ACCEPTED_CHARS[name]}b"
    assert rc.create(_enc(path)) == (0, path)
    err, children = rc.get_children(base)
    assert children == [path.rsplit("/", 1)[1]]


@pytest.mark.parametrize("name", [".a", "..a", "a.", "a..b", "...", "-_~!@#$%^&*()"])
def test_create_dot_like_names_accepted(rc, base, name):
    assert rc.create(f"{base}/{name}") == (0, f"{base}/{name}")


# ---------------------------------------------------------------- setData / setACL

@pytest.mark.parametrize("suffix", ["/missing/", "//x", "/./x", "/x/..", "/a\u0001"])
def test_set_data_and_set_acl_validate_first(rc, base, suffix):
    assert rc.set_data(base + suffix, b"x")[0] == Err.BADARGUMENTS
    assert rc.set_acl(base + suffix, raw.OPEN_ACL_UNSAFE)[0] == Err.BADARGUMENTS


@pytest.mark.parametrize("path", ["", "a", "/x\u0000"])
def test_set_data_malformed(rc, path):
    assert rc.set_data(path, b"x")[0] == Err.BADARGUMENTS
    assert rc.set_acl(path, raw.OPEN_ACL_UNSAFE)[0] == Err.BADARGUMENTS


# ---------------------------------------------------------------- delete

@pytest.mark.parametrize("path", ["", "a", "/x\u0000y"])
def test_delete_malformed_bad_arguments(rc, path):
    assert rc.delete(path) == Err.BADARGUMENTS


@pytest.mark.parametrize("suffix", ["/", "//x", "/.", "/x/..", "/a\u0001"])
def test_delete_invalid_path_is_just_not_found(rc, base, suffix):
    assert rc.delete(base + suffix) == Err.NONODE
    assert rc.exists(base)[0] == 0


# ---------------------------------------------------------------- reads

@pytest.mark.parametrize("suffix", ["/", "//", "/.", "/..", "/\u0001"])
def test_reads_do_not_validate(rc, base, suffix):
    p = base + suffix
    assert rc.exists(p)[0] == Err.NONODE
    assert rc.get_data(p)[0] == Err.NONODE
    assert rc.get_children(p)[0] == Err.NONODE
    assert rc.get_children2(p)[0] == Err.NONODE
    assert rc.get_acl(p)[0] == Err.NONODE
    assert rc.call(Op.GET_ALL_CHILDREN_NUMBER, raw.path_body(p)).err == Err.NONODE


@pytest.mark.parametrize("path", ["a", "zookeeper"])
def test_reads_of_relative_path_not_found(rc, path):
    assert rc.exists(path)[0] == Err.NONODE
    assert rc.get_data(path)[0] == Err.NONODE


def test_empty_path_reads_resolve_to_root(rc):
    assert rc.exists("") == rc.exists("/")
    assert rc.get_data("") == rc.get_data("/")
    err, children = rc.get_children("")
    assert err == 0 and sorted(children) == sorted(rc.get_children("/")[1])
    assert rc.get_acl("") == rc.get_acl("/")


def test_exists_with_nul_is_bad_arguments(rc, base):
    assert rc.exists(f"{base}\u0000")[0] == Err.BADARGUMENTS
    assert rc.exists("\u0000")[0] == Err.BADARGUMENTS
    # other reads do not check it
    assert rc.get_data(f"{base}\u0000")[0] == Err.NONODE


@pytest.mark.parametrize("path", ["/missing", "bad//", "", "a\u0001", "/x/"])
def test_sync_echoes_any_path(rc, path):
    rep = rc.call(Op.SYNC, raw.path_body(path))
    assert rep.err == 0
    assert rep.r.string() == path
    assert rep.r.at_end()


def test_add_watch_accepts_any_path(rc):
    for path in ("", "a", "/x/", "//"):
        assert rc.add_watch(path, AddWatchMode.PERSISTENT) == 0


def test_multi_validates_like_create(rc, base):
    err, results = rc.multi([raw.m_create("/..")])
    assert err == 0 and results[0].err == Err.BADARGUMENTS
    err, results = rc.multi([raw.m_create(f"{base}/m/x/")])
    assert err == 0 and results[0].err == Err.NONODE
