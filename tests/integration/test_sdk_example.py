"""The SDK example (sdk/examples/acl_token), built out of tree against the installed SDK,
loaded by name from the config and used end to end with kazoo's add_auth.

tests/run-all.sh builds the example and sets CORRAL_EXAMPLE_PLUGIN_DIR; a run without it
(e.g. a developer running pytest alone) skips these tests.
"""
import hashlib
import hmac
import os
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, NoAuthError
from kazoo.security import make_acl

pytestmark = pytest.mark.corral_only

SECRET = "example-secret-with-enough-length"


@pytest.fixture
def token_server(start_server):
    plugin_dir = os.environ.get("CORRAL_EXAMPLE_PLUGIN_DIR")
    if not plugin_dir or not os.path.isfile(os.path.join(plugin_dir, "libcorral_acl_token.so")):
        pytest.skip("CORRAL_EXAMPLE_PLUGIN_DIR does not hold the built example (tests/run-all.sh builds it)")
    return start_server({"plugin.dir": plugin_dir, "acl.schemes": "digest,ip,token", "token.secret": SECRET})


def mint(user, expiry, secret=SECRET):
    message = f"{user}:{expiry}"
    return message + ":" + hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def client(srv):
    zk = KazooClient(hosts=srv.hosts, timeout=10)
    zk.start(timeout=10)
    return zk


def test_token_grants_its_acl_and_others_are_refused(token_server):
    alice = client(token_server)
    stranger = client(token_server)
    try:
        alice.add_auth("token", mint("alice", int(time.time()) + 300))
        alice.create("/tokened", b"secret", acl=[make_acl("token", "alice", all=True)])
        assert alice.get("/tokened")[0] == b"secret"
        with pytest.raises(NoAuthError):
            stranger.get("/tokened")
        # `auth` ACL entries expand to the token id, as for digest
        alice.create("/mine", b"", acl=[make_acl("auth", "", all=True)])
        assert alice.get_acls("/mine")[0] == [make_acl("token", "alice", all=True)]
    finally:
        alice.stop()
        stranger.stop()


@pytest.mark.parametrize("token", [
    mint("alice", int(time.time()) - 10),                  # expired
    mint("alice", int(time.time()) + 300, "wrong-secret-wrong-secret"),  # forged
    "not-a-token",
])
def test_bad_tokens_fail_authentication(token_server, token):
    zk = client(token_server)
    try:
        with pytest.raises(AuthFailedError):
            zk.add_auth("token", token)
    finally:
        zk.stop()


def test_token_acl_ids_are_validated(token_server):
    zk = client(token_server)
    try:
        from kazoo.exceptions import InvalidACLError
        with pytest.raises(InvalidACLError):
            zk.create("/badacl", b"", acl=[make_acl("token", "has space", read=True)])
    finally:
        zk.stop()
