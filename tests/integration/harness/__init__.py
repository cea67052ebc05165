"""End-to-end test harness for Corral (and the Apache ZooKeeper 3.8 reference).

Modules:
  servers  - launching/stopping a server process (Corral or ZooKeeper) on loopback
  raw      - a raw ZooKeeper client-protocol client (jute encoding, frames, replies)
  util     - wait_until and friends
"""
