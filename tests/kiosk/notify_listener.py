#!/usr/bin/python3
"""Stands in for systemd's notify socket: logs every sd_notify datagram, one per line."""
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a") as out:
    while True:
        data = s.recv(65536).decode(errors="replace").replace("\n", " ")
        out.write(data + "\n")
        out.flush()
