"""The history checker (history.py) on hand-made histories: it accepts correct ones, including
indeterminate operations, and reports each kind of violation. No servers involved."""
import pytest

from history import INIT, FinalState, Op, check

K, K2 = "/h/r0", "/h/r1"
SEQ = "/h/seq"
Z0 = 0x100000001  # creation zxid of K; K2 is Z0 + 1


class H:
    """Builds a history: times are given explicitly, zxids increase from Z0 + 10."""

    def __init__(self):
        self.ops = []

    def op(self, kind, key, t0, t1, status="ok", process=0, session=0x10, **kw):
        op = Op(id=len(self.ops), process=process, kind=kind, key=key, t_invoke=t0,
                t_complete=t1, status=status, session_invoke=session,
                session_complete=session, **kw)
        self.ops.append(op)
        return op

    def write(self, key, value, t0, t1, version=None, zxid=None, status="ok", **kw):
        return self.op("write", key, t0, t1, status, value=value.encode(), version=version,
                       mzxid=zxid, **kw)

    def cas(self, key, value, expected, t0, t1, version=None, zxid=None, status="ok", **kw):
        return self.op("cas", key, t0, t1, status, value=value.encode(), expected=expected,
                       version=version, mzxid=zxid, **kw)

    def read(self, key, value, version, zxid, t0, t1, kind="qread", **kw):
        return self.op(kind, key, t0, t1, "ok", read_value=value if value == INIT else
                       value.encode(), version=version, mzxid=zxid, **kw)

    def create(self, value, t0, t1, path=None, zxid=None, status="ok", **kw):
        return self.op("create", SEQ, t0, t1, status, value=value.encode(), path=path,
                       mzxid=zxid, **kw)


def final(registers, children=()):
    return FinalState(registers={k: (v if v == INIT else v.encode(), ver, z)
                                 for k, (v, ver, z) in registers.items()},
                      children={p: (v.encode(), z) for p, v, z in children},
                      init_zxid={K: Z0, K2: Z0 + 1})


def run(h, fin):
    return check(h.ops, fin, [K, K2], t_setup=0.0)


def base():
    """A correct history: two writers, a CAS, reads and creates."""
    h = H()
    h.write(K, "a", 1, 2, version=1, zxid=Z0 + 10, process=0)
    h.read(K, "a", 1, Z0 + 10, 3, 4, process=1, session=0x20)
    h.cas(K, "b", 1, 5, 6, version=2, zxid=Z0 + 11, process=1, session=0x20)
    h.write(K2, "c", 5.5, 7, version=1, zxid=Z0 + 12, process=0)
    h.read(K, "b", 2, Z0 + 11, 8, 9, kind="sync_read", process=0)
    h.create("s1", 9, 10, path=f"{SEQ}/c-0000000000", zxid=Z0 + 13, process=1, session=0x20)
    h.create("s2", 11, 12, path=f"{SEQ}/c-0000000001", zxid=Z0 + 14, process=0)
    fin = final({K: ("b", 2, Z0 + 11), K2: ("c", 1, Z0 + 12)},
                [(f"{SEQ}/c-0000000000", "s1", Z0 + 13), (f"{SEQ}/c-0000000001", "s2", Z0 + 14)])
    return h, fin


def assert_violation(res, *words):
    assert not res.ok, "expected a violation"
    text = "\n".join(res.violations)
    for w in words:
        assert w in text, f"{w!r} not in:\n{text}"


def test_correct_history_passes():
    h, fin = base()
    res = run(h, fin)
    assert res.ok, res.summary()
    assert res.stats["acked_writes"] == 5


def test_concurrent_writes_any_order_pass():
    h = H()
    # Overlapping writes may take effect in either order; reads in between are fine.
    h.write(K, "a", 1, 5, version=2, zxid=Z0 + 11, process=0)
    h.write(K, "b", 2, 4, version=1, zxid=Z0 + 10, process=1, session=0x20)
    h.read(K, "b", 1, Z0 + 10, 3, 3.5, process=2, session=0x30)
    res = run(h, final({K: ("a", 2, Z0 + 11), K2: (INIT, 0, Z0 + 1)}))
    assert res.ok, res.summary()


def test_unknown_write_seen_later_passes():
    h, fin = base()
    h.write(K, "u", 13, None, status="unknown", process=2, session=0x30)
    h.read(K, "u", 3, Z0 + 20, 14, 15, process=0)
    fin.registers[K] = (b"u", 3, Z0 + 20)
    res = run(h, fin)
    assert res.ok, res.summary()
    assert res.stats["unknown_writes_seen_applied"] == 1


def test_unknown_write_never_applied_passes():
    h, fin = base()
    h.write(K, "u", 13, None, status="unknown", process=2, session=0x30)
    h.create("s3", 13, None, status="unknown", process=2, session=0x30)
    assert run(h, fin).ok


def test_unknown_create_present_passes():
    h, fin = base()
    h.create("s3", 13, None, status="unknown", process=2, session=0x30)
    fin.children[f"{SEQ}/c-0000000002"] = (b"s3", Z0 + 15)
    assert run(h, fin).ok


def test_stale_sync_read_is_counted_not_a_violation():
    h, fin = base()
    h.read(K, "a", 1, Z0 + 10, 20, 21, kind="sync_read", process=2, session=0x30)
    res = run(h, fin)
    assert res.ok, res.summary()
    assert res.stats["stale_sync_reads"] == 1


def test_lost_acknowledged_write():
    h, fin = base()
    fin.registers[K] = (b"a", 1, Z0 + 10)
    assert_violation(run(h, fin), "acknowledged write lost")


def test_lost_acknowledged_create():
    h, fin = base()
    del fin.children[f"{SEQ}/c-0000000001"]
    assert_violation(run(h, fin), "acknowledged create lost")


def test_create_applied_twice():
    h, fin = base()
    fin.children[f"{SEQ}/c-0000000002"] = (b"s2", Z0 + 15)
    assert_violation(run(h, fin), "create applied twice")


def test_phantom_value():
    h, fin = base()
    h.read(K2, "zzz", 2, Z0 + 30, 13, 14, kind="read")
    assert_violation(run(h, fin), "which no client wrote")


def test_two_values_for_one_version():
    h, fin = base()
    h.write(K, "x", 13, 14, version=2, zxid=Z0 + 20, process=2, session=0x30)
    assert_violation(run(h, fin), "has two values")


def test_write_applied_twice():
    h, fin = base()
    h.read(K, "a", 3, Z0 + 20, 13, 14, kind="read", process=2, session=0x30)
    assert_violation(run(h, fin), "applied twice")


def test_failed_cas_value_seen():
    h, fin = base()
    h.cas(K, "f", 0, 13, 14, status="fail", error="BadVersionError", process=2, session=0x30)
    h.read(K, "f", 3, Z0 + 20, 15, 16, kind="read", process=2, session=0x30)
    assert_violation(run(h, fin), "write that failed")


def test_cas_not_consecutive():
    h, fin = base()
    h.ops[2].version = 3
    assert_violation(run(h, fin), "CAS from version 1 produced version 3")


def test_stale_linearizable_read():
    h, fin = base()
    # qread invoked after version 2 was acknowledged returns version 1.
    h.read(K, "a", 1, Z0 + 10, 7, 7.5, process=2, session=0x30)
    assert_violation(run(h, fin), "not linearizable")


def test_read_from_the_future():
    h, fin = base()
    # qread completed before the write of version 2 was even invoked.
    h.read(K, "b", 2, Z0 + 11, 4.2, 4.8, process=2, session=0x30)
    assert_violation(run(h, fin), "not linearizable")


def test_writes_out_of_real_time_order_across_keys():
    h, fin = base()
    # K2's write was acknowledged (t=7) before this one was invoked, yet has a smaller zxid.
    h.write(K, "late", 7.5, 7.9, version=3, zxid=Z0 + 4, process=2, session=0x30)
    fin.registers[K] = (b"late", 3, Z0 + 4)
    assert_violation(run(h, fin), "real-time order")


def test_zxid_used_twice():
    h, fin = base()
    h.ops[3].mzxid = Z0 + 10
    fin.registers[K2] = (b"c", 1, Z0 + 10)
    assert_violation(run(h, fin), "used by two transactions")


def test_version_gap_needs_a_write():
    h, fin = base()
    fin.registers[K] = (b"b", 2, Z0 + 11)
    h.read(K2, "c", 1, Z0 + 12, 13, 14)
    fin.registers[K2] = (b"c", 1, Z0 + 12)
    assert run(h, fin).ok
    # version 3 of K seen with the value of an unacknowledged write: fine; version 4 with a
    # known value but nothing to explain version 3 -> violation.
    h.write(K, "q", 13, 14, version=4, zxid=Z0 + 30, process=2, session=0x30)
    fin.registers[K] = (b"q", 4, Z0 + 30)
    assert_violation(run(h, fin), "made by no recorded write")
    h.write(K, "u", 12.5, None, status="unknown", process=3, session=0x40)
    assert run(h, fin).ok


def test_session_reads_go_back():
    h, fin = base()
    h.read(K, "a", 1, Z0 + 10, 13, 14, kind="read", process=1, session=0x20)
    assert_violation(run(h, fin), "read version 1 of /h/r0 after seeing version 2")


def test_session_cross_key_horizon():
    h = H()
    h.write(K, "a", 1, 2, version=1, zxid=Z0 + 10, process=0)
    h.write(K2, "b", 3, 4, version=1, zxid=Z0 + 11, process=1, session=0x20)
    # process 1 saw zxid Z0+11 (its own write), then reads K at version 0 although version 1
    # (mzxid Z0+10 <= Z0+11) was applied before: its server went back in time.
    h.read(K, INIT, 0, Z0, 5, 6, kind="read", process=1, session=0x20)
    res = run(h, final({K: ("a", 1, Z0 + 10), K2: ("b", 1, Z0 + 11)}))
    assert_violation(res, "had seen zxid")


def test_new_session_may_start_over():
    h = H()
    h.write(K, "a", 1, 2, version=1, zxid=Z0 + 10, process=0)
    h.read(K, "a", 1, Z0 + 10, 3, 4, kind="read", process=1, session=0x20)
    # the same client after its session expired: a new session may land on a lagging member
    h.read(K, INIT, 0, Z0, 5, 6, kind="read", process=1, session=0x21)
    res = run(h, final({K: ("a", 1, Z0 + 10), K2: (INIT, 0, Z0 + 1)}))
    assert res.ok, res.summary()


@pytest.mark.parametrize("kind", ["read", "sync_read"])
def test_plain_and_sync_reads_not_held_to_real_time(kind):
    h, fin = base()
    h.read(K, "a", 1, Z0 + 10, 30, 31, kind=kind, process=3, session=0x50)
    assert run(h, fin).ok
