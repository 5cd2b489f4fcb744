#!/usr/bin/python3
"""Holds COUNT idle TCP connections to 127.0.0.1:PORT that never send a byte (issue 12: the
attack on connection budgets), from SOURCE (a loopback address). Bounded: it stops after
--seconds, or as soon as the --stop file exists. Writes the number connected to --ready once
all are, and prints "closed K of N" at the end: how many the server closed meanwhile.

With --reopen, a connection the server closed is opened again at once (at most 1000 a second),
as an attacker keeping the pressure up would (bench/attack).

Usage: idle_conns.py --port P --count N [--source 127.0.0.1] [--seconds 30] --ready FILE
                     [--stop FILE] [--reopen]"""
import argparse
import os
import resource
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--stop")
    ap.add_argument("--reopen", action="store_true")
    a = ap.parse_args()
    if not a.source.startswith("127.") or a.count > 5000:
        sys.exit("idle_conns.py: loopback sources and at most 5000 connections only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    end = time.monotonic() + a.seconds
    socks = []

    def connect():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((a.source, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", a.port))
        s.setblocking(False)
        return s

    for _ in range(a.count):
        try:
            socks.append(connect())
        except OSError as e:
            sys.exit("idle_conns.py: connect: %s after %d connections" % (e, len(socks)))
    with open(a.ready + ".tmp", "w") as f:
        f.write("%d\n" % len(socks))
    os.rename(a.ready + ".tmp", a.ready)
    open_socks = set(socks)
    closed = reopened = 0
    budget, second = 1000, int(time.monotonic())
    while time.monotonic() < end and not (a.stop and os.path.exists(a.stop)):
        # poll: the server closing a connection makes it readable (EOF or RST)
        p = select.poll()
        fds = {}
        for s in open_socks:
            p.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
            fds[s.fileno()] = s
        for fd, _ in p.poll(100):
            s = fds[fd]
            try:
                data = s.recv(1)
            except OSError:
                data = b""
            if not data:
                open_socks.discard(s)
                s.close()
                closed += 1
                if a.reopen:
                    if int(time.monotonic()) != second:
                        budget, second = 1000, int(time.monotonic())
                    if budget > 0:
                        budget -= 1
                        try:
                            open_socks.add(connect())
                            reopened += 1
                        except OSError:
                            pass
    print("closed %d of %d (reopened %d)" % (closed, len(socks), reopened))
    for s in open_socks:
        s.close()


main()
