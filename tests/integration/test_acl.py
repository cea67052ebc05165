"""ACLs and authentication: world / auth / digest / ip / super (client-protocol.md §6 auth, §7)."""
import pytest
from kazoo.exceptions import InvalidACLError, NoAuthError
from kazoo.security import ACL as KzACL, Id, make_digest_acl

from harness import raw
from harness.raw import ACL, Err, Op, Perm, Xid

ALICE = ("alice", "wonderland")
BOB = ("bob", "builder")


def test_digest_id_vector():
    assert raw.digest_id("user", "pass") == "user:smGaoVKd/cQkjm7b88GyorAUz20="


def _who(conn):
    rep = conn.call(Op.WHO_AM_I)
    assert rep.err == 0
    infos = rep.r.vector(lambda r: (r.string(), r.string()))
    assert rep.r.at_end()
    return sorted(infos)


def test_auth_reply_layout_and_whoami(make_raw):
    c = make_raw()
    assert _who(c) == [("ip", "127.0.0.1")]
    rep = c.call(Op.AUTH, raw.auth_body("digest", "user:pass"), xid=Xid.AUTH)
    assert rep.header == raw.ReplyHeader(Xid.AUTH, 0, 0) and rep.body == b""
    assert _who(c) == [("digest", "user"), ("ip", "127.0.0.1")]
    assert c.add_auth("digest", "other:pw") == 0
    assert _who(c) == [("digest", "other"), ("digest", "user"), ("ip", "127.0.0.1")]


def test_auth_echoes_xid(make_raw):
    c = make_raw()
    rep = c.call(Op.AUTH, raw.auth_body("digest", "u:p"), xid=5)
    assert rep.header == raw.ReplyHeader(5, 0, 0)


def test_digest_without_colon_succeeds(make_raw):
    c = make_raw()
    assert c.add_auth("digest", "justauser") == 0
    assert ("digest", "justauser") in _who(c)


def test_ip_auth_adds_nothing(make_raw):
    c = make_raw()
    assert c.add_auth("ip", "127.0.0.1") == 0
    assert _who(c) == [("ip", "127.0.0.1")]


@pytest.mark.parametrize("scheme", ["world", "nosuchscheme"])
def test_bad_auth_scheme_fails_and_closes(make_raw, scheme):
    c = make_raw()
    rep = c.call(Op.AUTH, raw.auth_body(scheme, "anyone"), xid=Xid.AUTH)
    assert (rep.xid, rep.err) == (Xid.AUTH, Err.AUTHFAILED)
    assert rep.body == b""
    assert c.is_closed(timeout=5)


def test_creator_all_acl_requires_authenticated_id(make_raw, base):
    c = make_raw()
    assert c.create(f"{base}/x", acl=raw.CREATOR_ALL_ACL)[0] == Err.INVALIDACL
    assert c.add_auth("digest", "%s:%s" % ALICE) == 0
    assert c.create(f"{base}/x", acl=raw.CREATOR_ALL_ACL)[0] == 0
    assert c.get_acl(f"{base}/x")[1][0] == [ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))]


def test_auth_scheme_expands_to_each_digest_id_and_ignores_id(make_raw, base):
    c = make_raw()
    c.add_auth("digest", "%s:%s" % ALICE)
    c.add_auth("digest", "%s:%s" % BOB)
    assert c.create(f"{base}/x", acl=[ACL(Perm.READ | Perm.ADMIN, "auth", "ignored")])[0] == 0
    acl = c.get_acl(f"{base}/x")[1][0]
    assert sorted(acl) == sorted([ACL(Perm.READ | Perm.ADMIN, "digest", raw.digest_id(*ALICE)),
                                  ACL(Perm.READ | Perm.ADMIN, "digest", raw.digest_id(*BOB))])


@pytest.mark.parametrize("acl", [
    [],
    None,
    [ACL(31, "world", "somebody")],
    [ACL(31, "digest", "nocolon")],
    [ACL(31, "digest", "a:b:c")],
    [ACL(31, "ip", "300.1.1.1")],
    pytest.param([ACL(31, "ip", "::1")], marks=pytest.mark.known_difference(
        "corral", reason="IPv6 ip ACL ids are a Corral extension (acl.ip); ZooKeeper 3.8 refuses them")),
    [ACL(31, "ip", "127.0.0.1/33")],
    [ACL(31, "ip", "localhost")],
    [ACL(31, "foo", "bar")],
    [ACL(31, "super", "")],
    [ACL(31, "world", "anyone"), ACL(31, "digest", "nocolon")],
], ids=["empty", "null", "world-other", "digest-nocolon", "digest-2colons", "ip-300",
        "ip-v6", "ip-bits33", "ip-hostname", "unknown-scheme", "super", "mixed"])
def test_invalid_acls(make_raw, base, acl):
    c = make_raw()
    assert c.create(f"{base}/x", acl=acl)[0] == Err.INVALIDACL
    assert c.exists(f"{base}/x")[0] == Err.NONODE
    assert c.set_acl(base, acl)[0] == Err.INVALIDACL
    assert c.get_acl(base)[1][0] == raw.OPEN_ACL_UNSAFE


def test_valid_ip_acls(make_raw, base):
    c = make_raw()
    assert c.create(f"{base}/net", b"n", acl=[ACL(Perm.ALL, "ip", "127.0.0.0/8")])[0] == 0
    assert c.create(f"{base}/host", b"h", acl=[ACL(Perm.ALL, "ip", "127.0.0.1")])[0] == 0
    assert c.create(f"{base}/other", b"o", acl=[ACL(Perm.ALL, "ip", "10.0.0.0/8")])[0] == 0
    assert c.get_data(f"{base}/net")[0] == 0
    assert c.get_data(f"{base}/host")[0] == 0
    assert c.get_data(f"{base}/other")[0] == Err.NOAUTH


def _only(perms):
    return [ACL(perms, "world", "anyone")]


def test_read_permission(make_raw, base):
    c = make_raw()
    p = f"{base}/noread"
    assert c.create(p, b"secret", acl=_only(Perm.ALL & ~Perm.READ))[0] == 0
    assert c.create(f"{p}/kid")[0] == 0  # CREATE is granted
    rep = c.call(Op.GET_DATA, raw.path_watch_body(p, False))
    assert rep.err == Err.NOAUTH and rep.body == b""
    assert c.get_children(p)[0] == Err.NOAUTH
    assert c.get_children2(p)[0] == Err.NOAUTH
    assert c.call(Op.GET_ALL_CHILDREN_NUMBER, raw.path_body(p)).err == Err.NOAUTH
    # exists and sync need nothing; getACL works with ADMIN
    err, st = c.exists(p)
    assert err == 0 and st.dataLength == 6
    rep = c.call(Op.SYNC, raw.path_body(p))
    assert rep.err == 0 and rep.r.string() == p
    assert c.get_acl(p)[0] == 0
    # the other rights still work
    assert c.set_data(p, b"x")[0] == 0
    assert c.delete(f"{p}/kid") == 0


def test_write_permission(make_raw, base):
    c = make_raw()
    p = f"{base}/nowrite"
    assert c.create(p, b"d", acl=_only(Perm.ALL & ~Perm.WRITE))[0] == 0
    rep = c.call(Op.SET_DATA, raw.set_data_body(p, b"x", -1))
    assert rep.err == Err.NOAUTH and rep.body == b""
    assert c.get_data(p)[1][0] == b"d"


def test_create_permission(make_raw, base):
    c = make_raw()
    p = f"{base}/nocreate"
    assert c.create(p, acl=_only(Perm.ALL & ~Perm.CREATE))[0] == 0
    for flags in (0, 1, 2, 3):
        assert c.create(f"{p}/kid", flags=flags)[0] == Err.NOAUTH
    assert c.create(f"{p}/kid", op=Op.CREATE2)[0] == Err.NOAUTH
    assert c.create(f"{p}/kid", op=Op.CREATE_CONTAINER, flags=4)[0] == Err.NOAUTH
    assert c.get_children(p) == (0, [])


def test_delete_permission_is_checked_on_parent(make_raw, base):
    c = make_raw()
    p = f"{base}/nodelete"
    assert c.create(p, acl=_only(Perm.ALL & ~Perm.DELETE))[0] == 0
    assert c.create(f"{p}/kid", acl=_only(Perm.ALL))[0] == 0
    assert c.delete(f"{p}/kid") == Err.NOAUTH
    assert c.exists(f"{p}/kid")[0] == 0
    # the node itself can be deleted by its parent's rights (base grants DELETE)
    q = f"{base}/nothingallowed"
    assert c.create(q, acl=_only(0))[0] == 0
    assert c.delete(q) == 0


def test_admin_permission(make_raw, base):
    c = make_raw()
    p = f"{base}/noadmin"
    assert c.create(p, acl=_only(Perm.ALL & ~Perm.ADMIN))[0] == 0
    rep = c.call(Op.SET_ACL, raw.set_acl_body(p, raw.OPEN_ACL_UNSAFE, -1))
    assert rep.err == Err.NOAUTH and rep.body == b""
    assert c.get_acl(p)[0] == 0  # READ suffices


def test_get_acl_needs_read_or_admin(make_raw, base):
    c = make_raw()
    assert c.create(f"{base}/adminonly", acl=_only(Perm.ADMIN))[0] == 0
    assert c.create(f"{base}/readonly", acl=_only(Perm.READ))[0] == 0
    assert c.create(f"{base}/writeonly", acl=_only(Perm.WRITE | Perm.CREATE | Perm.DELETE))[0] == 0
    assert c.get_acl(f"{base}/adminonly")[0] == 0
    assert c.get_acl(f"{base}/readonly")[0] == 0
    rep = c.call(Op.GET_ACL, raw.path_body(f"{base}/writeonly"))
    assert rep.err == Err.NOAUTH and rep.body == b""


def test_digest_acl_access(make_raw, base):
    owner = make_raw()
    owner.add_auth("digest", "%s:%s" % ALICE)
    p = f"{base}/alice"
    assert owner.create(p, b"a", acl=[ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))])[0] == 0
    assert owner.get_data(p)[0] == 0
    stranger = make_raw()
    assert stranger.get_data(p)[0] == Err.NOAUTH
    assert stranger.set_data(p, b"x")[0] == Err.NOAUTH
    assert stranger.create(f"{p}/k")[0] == Err.NOAUTH
    stranger.add_auth("digest", "alice:wrongpassword")
    assert stranger.get_data(p)[0] == Err.NOAUTH
    stranger.add_auth("digest", "%s:%s" % ALICE)
    assert stranger.get_data(p)[1][0] == b"a"


def test_get_acl_digest_masking(make_raw, base):
    owner = make_raw()
    owner.add_auth("digest", "%s:%s" % ALICE)
    real = raw.digest_id(*ALICE)
    masked = "alice:x"
    p_read = f"{base}/readable"
    assert owner.create(p_read, acl=[ACL(Perm.READ, "world", "anyone"),
                                     ACL(Perm.ALL, "digest", real)])[0] == 0
    stranger = make_raw()
    # READ without ADMIN: digest ids masked
    err, (acl, st) = stranger.get_acl(p_read)
    assert err == 0
    assert acl == [ACL(Perm.READ, "world", "anyone"), ACL(Perm.ALL, "digest", masked)]
    # the owner has ADMIN through the digest entry: real ids
    assert owner.get_acl(p_read)[1][0] == [ACL(Perm.READ, "world", "anyone"),
                                           ACL(Perm.ALL, "digest", real)]
    p_admin = f"{base}/adminable"
    assert owner.create(p_admin, acl=[ACL(Perm.ADMIN | Perm.READ, "world", "anyone"),
                                      ACL(Perm.ALL, "digest", real)])[0] == 0
    assert stranger.get_acl(p_admin)[1][0] == [ACL(Perm.ADMIN | Perm.READ, "world", "anyone"),
                                               ACL(Perm.ALL, "digest", real)]


def test_no_auth_in_multi(make_raw, base):
    c = make_raw()
    p = f"{base}/locked"
    assert c.create(p, acl=_only(Perm.READ))[0] == 0
    err, results = c.multi([raw.m_create(f"{base}/ok"), raw.m_set_data(p, b"x")])
    assert err == 0
    assert [(r.type, r.err) for r in results] == [(-1, 0), (-1, Err.NOAUTH)]
    assert c.exists(f"{base}/ok")[0] == Err.NONODE


# ---------------------------------------------------------------- super digest

SUPER = ("super", "s3cret")


@pytest.fixture(scope="module")
def super_server(server_factory):
    settings = {"zookeeper.DigestAuthenticationProvider.superDigest": raw.digest_id(*SUPER)}
    with server_factory.running(settings, name="superdigest") as srv:
        yield srv


def test_super_bypasses_acls(super_server):
    owner = raw.connect(super_server.port)
    admin = raw.connect(super_server.port)
    try:
        owner.add_auth("digest", "%s:%s" % ALICE)
        p = "/super-test"
        assert owner.create(p, b"x", acl=[ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))])[0] == 0
        assert admin.get_data(p)[0] == Err.NOAUTH
        assert admin.add_auth("digest", "%s:%s" % SUPER) == 0
        assert _who(admin) == [("digest", "super"), ("ip", "127.0.0.1"), ("super", "")]
        assert admin.get_data(p)[1][0] == b"x"
        assert admin.set_data(p, b"y")[0] == 0
        assert admin.get_acl(p)[1][0] == [ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))]
        assert admin.set_acl(p, raw.OPEN_ACL_UNSAFE)[0] == 0
        assert admin.delete(p) == 0
    finally:
        owner.close()
        admin.close()


def test_wrong_super_password_is_plain_digest(super_server):
    c = raw.connect(super_server.port)
    try:
        assert c.add_auth("digest", "super:wrong") == 0
        assert _who(c) == [("digest", "super"), ("ip", "127.0.0.1")]
    finally:
        c.close()


# ---------------------------------------------------------------- kazoo

def test_kazoo_digest_acl(make_zk, node):
    acl = make_digest_acl(ALICE[0], ALICE[1], all=True)
    alice = make_zk(auth_data=[("digest", "%s:%s" % ALICE)])
    alice.create(node, b"mine", acl=[acl])
    stranger = make_zk()
    with pytest.raises(NoAuthError):
        stranger.get(node)
    assert alice.get(node)[0] == b"mine"
    acls, stat = alice.get_acls(node)
    assert acls[0].id.scheme == "digest" and acls[0].id.id == raw.digest_id(*ALICE)
    assert acls[0].perms == Perm.ALL
    with pytest.raises(InvalidACLError):
        stranger.create(node + "-x", acl=[KzACL(31, Id("world", "nobody"))])
