#!/usr/bin/env python3
"""Lab plumbing for the LVS demo: the application on one DR real server (not part of the module).

usage: realserver.py NAME WEIGHT_FILE

  port 80    HTTP: every GET is answered with NAME (the seed's web virtual_server)
  port 90    health port: accepts and closes (what TCP_CHECK's connect_port 90 connects to)
  port 3306  a line service standing in for the seed's database: greets with NAME, answers the line
             "weight" with the number in WEIGHT_FILE (what the MISC_CHECK script turns into a weight),
             and any other line with "NAME <line>"; connections stay open until the client closes them

It binds 0.0.0.0, so it answers on the VIP (on lo:0) as LVS-DR needs. It runs until killed.
"""
import os
import socketserver
import sys
import threading

NAME = sys.argv[1]
WEIGHT_FILE = sys.argv[2]


def weight():
    try:
        with open(WEIGHT_FILE) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 1


class Http(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(4096)
        while True:  # skip the request headers
            h = self.rfile.readline(4096)
            if not h or h in (b"\r\n", b"\n"):
                break
        body = (NAME + "\n").encode()
        status = b"200 OK" if line.startswith(b"GET ") else b"405 Method Not Allowed"
        self.wfile.write(b"HTTP/1.0 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


class Health(socketserver.BaseRequestHandler):
    def handle(self):
        pass


class Lines(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write((NAME + "\n").encode())
        for raw in self.rfile:
            text = raw.decode(errors="replace").strip()
            reply = str(weight()) if text == "weight" else NAME + " " + text
            self.wfile.write((reply + "\n").encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


servers = [Server(("0.0.0.0", port), handler) for port, handler in ((80, Http), (90, Health), (3306, Lines))]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(f"{NAME} listening on 80, 90, 3306 (pid {os.getpid()})", flush=True)
servers[0].serve_forever()
