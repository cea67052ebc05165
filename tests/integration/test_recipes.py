"""kazoo recipes end to end: each recipe is a protocol workout (sequential ephemerals,
watches on predecessors, versioned sets, multi) whose outcome the server must get right."""
import threading

import pytest
from kazoo.exceptions import (BadVersionError, LockTimeout, NoNodeError, NodeExistsError, NotEmptyError,
                              RolledBackError, RuntimeInconsistency)
from kazoo.protocol.states import EventType as KzEventType
from kazoo.recipe.barrier import Barrier, DoubleBarrier
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.recipe.lock import Lock, Semaphore
from kazoo.recipe.party import Party, ShallowParty
from kazoo.recipe.queue import LockingQueue, Queue
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

from harness.util import wait_until


def _thread(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


# ----------------------------------------------------------------------------- locks

def test_lock_contention_fifo_release_order(make_zk, node):
    a, b, c = make_zk(), make_zk(), make_zk()
    la, lb, lc = Lock(a, node, "A"), Lock(b, node, "B"), Lock(c, node, "C")
    assert la.acquire(timeout=10)
    order = []
    got = {"B": threading.Event(), "C": threading.Event()}

    def take(lock, name):
        assert lock.acquire(timeout=30)
        order.append(name)
        got[name].set()

    tb = _thread(take, lb, "B")
    wait_until(lambda: la.contenders() == ["A", "B"], timeout=10)
    tc = _thread(take, lc, "C")
    wait_until(lambda: la.contenders() == ["A", "B", "C"], timeout=10)
    assert not got["B"].is_set() and not got["C"].is_set()
    la.release()
    assert got["B"].wait(10)
    assert not got["C"].is_set()
    assert lb.contenders() == ["B", "C"]
    lb.release()
    assert got["C"].wait(10)
    lc.release()
    tb.join(5)
    tc.join(5)
    assert order == ["B", "C"]
    assert a.get_children(node) == []


def test_lock_non_blocking_and_timeout(make_zk, node):
    a, b = make_zk(), make_zk()
    la, lb = Lock(a, node, "A"), Lock(b, node, "B")
    assert la.acquire(blocking=False)
    assert not lb.acquire(blocking=False)
    with pytest.raises(LockTimeout):
        lb.acquire(timeout=0.3)
    # failed attempts leave no contender node behind
    assert la.contenders() == ["A"]
    la.release()
    assert lb.acquire(blocking=False)
    lb.release()


def test_lock_holder_session_close_hands_over(make_zk, node):
    a, b = make_zk(), make_zk()
    la, lb = Lock(a, node, "A"), Lock(b, node, "B")
    assert la.acquire(timeout=10)
    done = threading.Event()
    _thread(lambda: lb.acquire(timeout=30) and done.set())
    wait_until(lambda: lb.contenders() == ["A", "B"], timeout=10)
    a.stop()  # closeSession: the ephemeral lock node goes, B's watch fires
    assert done.wait(10)
    assert lb.contenders() == ["B"]
    lb.release()


def test_semaphore_leases(make_zk, node):
    clients = [make_zk() for _ in range(3)]
    sems = [Semaphore(c, node, f"s{i}", max_leases=2) for i, c in enumerate(clients)]
    assert sems[0].acquire(timeout=10)
    assert sems[1].acquire(timeout=10)
    third = threading.Event()
    _thread(lambda: sems[2].acquire(timeout=30) and third.set())
    # the third holds the semaphore's internal lock while it waits for a lease
    wait_until(lambda: len(clients[0].get_children(node + "-__lock__")) == 1, timeout=10)
    assert not third.wait(0.3)
    assert sorted(sems[0].lease_holders()) == ["s0", "s1"]
    sems[0].release()
    assert third.wait(10)
    assert sorted(sems[1].lease_holders()) == ["s1", "s2"]
    sems[1].release()
    sems[2].release()


# ----------------------------------------------------------------------------- election

def test_election_leader_and_succession(make_zk, node):
    a, b = make_zk(), make_zk()
    ea, eb = Election(a, node, "A"), Election(b, node, "B")
    leaders = []
    release_a = threading.Event()
    b_led = threading.Event()

    def lead_a():
        leaders.append("A")
        release_a.wait(30)

    def lead_b():
        leaders.append("B")
        b_led.set()

    ta = _thread(ea.run, lead_a)
    wait_until(lambda: leaders == ["A"], timeout=10)
    tb = _thread(eb.run, lead_b)
    wait_until(lambda: ea.contenders() == ["A", "B"], timeout=10)
    assert leaders == ["A"]
    release_a.set()  # A's term ends: its node is deleted, B is elected
    assert b_led.wait(10)
    ta.join(5)
    tb.join(5)
    assert leaders == ["A", "B"]
    wait_until(lambda: a.get_children(node) == [], timeout=10)


def test_election_cancel_while_waiting(make_zk, node):
    a, b = make_zk(), make_zk()
    ea, eb = Election(a, node, "A"), Election(b, node, "B")
    hold = threading.Event()
    ta = _thread(ea.run, hold.wait, 30)
    wait_until(lambda: ea.contenders() == ["A"], timeout=10)
    ran = []
    tb = _thread(eb.run, ran.append, "B")
    wait_until(lambda: ea.contenders() == ["A", "B"], timeout=10)
    eb.cancel()
    tb.join(10)
    assert not tb.is_alive() and ran == []
    wait_until(lambda: ea.contenders() == ["A"], timeout=10)
    hold.set()
    ta.join(10)


# ----------------------------------------------------------------------------- barriers

def test_barrier_wait_released_by_remove(make_zk, node):
    a, b = make_zk(), make_zk()
    Barrier(a, node).create()
    passed = threading.Event()
    waiter = Barrier(b, node)
    assert not waiter.wait(timeout=0.2)
    _thread(lambda: waiter.wait(timeout=30) and passed.set())
    assert not passed.wait(0.3)
    assert Barrier(a, node).remove()
    assert passed.wait(10)
    assert Barrier(b, node).wait(timeout=1)  # no barrier node: passes at once


def test_double_barrier(make_zk, node):
    n = 3
    clients = [make_zk() for _ in range(n)]
    bars = [DoubleBarrier(c, node, n, identifier=f"p{i}") for i, c in enumerate(clients)]
    entered, left = [], []
    lock = threading.Lock()

    def participant(i):
        bars[i].enter()
        assert bars[i].participating
        with lock:
            entered.append(i)
        bars[i].leave()
        with lock:
            left.append(i)

    threads = [_thread(participant, i) for i in range(n - 1)]
    wait_until(lambda: clients[0].exists(node) and
               len(clients[0].get_children(node)) >= n - 1, timeout=10)
    assert entered == []  # nobody passes enter() before all n are there
    threads.append(_thread(participant, n - 1))
    for t in threads:
        t.join(20)
    assert sorted(entered) == list(range(n)) and sorted(left) == list(range(n))
    assert clients[0].exists(node) is None or clients[0].get_children(node) == []


# ----------------------------------------------------------------------------- counter

def test_counter_concurrent_increments(make_zk, node):
    a, b = make_zk(), make_zk()
    per_client = 40

    def bump(client):
        c = Counter(client, node)
        for _ in range(per_client):
            c += 1

    ts = [_thread(bump, a), _thread(bump, b)]
    for t in ts:
        t.join(60)
    assert Counter(a, node).value == 2 * per_client
    data, stat = a.get(node)
    assert data == str(2 * per_client).encode()
    # every increment was one successful versioned set
    assert stat.version == 2 * per_client
    c = Counter(a, node)
    c -= 5
    assert c.value == 2 * per_client - 5
    assert c.pre_value == 2 * per_client and c.post_value == 2 * per_client - 5


# ----------------------------------------------------------------------------- queues

def test_queue_priority_and_fifo(make_zk, node):
    a, b = make_zk(), make_zk()
    q = Queue(a, node)
    q.put(b"p100-1")
    q.put(b"p5-1", priority=5)
    q.put(b"p100-2")
    q.put(b"p5-2", priority=5)
    assert len(q) == 4
    consumer = Queue(b, node)
    got = [consumer.get() for _ in range(4)]
    assert got == [b"p5-1", b"p5-2", b"p100-1", b"p100-2"]
    assert consumer.get() is None
    assert len(q) == 0


def test_locking_queue_two_consumers(make_zk, node):
    a, b, c = make_zk(), make_zk(), make_zk()
    producer = LockingQueue(a, node)
    producer.put_all([b"one", b"two"], priority=10)
    producer.put(b"urgent", priority=1)
    c1, c2 = LockingQueue(b, node), LockingQueue(c, node)
    assert c1.get(timeout=5) == b"urgent"
    assert c1.holds_lock()
    # c2 skips the locked item
    assert c2.get(timeout=5) == b"one"
    assert c1.release()  # back to the queue, unconsumed
    assert c2.consume()
    assert c2.get(timeout=5) == b"urgent"
    assert c2.consume()
    assert c1.get(timeout=5) == b"two"
    assert c1.consume()
    assert len(producer) == 0
    got = []
    t = _thread(lambda: got.append(c2.get(timeout=30)))
    producer.put(b"late")
    t.join(10)
    assert got == [b"late"]
    assert c2.consume()


# ----------------------------------------------------------------------------- party

def test_party_and_shallow_party(make_zk, node):
    a, b = make_zk(), make_zk()
    pa, pb = Party(a, node, "alice"), Party(b, node, "bob")
    pa.join()
    pb.join()
    assert sorted(Party(a, node)) == ["alice", "bob"] and len(pa) == 2
    pb.leave()
    assert list(Party(b, node)) == ["alice"]
    pb.join()
    b.stop()  # members are ephemeral
    wait_until(lambda: list(Party(a, node)) == ["alice"], timeout=10)

    sp = ShallowParty(a, node + "-shallow", "s1")
    sp.join()
    ShallowParty(a, node + "-shallow", "s2").join()
    assert sorted(ShallowParty(a, node + "-shallow")) == ["s1", "s2"]


# ----------------------------------------------------------------------------- watchers

def test_data_watch_events_in_order(make_zk, node):
    a, b = make_zk(), make_zk()
    seen = []

    @DataWatch(a, node)
    def watch(data, stat, event):
        seen.append((data, stat.version if stat else None, event.type if event else None))

    wait_until(lambda: seen == [(None, None, None)], timeout=10)
    steps = [
        (lambda: b.create(node, b"v0"), (b"v0", 0, KzEventType.CREATED)),
        (lambda: b.set(node, b"v1"), (b"v1", 1, KzEventType.CHANGED)),
        (lambda: b.set(node, b"v2"), (b"v2", 2, KzEventType.CHANGED)),
        (lambda: b.delete(node), (None, None, KzEventType.DELETED)),
        (lambda: b.create(node, b"again"), (b"again", 0, KzEventType.CREATED)),
    ]
    for i, (action, expected) in enumerate(steps):
        action()
        wait_until(lambda: len(seen) >= i + 2, timeout=10)
        assert seen[i + 1] == expected, seen
    assert len(seen) == len(steps) + 1


def set_then_create(client, node):
    client.set(node, b"data does not fire a child watch")
    client.create(f"{node}/z")


def test_children_watch_events_in_order(make_zk, node):
    a, b = make_zk(), make_zk()
    a.create(node)
    seen = []

    @ChildrenWatch(a, node, send_event=True)
    def watch(children, event):
        seen.append((sorted(children), event.type if event else None))

    wait_until(lambda: seen == [([], None)], timeout=10)
    steps = [
        (lambda: b.create(f"{node}/x"), ["x"]),
        (lambda: b.create(f"{node}/y", ephemeral=True), ["x", "y"]),
        (lambda: b.delete(f"{node}/x"), ["y"]),
        (lambda: set_then_create(b, node), ["y", "z"]),
        (lambda: b.stop(), ["z"]),  # the ephemeral y goes with b's session
    ]
    for i, (action, expected) in enumerate(steps):
        action()
        wait_until(lambda: len(seen) >= i + 2, timeout=10)
        assert seen[i + 1] == (expected, KzEventType.CHILD), seen
    assert len(seen) == len(steps) + 1


# ----------------------------------------------------------------------------- transactions, paths

def test_transaction_request_commit_and_rollback(make_zk, node):
    zk = make_zk()
    zk.create(node, b"base")
    t = zk.transaction()
    t.create(f"{node}/a", b"A")
    t.create(f"{node}/s-", b"S", sequence=True)
    t.set_data(node, b"changed", version=0)
    t.check(node, 1)
    t.delete(f"{node}/a")
    results = t.commit()
    assert results[0] == f"{node}/a"
    assert results[1] == f"{node}/s-0000000001"
    assert results[2].version == 1
    assert results[3] is True
    assert results[4] is True
    assert zk.get_children(node) == ["s-0000000001"]
    assert zk.get(node)[0] == b"changed"

    t = zk.transaction()
    t.create(f"{node}/b")
    t.check(node, 7)
    t.delete(f"{node}/s-0000000001")
    t.set_data(node, b"never")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], BadVersionError)
    assert isinstance(results[2], RuntimeInconsistency)
    assert isinstance(results[3], RuntimeInconsistency)
    assert zk.get_children(node) == ["s-0000000001"]
    assert zk.get(node)[0] == b"changed"

    t = zk.transaction()
    t.create(f"{node}/dup")
    t.create(f"{node}/dup")
    results = t.commit()
    assert isinstance(results[0], RolledBackError) and isinstance(results[1], NodeExistsError)
    assert zk.exists(f"{node}/dup") is None


def test_ensure_path_and_recursive_delete(make_zk, node):
    zk = make_zk()
    deep = f"{node}/a/b/c/d"
    assert zk.ensure_path(deep)
    assert zk.exists(deep) is not None
    assert zk.ensure_path(deep)  # idempotent
    zk.create(f"{node}/a/b/x", b"x")
    zk.create(f"{node}/a/e", b"e")
    with pytest.raises(NotEmptyError):
        zk.delete(f"{node}/a")
    zk.delete(f"{node}/a", recursive=True)
    assert zk.get_children(node) == []
    with pytest.raises(NoNodeError):
        zk.delete(f"{node}/a", recursive=False)
    zk.delete(node, recursive=True)
    assert zk.exists(node) is None


# ----------------------------------------------------------------------------- sizes

def test_ten_thousand_children(make_zk, node):
    zk = make_zk()
    zk.create(node)
    n = 10000
    for start in range(0, n, 1000):
        pending = [zk.create_async(f"{node}/child-{i:05d}", b"")
                   for i in range(start, min(n, start + 1000))]
        for p in pending:
            p.get(timeout=30)
    children = zk.get_children(node)
    assert len(children) == n
    assert sorted(children) == [f"child-{i:05d}" for i in range(n)]
    stat = zk.exists(node)
    assert stat.numChildren == n and stat.cversion == n
    children, stat = zk.get_children(node, include_data=True)
    assert len(children) == n and stat.numChildren == n
    for start in range(0, n, 1000):
        pending = [zk.delete_async(f"{node}/child-{i:05d}")
                   for i in range(start, min(n, start + 1000))]
        for p in pending:
            p.get(timeout=30)
    assert zk.get_children(node) == []
    assert zk.exists(node).cversion == 2 * n


def test_data_near_jute_maxbuffer(make_zk, node):
    zk = make_zk()
    big = bytes(range(256)) * 4000  # 1,024,000 bytes: fits the default 0xfffff limit
    zk.create(node, big)
    data, stat = zk.get(node)
    assert data == big and stat.dataLength == len(big)
    bigger = big[: 1040000]
    stat = zk.set(node, bigger)
    assert stat.dataLength == len(bigger) and stat.version == 1
    data, stat = zk.get(node)
    assert data == bigger
    # another client reads it too
    other = make_zk()
    assert other.get(node)[0] == bigger
    zk.set(node, b"small")
    assert zk.get(node)[0] == b"small"
