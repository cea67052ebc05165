"""TLS on secureClientPort with PEM key and trust stores, and the x509 ACL scheme.

Both servers get the same settings: ZooKeeper's zoo.cfg keys `secureClientPort`,
`secureClientPortAddress`, `serverCnxnFactory=...NettyServerCnxnFactory` (ZooKeeper serves TLS
only with Netty) and `ssl.*` (which ZooKeeper turns into `zookeeper.ssl.*` properties). Corral
additionally gets `acl.schemes=digest,ip,x509`: ZooKeeper registers its x509 provider by itself
whenever secureClientPort is set.

Certificates are generated at test time (tls_certs.py). ssl.clientAuth defaults to `need` and
ssl.protocol to TLSv1.2 on both servers.

The Debian libzookeeper-mt is built without SSL (no zookeeper_init_ssl), so the C client is not
exercised over TLS here.
"""
import socket
import ssl
import struct

import pytest

from harness import raw
from harness.servers import free_port
from tls_certs import CertificateSet

NETTY = "org.apache.zookeeper.server.NettyServerCnxnFactory"
WHO_AM_I = 107


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return CertificateSet(str(tmp_path_factory.mktemp("tls-certs")))


def tls_settings(impl, certs, keystore=None, **extra):
    settings = {
        "secureClientPort": free_port(),
        "secureClientPortAddress": "127.0.0.1",
        "serverCnxnFactory": NETTY,
        "ssl.keyStore.location": keystore or certs.server.keystore,
        "ssl.keyStore.type": "PEM",
        "ssl.trustStore.location": certs.ca.pem,
        "ssl.trustStore.type": "PEM",
        "4lw.commands.whitelist": "srvr,ruok",
    }
    if impl == "corral":
        # ZooKeeper loads its x509 provider whenever secureClientPort is set; Corral's schemes
        # are plugins named in acl.schemes.
        settings["acl.schemes"] = "digest,ip,x509"
    settings.update(extra)
    return settings


@pytest.fixture(scope="module")
def tls_server(server_factory, impl, certs):
    """A TLS server with ssl.clientAuth left at its default (need) and a super user."""
    settings = tls_settings(impl, certs)
    settings["zookeeper.X509AuthenticationProvider.superUser"] = certs.admin.subject
    with server_factory.running(settings, name="tls") as srv:
        yield srv


def secure_port(srv):
    return int(srv.settings["secureClientPort"])


def client_context(certs, identity=None, maximum=None, minimum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(certs.ca.pem)
    if identity is not None:
        ctx.load_cert_chain(identity.cert, identity.key)
    if maximum is not None:
        ctx.maximum_version = maximum
    if minimum is not None:
        ctx.minimum_version = minimum
    return ctx


class TlsRaw(raw.RawConnection):
    """raw.RawConnection over TLS (the handshake runs in the constructor)."""

    def __init__(self, port, ctx, host="127.0.0.1", timeout=10.0):  # noqa: super not called
        self.port = port
        self.host = host
        self.timeout = timeout
        plain = socket.create_connection((host, port), timeout=timeout)
        plain.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = ctx.wrap_socket(plain)
        except BaseException:
            plain.close()
            raise
        self._buf = b""
        self._closed = False
        self.next_xid = 1
        self.events = []
        self.session = None

    def _fill(self, n, deadline):
        try:
            return super()._fill(n, deadline)
        except ssl.SSLError:
            # An alert (e.g. certificate_required after a TLS 1.3 handshake) ends the stream.
            self._closed = True
            raise raw.ConnectionClosed()


def tls_session(srv, certs, identity):
    conn = TlsRaw(secure_port(srv), client_context(certs, identity))
    conn.handshake()
    return conn


def who_am_i(conn):
    rep = conn.call(WHO_AM_I)
    assert rep.err == 0, rep
    r = rep.r
    return sorted(r.vector(lambda rr: (rr.string(), rr.string())))


def refused(port, ctx):
    """True when the server rejects the TLS client: the handshake fails, or the server ends
    the connection without answering a ConnectRequest."""
    try:
        conn = TlsRaw(port, ctx, timeout=10.0)
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    try:
        conn.send_frame(raw.connect_request())
        conn.read_frame(10.0)
    except (raw.ConnectionClosed, ssl.SSLError, ConnectionError):
        return True
    finally:
        conn.close()
    return False


def kazoo_tls(srv, certs, identity, **kw):
    from kazoo.client import KazooClient

    return KazooClient(hosts=f"127.0.0.1:{secure_port(srv)}", use_ssl=True, ca=certs.ca.pem,
                       certfile=identity.cert, keyfile=identity.key, verify_certs=True,
                       timeout=10.0, **kw)


@pytest.fixture
def tls_clients():
    clients = []
    yield clients
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass


# --------------------------------------------------------------------------------- basics

def test_kazoo_over_tls(tls_server, certs, tls_clients, node, make_zk):
    zk = kazoo_tls(tls_server, certs, certs.client_a)
    tls_clients.append(zk)
    zk.start(timeout=15)
    zk.create(node, b"over tls")
    data, stat = zk.get(node)
    assert data == b"over tls" and stat.version == 0
    zk.set(node, b"v2")
    # The plaintext clientPort is still served next to the secure one and sees the same tree.
    plain = make_zk(tls_server)
    assert plain.get(node)[0] == b"v2"
    zk.delete(node)
    assert plain.exists(node) is None


def test_raw_handshake_and_whoami_over_tls(tls_server, certs):
    conn = tls_session(tls_server, certs, certs.client_a)
    try:
        assert conn.session.session_id != 0 and conn.session.timeout > 0
        ids = who_am_i(conn)
        assert ("x509", certs.client_a.subject) in ids
        assert ("ip", "127.0.0.1") in ids
        assert not any(scheme == "super" for scheme, _ in ids)
    finally:
        conn.end_session()


def test_x509_subject_is_java_rfc2253(tls_server, certs):
    """RDNs most specific first, escapes for , + = and a leading space, as X500Principal.getName()."""
    conn = tls_session(tls_server, certs, certs.tricky)
    try:
        assert ("x509", certs.tricky.subject) in who_am_i(conn)
    finally:
        conn.end_session()


def test_four_letter_word_over_tls(tls_server, certs):
    conn = TlsRaw(secure_port(tls_server), client_context(certs, certs.client_a))
    try:
        conn.send_raw(b"srvr")
        out = b""
        while True:
            try:
                chunk = conn.sock.recv(65536)
            except ssl.SSLError:
                break
            if not chunk:
                break
            out += chunk
        assert out.startswith(b"Zookeeper version:"), out
        assert b"Mode: standalone" in out
    finally:
        conn.close()


def test_plain_client_refused_on_secure_port(tls_server):
    port = secure_port(tls_server)
    conn = raw.RawConnection(port)
    try:
        conn.send_frame(raw.connect_request())
        received = b""
        conn.sock.settimeout(10.0)
        while True:
            try:
                chunk = conn.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                break
            if not chunk:
                break
            received += chunk
        # Closed; at most a TLS alert record (content type 21), never a ConnectResponse.
        assert received == b"" or received[0] == 0x15, received.hex()
    finally:
        conn.close()
    # A four-letter word in plaintext (as `echo ruok | nc` sends it: the TLS record header
    # needs a fifth byte) gets no answer either.
    assert "imok" not in raw.four_letter(port, "ruok", b"\n")
    # The plaintext port still works.
    assert raw.try_handshake(tls_server.port, timeout=5.0)


# ------------------------------------------------------------------------ refused clients

def test_client_without_certificate_refused_when_need(tls_server, certs):
    assert refused(secure_port(tls_server), client_context(certs, None))


def test_untrusted_client_certificate_refused(tls_server, certs):
    assert refused(secure_port(tls_server), client_context(certs, certs.untrusted))


def test_expired_client_certificate_refused(tls_server, certs):
    assert refused(secure_port(tls_server), client_context(certs, certs.expired))


def test_trusted_certificate_accepted_for_comparison(tls_server, certs):
    assert not refused(secure_port(tls_server), client_context(certs, certs.client_b))


def test_client_not_trusting_server_fails(tls_server, certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(certs.rogue_ca.pem)
    ctx.load_cert_chain(certs.client_a.cert, certs.client_a.key)
    with pytest.raises(ssl.SSLCertVerificationError):
        TlsRaw(secure_port(tls_server), ctx)


def test_tls13_client_refused_by_default_tls12_server(tls_server, certs):
    """ssl.protocol defaults to TLSv1.2, and enabledProtocols to just that protocol."""
    ctx = client_context(certs, certs.client_a, minimum=ssl.TLSVersion.TLSv1_3)
    assert refused(secure_port(tls_server), ctx)
    conn = TlsRaw(secure_port(tls_server), client_context(certs, certs.client_a))
    try:
        assert conn.sock.version() == "TLSv1.2"
    finally:
        conn.close()


# ------------------------------------------------------------------------------ x509 ACLs

def test_x509_acl_end_to_end(tls_server, certs, node):
    a = tls_session(tls_server, certs, certs.client_a)
    b = tls_session(tls_server, certs, certs.client_b)
    plain = raw.connect(tls_server.port)
    try:
        acl = [(raw.Perm.ALL, "x509", certs.client_a.subject)]
        assert a.create(node, b"secret", acl=acl) == (0, node)
        assert a.get_data(node)[0] == 0
        assert a.get_data(node)[1][0] == b"secret"
        assert b.get_data(node)[0] == raw.Err.NOAUTH
        assert plain.get_data(node)[0] == raw.Err.NOAUTH
        assert b.set_data(node, b"x")[0] == raw.Err.NOAUTH
        err, (got, _) = a.get_acl(node)
        assert err == 0 and got == acl
        assert a.delete(node) == 0
    finally:
        for c in (a, b, plain):
            c.end_session()


def test_auth_acl_expands_to_x509_id(tls_server, certs, node):
    """x509 ids are 'authenticated' ids: CREATOR_ALL_ACL (auth:) becomes x509:<subject>."""
    a = tls_session(tls_server, certs, certs.client_a)
    try:
        assert a.create(node, acl=[(raw.Perm.ALL, "auth", "")]) == (0, node)
        err, (got, _) = a.get_acl(node)
        assert err == 0 and got == [(raw.Perm.ALL, "x509", certs.client_a.subject)]
        assert a.delete(node) == 0
    finally:
        a.end_session()


def test_kazoo_x509_acl(tls_server, certs, tls_clients, node):
    from kazoo.exceptions import NoAuthError
    from kazoo.security import ACL, Id, Permissions

    a = kazoo_tls(tls_server, certs, certs.client_a)
    b = kazoo_tls(tls_server, certs, certs.client_b)
    tls_clients.extend([a, b])
    a.start(timeout=15)
    b.start(timeout=15)
    a.create(node, b"mine", acl=[ACL(Permissions.ALL, Id("x509", certs.client_a.subject))])
    assert a.get(node)[0] == b"mine"
    with pytest.raises(NoAuthError):
        b.get(node)
    a.delete(node)


def test_x509_super_user(tls_server, certs, node):
    a = tls_session(tls_server, certs, certs.client_a)
    admin = tls_session(tls_server, certs, certs.admin)
    try:
        assert a.create(node, b"a", acl=[(raw.Perm.READ, "x509", certs.client_a.subject)]) == (0, node)
        assert admin.get_data(node)[0] == 0
        assert admin.set_data(node, b"by admin")[0] == 0
        ids = who_am_i(admin)
        assert ("x509", certs.admin.subject) in ids
        assert ("super", "") in ids  # whoAmI shows no user for the provider-less super scheme
        assert admin.delete(node) == 0
    finally:
        a.end_session()
        admin.end_session()


def test_x509_acl_id_validation(tls_server, certs, node):
    a = tls_session(tls_server, certs, certs.client_a)
    try:
        for bad in ("not a dn", "CN", "FOO=bar", "CN=a,", "CN=a<b"):
            assert a.create(node, acl=[(raw.Perm.ALL, "x509", bad)]) == (raw.Err.INVALIDACL, None), bad
        assert a.create(node, acl=[(raw.Perm.ALL, "x509", "CN=someone, O=Elsewhere")]) == (0, node)
        # Ids match by exact string: the caller's id is the RFC 2253 form, this one is not.
        assert a.get_data(node)[0] == raw.Err.NOAUTH
        assert a.delete(node) == 0
    finally:
        a.end_session()


def test_addauth_x509(tls_server, certs):
    """An AuthPacket with scheme x509 is answered from the TLS certificate (auth bytes are
    ignored); on a plaintext connection there is none: AuthFailed, then closed."""
    conn = tls_session(tls_server, certs, certs.client_b)
    try:
        rep = conn.call(raw.Op.AUTH, raw.auth_body("x509", b"ignored"), xid=raw.Xid.AUTH)
        assert (rep.xid, rep.err) == (raw.Xid.AUTH, 0)
        assert ("x509", certs.client_b.subject) in who_am_i(conn)
    finally:
        conn.end_session()
    plain = raw.connect(tls_server.port)
    try:
        rep = plain.call(raw.Op.AUTH, raw.auth_body("x509", b""), xid=raw.Xid.AUTH)
        assert (rep.xid, rep.err) == (raw.Xid.AUTH, raw.Err.AUTHFAILED)
        assert plain.is_closed()
    finally:
        plain.close()


# -------------------------------------------------------------------- other configurations

def test_client_auth_want(start_server, impl, certs):
    srv = start_server(tls_settings(impl, certs, **{"ssl.clientAuth": "want"}))
    anonymous = TlsRaw(secure_port(srv), client_context(certs, None))
    try:
        anonymous.handshake()
        ids = who_am_i(anonymous)
        assert not any(scheme == "x509" for scheme, _ in ids)
    finally:
        anonymous.end_session()
    # A certificate, when given, must still be trusted; a trusted one gives the x509 id.
    assert refused(secure_port(srv), client_context(certs, certs.untrusted))
    conn = tls_session(srv, certs, certs.client_a)
    try:
        assert ("x509", certs.client_a.subject) in who_am_i(conn)
    finally:
        conn.end_session()


def test_client_auth_none(start_server, impl, certs):
    srv = start_server(tls_settings(impl, certs, **{"ssl.clientAuth": "none"}))
    conn = tls_session(srv, certs, certs.client_a)  # the certificate is not asked for
    try:
        assert not any(scheme == "x509" for scheme, _ in who_am_i(conn))
    finally:
        conn.end_session()
    anonymous = TlsRaw(secure_port(srv), client_context(certs, None))
    try:
        assert anonymous.handshake().session_id != 0
    finally:
        anonymous.end_session()


TLS13_AND_DEFAULT_SUITES = ",".join([
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"])


def test_tls13_only(start_server, impl, certs):
    """TLS 1.3 needs its suites named in ssl.ciphersuites: ZooKeeper's default list has only
    TLS 1.2 ECDHE suites."""
    srv = start_server(tls_settings(impl, certs, **{"ssl.protocol": "TLSv1.3",
                                                    "ssl.ciphersuites": TLS13_AND_DEFAULT_SUITES}))
    conn = tls_session(srv, certs, certs.client_a)
    try:
        assert conn.sock.version() == "TLSv1.3"
        assert ("x509", certs.client_a.subject) in who_am_i(conn)
    finally:
        conn.end_session()
    assert refused(secure_port(srv), client_context(certs, certs.client_a,
                                                    maximum=ssl.TLSVersion.TLSv1_2))


def test_enabled_protocols_both(start_server, impl, certs):
    srv = start_server(tls_settings(impl, certs, **{"ssl.enabledProtocols": "TLSv1.3,TLSv1.2",
                                                    "ssl.ciphersuites": TLS13_AND_DEFAULT_SUITES}))
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        ctx = client_context(certs, certs.client_a, minimum=version, maximum=version)
        conn = TlsRaw(secure_port(srv), ctx)
        try:
            assert conn.sock.version() == name
            assert conn.handshake().session_id != 0
        finally:
            conn.end_session()


def test_default_suites_give_no_tls13(start_server, impl, certs):
    """Both protocols enabled, ssl.ciphersuites unset: only TLS 1.2 can be negotiated."""
    srv = start_server(tls_settings(impl, certs, **{"ssl.enabledProtocols": "TLSv1.3,TLSv1.2"}))
    conn = TlsRaw(secure_port(srv), client_context(certs, certs.client_a))
    try:
        assert conn.sock.version() == "TLSv1.2"
    finally:
        conn.close()
    assert refused(secure_port(srv), client_context(certs, certs.client_a,
                                                    minimum=ssl.TLSVersion.TLSv1_3))


def test_cipher_suite_restriction(start_server, impl, certs):
    srv = start_server(tls_settings(
        impl, certs, **{"ssl.ciphersuites": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}))
    ctx = client_context(certs, certs.client_a)
    conn = TlsRaw(secure_port(srv), ctx)
    try:
        assert conn.sock.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
    finally:
        conn.close()
    only_128 = client_context(certs, certs.client_a)
    only_128.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    assert refused(secure_port(srv), only_128)


def test_encrypted_private_key(start_server, impl, certs):
    srv = start_server(tls_settings(impl, certs, keystore=certs.server_encrypted.keystore,
                                    **{"ssl.keyStore.password": "s3cret"}))
    conn = tls_session(srv, certs, certs.client_a)
    try:
        assert conn.session.session_id != 0
    finally:
        conn.end_session()


# ------------------------------------------------------------ start-up errors (Corral only)

@pytest.mark.corral_only
def test_tls13_only_without_tls13_suites_stops_the_server(server_factory, impl, certs):
    """ZooKeeper 3.8 starts with ssl.protocol=TLSv1.3 and the default (TLS 1.2) suites, then
    fails every TLS handshake; Corral refuses the configuration at start instead."""
    from harness.servers import ServerStartError

    with pytest.raises(ServerStartError) as failure:
        server_factory.start(tls_settings(impl, certs, **{"ssl.protocol": "TLSv1.3"}))
    assert "TLS 1.3" in str(failure.value) and "ssl.ciphersuites" in str(failure.value)


@pytest.mark.corral_only
@pytest.mark.parametrize("case", ["missing", "garbage", "key_mismatch", "no_password", "bad_password"])
def test_bad_certificate_files_stop_the_server(server_factory, impl, certs, tmp_path, case):
    """Corral loads the key and trust stores when it starts, and refuses to start on a bad
    file with a message naming the key and the file. ZooKeeper 3.8 builds its SSLContext lazily
    for each new TLS connection, so it starts and then fails every TLS handshake instead."""
    from harness.servers import ServerStartError

    extra = {}
    if case == "missing":
        keystore = str(tmp_path / "nope.pem")
        expect = "cannot read the file"
    elif case == "garbage":
        keystore = str(tmp_path / "garbage.pem")
        (tmp_path / "garbage.pem").write_text("not a pem file\n")
        expect = "no PRIVATE KEY"
    elif case == "key_mismatch":
        keystore = str(tmp_path / "mismatch.pem")
        with open(certs.client_a.key) as k, open(certs.server.cert) as c:
            (tmp_path / "mismatch.pem").write_text(k.read() + c.read())
        expect = "does not match"
    elif case == "no_password":
        keystore = certs.server_encrypted.keystore
        expect = "ssl.keyStore.password is not set"
    else:
        keystore = certs.server_encrypted.keystore
        extra["ssl.keyStore.password"] = "wrong"
        expect = "cannot read the private key"
    with pytest.raises(ServerStartError) as failure:
        server_factory.start(tls_settings(impl, certs, keystore=keystore, **extra))
    assert "ssl.keyStore.location" in str(failure.value)
    assert expect in str(failure.value)
    assert keystore in str(failure.value)
