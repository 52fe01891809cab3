#!/usr/bin/env python3
"""Lab plumbing for the LVS demo: the client's traffic (not part of the module).

  client.py get HOST PORT COUNT               COUNT HTTP GETs, one after another
  client.py lines HOST PORT COUNT             COUNT new connections to the line service (persistence)
  client.py loop HOST PORT INTERVAL LOG [T]   HTTP GETs every INTERVAL seconds until SIGTERM (timeout T s, default 2)
  client.py hold HOST PORT INTERVAL LOG       one long-lived connection to the line service: a line
                                              every INTERVAL seconds, each answer awaited, until SIGTERM

Every request is one tab-separated line (to stdout, or appended to LOG and flushed):
  start_ns  end_ns  ok|fail  server-or-error
Times are CLOCK_REALTIME nanoseconds, the clock of packet captures and of PowerShell's UtcNow.
"hold" writes "open" first (with the greeting's server) and "closed" if the connection ends.
"""
import signal
import socket
import sys
import time

TIMEOUT = 2.0
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def emit(out, start, ok, what):
    out.write(f"{start}\t{time.time_ns()}\t{'ok' if ok else 'fail'}\t{what}\n")
    out.flush()


def http_get(host, port):
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise OSError("bad answer: " + head.split(b"\r\n")[0].decode(errors="replace"))
    return body.decode().strip()


def greeting(host, port):
    with socket.create_connection((host, port), timeout=TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        return s.makefile("r").readline().strip()


def one(out, fn, host, port):
    start = time.time_ns()
    try:
        emit(out, start, True, fn(host, port))
    except OSError as e:
        emit(out, start, False, type(e).__name__ + ": " + str(e))


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode in ("get", "lines"):
        fn = http_get if mode == "get" else greeting
        for _ in range(int(sys.argv[4])):
            one(sys.stdout, fn, host, port)
        return
    interval, out = float(sys.argv[4]), open(sys.argv[5], "a")
    if len(sys.argv) > 6:
        global TIMEOUT
        TIMEOUT = float(sys.argv[6])
    if mode == "loop":
        while not stop:
            t = time.monotonic()
            one(out, http_get, host, port)
            time.sleep(max(0.0, interval - (time.monotonic() - t)))
        return
    # hold: one connection; a lost answer is waited for (TCP retransmits) up to 30 s
    start = time.time_ns()
    s = socket.create_connection((host, port), timeout=TIMEOUT)
    s.settimeout(30.0)
    f = s.makefile("r")
    emit(out, start, True, "open " + f.readline().strip())
    n = 0
    while not stop:
        n += 1
        start = time.time_ns()
        try:
            s.sendall(f"ping {n}\n".encode())
            answer = f.readline().strip()
            if not answer:
                emit(out, start, False, "closed by the peer")
                return
            emit(out, start, True, answer)
        except OSError as e:
            emit(out, start, False, "closed: " + type(e).__name__ + ": " + str(e))
            return
        time.sleep(interval)
    s.close()


main()
