#!/usr/bin/env python3
"""Usage: udplog.py ADDR PORT: bind UDP ADDR:PORT, print "ready", then
each datagram's payload on a line of its own, until killed."""
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    print(sock.recv(2048).decode(errors="replace"), flush=True)
