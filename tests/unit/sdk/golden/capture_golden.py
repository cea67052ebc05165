#!/usr/bin/python3
"""Generator for the golden bytes in jute_golden_test.cc.

Not run by the build. It talks to a real Apache ZooKeeper 3.8 server (Debian package
`zookeeper`, started standalone on loopback with -Dzookeeper.extendedTypesEnabled=true, see
/work/shared/reference/reference-server.md) and prints `name hex` lines:

  * raw reply frames (int32 len + payload) the server sent to hand-built requests;
  * the request frames kazoo (a client that mirrors the Java client's encoding) wrote, captured
    through a small TCP proxy;
  * every txn-log entry (TxnHeader + body + TxnDigest, i.e. the bytes covered by the Adler32)
    from <dataDir>/version-2/log.*.

Usage: capture_golden.py PORT DATADIR   (DATADIR must be fresh: the script expects zxid 1..N)
"""
import glob
import socket
import struct
import sys
import threading
import time


def jint(v): return struct.pack('>i', v)
def jlong(v): return struct.pack('>q', v)
def jbool(v): return b'\x01' if v else b'\x00'


def jstr(s):
    if s is None:
        return jint(-1)
    b = s.encode()
    return jint(len(b)) + b


def jbuf(b):
    if b is None:
        return jint(-1)
    return jint(len(b)) + b


def acl_open():
    return jint(1) + jint(31) + jstr('world') + jstr('anyone')


def frame(payload): return jint(len(payload)) + payload


def recv_exact(s, n):
    out = b''
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError('closed')
        out += chunk
    return out


def recv_frame(s):
    hdr = recv_exact(s, 4)
    (n,) = struct.unpack('>i', hdr)
    return hdr + recv_exact(s, n)


def connect(port):
    s = socket.create_connection(('127.0.0.1', port))
    req = jint(0) + jlong(0) + jint(10000) + jlong(0) + jbuf(b'\0' * 16) + jbool(False)
    s.sendall(frame(req))
    return s, recv_frame(s)


def call(s, xid, op, body=b''):
    s.sendall(frame(jint(xid) + jint(op) + body))
    return recv_frame(s)


def emit(name, data):
    print(name, data.hex())


def main():
    port = int(sys.argv[1])
    datadir = sys.argv[2]

    a, resp = connect(port)
    emit('connect_response', resp)
    emit('create_reply', call(a, 1, 1, jstr('/golden') + jbuf(b'hello') + acl_open() + jint(0)))
    emit('create2_reply', call(a, 2, 15, jstr('/golden/nulldata') + jbuf(None) + acl_open() + jint(0)))
    emit('get_data_reply', call(a, 3, 4, jstr('/golden') + jbool(True)))
    emit('get_data_null_reply', call(a, 4, 4, jstr('/golden/nulldata') + jbool(False)))

    b, _ = connect(port)
    emit('set_data_reply', call(b, 1, 5, jstr('/golden') + jbuf(b'world') + jint(-1)))
    emit('watch_event', recv_frame(a))

    def mh(t, done=False, err=-1): return jint(t) + jbool(done) + jint(err)
    multi_ok = (mh(1) + jstr('/golden/m1') + jbuf(b'x') + acl_open() + jint(0) +
                mh(5) + jstr('/golden') + jbuf(b'm') + jint(-1) +
                mh(13) + jstr('/golden') + jint(2) +
                mh(2) + jstr('/golden/nulldata') + jint(-1) +
                mh(-1, True, -1))
    emit('multi_request_ok', frame(jint(5) + jint(14) + multi_ok))
    emit('multi_reply_ok', call(a, 5, 14, multi_ok))
    multi_fail = (mh(1) + jstr('/golden/m2') + jbuf(b'') + acl_open() + jint(0) +
                  mh(2) + jstr('/golden/missing') + jint(-1) +
                  mh(5) + jstr('/golden') + jbuf(b'z') + jint(-1) +
                  mh(-1, True, -1))
    emit('multi_reply_fail', call(a, 6, 14, multi_fail))
    emit('get_children2_reply', call(a, 7, 12, jstr('/golden') + jbool(False)))
    emit('get_acl_reply', call(a, 8, 6, jstr('/golden')))
    emit('exists_nonode_reply', call(a, 9, 3, jstr('/nope') + jbool(False)))
    emit('create_ttl_reply', call(a, 10, 21, jstr('/golden/ttl') + jbuf(b't') + acl_open() + jint(5) + jlong(600000)))
    emit('create_container_reply', call(a, 11, 19, jstr('/golden/cont') + jbuf(b'') + acl_open() + jint(4)))
    digest_acl = jint(1) + jint(31) + jstr('digest') + jstr('u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=')
    emit('set_acl_reply', call(a, 12, 7, jstr('/golden/m1') + digest_acl + jint(-1)))
    emit('create_exists_reply', call(a, 13, 1, jstr('/golden') + jbuf(b'') + acl_open() + jint(0)))
    emit('create_ephemeral_reply', call(a, 14, 1, jstr('/golden/eph') + jbuf(b'e') + acl_open() + jint(1)))
    emit('whoami_reply', call(a, 15, 107))
    emit('ping_reply', call(a, -2, 11))
    emit('close_reply', call(a, 16, -11))
    a.close()
    b.close()

    # kazoo's request frames, via a recording proxy.
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(1)
    pport = lsock.getsockname()[1]
    recorded = []

    def proxy():
        c, _ = lsock.accept()
        u = socket.create_connection(('127.0.0.1', port))

        def pump(src, dst, rec):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    if rec is not None:
                        rec.append(d)
                    dst.sendall(d)
            except OSError:
                pass
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        t = threading.Thread(target=pump, args=(u, c, None), daemon=True)
        t.start()
        pump(c, u, recorded)

    threading.Thread(target=proxy, daemon=True).start()
    from kazoo.client import KazooClient
    zk = KazooClient(hosts='127.0.0.1:%d' % pport)
    zk.start()
    zk.create('/golden/kz', b'kz', ephemeral=True)
    tx = zk.transaction()
    tx.create('/golden/kz2', b'a')
    tx.check('/golden', 2)
    tx.set_data('/golden', b'b')
    tx.delete('/golden/kz2')
    tx.commit()
    zk.stop()
    zk.close()
    time.sleep(0.3)
    stream = b''.join(recorded)
    pos = 0
    idx = 0
    while pos + 4 <= len(stream):
        (n,) = struct.unpack('>i', stream[pos:pos + 4])
        emit('kazoo_request_%d' % idx, stream[pos:pos + 4 + n])
        pos += 4 + n
        idx += 1

    # A standalone check (13) with the right version: 3.8.0 sends no reply but logs a
    # top-level CheckVersionTxn (which its own SerializeUtils cannot read back).
    c, _ = connect(port)
    c.sendall(frame(jint(1) + jint(13) + jstr('/golden') + jint(3)))
    c.settimeout(1.0)
    try:
        emit('standalone_check_reply', recv_frame(c))
    except socket.timeout:
        pass
    c.close()

    # Txn log entries.
    time.sleep(0.5)
    for path in sorted(glob.glob(datadir + '/version-2/log.*')):
        with open(path, 'rb') as f:
            data = f.read()
        emit('log_file_header', data[:16])
        pos = 16
        while pos + 12 <= len(data):
            (crc, n) = struct.unpack('>qi', data[pos:pos + 12])
            if n == 0:
                break
            entry = data[pos + 12:pos + 12 + n]
            zxid, typ = struct.unpack('>q', entry[12:20])[0], struct.unpack('>i', entry[28:32])[0]
            emit('txn_zxid%d_type%d crc=%d' % (zxid, typ, crc), entry)
            pos += 12 + n + 1


if __name__ == '__main__':
    main()
