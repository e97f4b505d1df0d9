#!/usr/bin/env python3
"""HTTP and HTTPS servers for the proxy suite.

Usage: webd.py [--http-port=N] CERT KEY NAME=ADDR... Serves, for each
NAME=ADDR (IPv4 or IPv6), HTTP on ADDR port 80 (or N) and HTTPS (CERT and
KEY, PEM) on ADDR port 443,
each GET answered 200 with the body "NAME\\n". Prints "ready" once every
socket is bound; serves until killed.
"""
import http.server
import socket
import socketserver
import ssl
import sys
import threading


def server(name, addr, port, context):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = f"{name}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write(f"{name} {port}: {fmt % args}\n")

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET

        def server_bind(self):  # HTTPServer's own would look up its name
            socketserver.TCPServer.server_bind(self)

    httpd = Server((addr, port), Handler)
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    return httpd


def main():
    args, http_port = sys.argv[1:], 80
    if args[0].startswith("--http-port="):
        http_port = int(args.pop(0).partition("=")[2])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args[0], args[1])
    servers = []
    for spec in args[2:]:
        name, _, addr = spec.partition("=")
        servers += [server(name, addr, http_port, None), server(name, addr, 443, context)]
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
