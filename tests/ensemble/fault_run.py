#!/usr/bin/python3
"""Long fault-injection run against a proxied ensemble, checked by the history checker.

  /usr/bin/python3 tests/ensemble/fault_run.py --impl zookeeper --duration 600 --seed 7
  /usr/bin/python3 tests/ensemble/fault_run.py --impl corral --members 5 --duration 900
  /usr/bin/python3 tests/ensemble/fault_run.py --impl corral --mixed zzc --duration 300
  /usr/bin/python3 tests/ensemble/fault_run.py --impl corral --observers 2 --duration 300

Members run behind link proxies (link_proxy.py); clients load registers and sequential creates
throughout while a nemesis, driven by random.Random(seed), applies rounds of faults (kill -9 of
the leader / a follower and restart, SIGSTOP/SIGCONT of the leader, a partition isolating the
leader, a one-way drop, added delay; with --observers, kill -9 / SIGSTOP / isolation of an
observer too) until --duration seconds have passed. Then everything is
healed, the final state is read through every member and the history is checked
(history.py). Prints a summary; exits 1 on a violation or a liveness failure, 2 on a usage
error. See README.md ("Fault injection").
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import nemesis  # noqa: E402  (puts tests/integration on sys.path via harness_ensemble)
from harness.servers import ACTIVE_SERVERS  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def shape_for(args, parser):
    if args.mixed:
        shape = args.mixed.lower()
        if shape == "auto":
            shape = "zzc" if args.members == 3 else "zzccc"
        if len(shape) != args.members or set(shape) - {"z", "c"}:
            parser.error(f"--mixed {args.mixed!r}: need {args.members} letters of z/c")
        impls = ["zookeeper" if ch == "z" else "corral" for ch in shape]
        # Same rule as the pytest `mixed` fixture: the reference run keeps the shape, all ZK.
        return impls if args.impl == "corral" else ["zookeeper"] * args.members
    return [args.impl] * args.members


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--impl", choices=("corral", "zookeeper"),
                   default=os.environ.get("CORRAL_TEST_IMPL", "corral"))
    p.add_argument("--corral-bin", default=os.environ.get(
        "CORRAL_BIN", os.path.join(REPO, "build", "bin", "corral-server")))
    p.add_argument("--seed", type=lambda s: int(s, 0), default=None,
                   help="default: CORRAL_FAULT_SEED, else the current time")
    p.add_argument("--duration", type=float, default=300.0,
                   help="seconds of faults (default 300); the run takes longer by start, heal "
                        "and check")
    p.add_argument("--members", type=int, choices=(3, 5), default=3)
    p.add_argument("--mixed", nargs="?", const="auto", default=None, metavar="SHAPE",
                   help="mixed ensemble, e.g. zzc or zcc (z=ZooKeeper, c=Corral; default zzc, "
                        "zzccc for 5); with --impl zookeeper every member is ZooKeeper")
    p.add_argument("--observers", type=int, choices=(0, 1, 2), default=0,
                   help="observers (of --impl) after the voters, sids members+1.. (default 0); "
                        "adds the observer faults")
    p.add_argument("--clients", type=int, default=None, help="kazoo sessions (default n+1)")
    p.add_argument("--keys", type=int, default=3, help="registers (default 3)")
    p.add_argument("--storage", choices=("memlog", "rocksdb"),
                   default=os.environ.get("CORRAL_TEST_STORAGE", "memlog"),
                   help="storage plugin of the Corral members (env CORRAL_TEST_STORAGE; "
                        "default memlog)")
    p.add_argument("--keep", action="store_true", help="keep the ensemble dir (logs, data)")
    args = p.parse_args(argv)

    seed = args.seed if args.seed is not None else nemesis.seed_from_env(int(time.time()))
    impls = shape_for(args, p) + [args.impl] * args.observers
    observers = tuple(range(args.members + 1, args.members + args.observers + 1))
    faults = nemesis.FAULTS + (nemesis.OBSERVER_FAULTS if observers else ())
    if "corral" in impls and not (os.path.isfile(args.corral_bin)
                                  and os.access(args.corral_bin, os.X_OK)):
        print(f"corral-server not found at {args.corral_bin}", file=sys.stderr)
        return 2
    print(f"[faults] seed {seed} (rerun: --seed {seed}); members {impls}"
          f"{f' (Corral on {args.storage})' if 'corral' in impls else ''}"
          f"{f', observers {list(observers)}' if observers else ''}; "
          f"duration {args.duration:.0f}s", flush=True)
    ens = nemesis.make_ensemble(impls, seed, corral_bin=args.corral_bin, name="faultrun",
                                keep=args.keep, observers=observers, storage=args.storage)
    print(f"[faults] ensemble dir {ens.dir}", flush=True)
    report = None
    try:
        report = nemesis.run_scenario(ens, seed, duration=args.duration, faults=faults,
                                      log=lambda s: print(s, flush=True),
                                      clients=args.clients, keys=args.keys)
        print()
        print(report.summary())
        if not report.ok:
            print("\n--- member logs (tails) ---")
            print(ens.log_tails(80))
    finally:
        if report is not None and not report.ok:
            ens.keep = True
        ens.cleanup()
        ACTIVE_SERVERS.clear()
    if report.ok:
        print(f"\nPASS seed {seed}")
        return 0
    print(f"\nFAIL seed {seed} (ensemble dir kept: {ens.dir})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
