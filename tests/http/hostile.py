#!/usr/bin/python3
"""Hostile requests to one of corps's HTTP servers, from the outside.

    hostile.py CHECK URL PID

Sends one kind of hostile request to the server at URL (whose process is
PID) and checks that it gets the documented refusal, that the process is
still up, and that its peak memory (VmHWM) grew by less than 64 MiB.
Prints one line; exits 1 if a check fails.

CHECK is one of:
  deep-schema    a .proto nested 20,000 levels deep, registered (422)
  gzip-bomb      1 MiB of gzip that inflates to 1 GiB, POSTed (415)
  huge-body      a 300 MiB body, POSTed (413)
  many-headers   100,000 headers of 100 bytes (431, or the connection closed)
  long-header    one header line of 64 MiB without an end (431, or closed)
  slow-client    a request line, then nothing: the server must hang up
  encoded-subject  %2F in a subject is part of the subject, not a path step
"""
import gzip
import http.client
import json
import socket
import sys
import time
import urllib.parse

GROWTH_LIMIT = 64 << 20


def reset_peak(pid):
    """Starts the peak (VmHWM) again from what the process holds now, so one
    check's peak is its own (Linux: /proc/PID/clear_refs, as root)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
    except PermissionError:
        pass  # the peak then includes the checks before


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit(f"process {pid} is gone")


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


def connect(url, timeout=30):
    parts = urllib.parse.urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def status_of(sock):
    """The status code of the answer on `sock`, or None if it closed without one."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout, BrokenPipeError):
        pass
    if not data.startswith(b"HTTP/1."):
        return None
    return int(data.split(b" ", 2)[1])


def send_all(sock, data):
    """Sends what the server takes; a server that stops reading is an answer too."""
    try:
        sock.sendall(data)
        return True
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return False


def post(url, path, body, headers):
    sock = connect(url)
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    send_all(sock, head.encode() + body)
    status = status_of(sock)
    sock.close()
    return status


def deep_schema(url):
    depth = 20000
    text = "syntax = \"proto3\";\n" + "message M { " * depth + "int32 x = 1;" + " }" * depth
    body = json.dumps({"schema": text, "schemaType": "PROTOBUF"}).encode()
    sock = connect(url)
    send_all(sock, (f"POST /subjects/Deep-value/versions HTTP/1.1\r\nHost: x\r\n"
                    f"Content-Type: application/vnd.schemaregistry.v1+json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    status = status_of(sock)
    sock.close()
    return status == 422, f"answered {status}"


def gzip_bomb(url, path):
    bomb = gzip.compress(b"\0" * (1 << 30), compresslevel=9)
    status = post(url, path, bomb, {"Content-Encoding": "gzip",
                                     "Content-Type": "application/json"})
    return status == 415, f"answered {status} to {len(bomb)} B of gzip (1 GiB inflated)"


def huge_body(url, path):
    sock = connect(url)
    size = 300 << 20
    send_all(sock, (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {size}\r\n\r\n").encode())
    chunk = b"x" * (1 << 20)
    for _ in range(300):
        if not send_all(sock, chunk):
            break
    status = status_of(sock)
    sock.close()
    return status == 413, f"answered {status} to a 300 MiB body"


def many_headers(url):
    sock = connect(url)
    head = b"GET / HTTP/1.1\r\nHost: x\r\n"
    line = b"X-H: " + b"v" * 93 + b"\r\n"
    send_all(sock, head)
    for _ in range(100):
        if not send_all(sock, line * 1000):
            break
    send_all(sock, b"\r\n")
    status = status_of(sock)
    sock.close()
    return status in (None, 400, 413, 431), f"answered {status} to 100,000 headers"


def long_header(url):
    sock = connect(url)
    send_all(sock, b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ")
    chunk = b"v" * (1 << 20)
    for _ in range(64):
        if not send_all(sock, chunk):
            break
    status = status_of(sock)
    sock.close()
    return status in (None, 400, 413, 431), f"answered {status} to a 64 MiB header line"


def slow_client(url):
    sock = connect(url, timeout=60)
    send_all(sock, b"GET / HTTP/1.1\r\n")
    started = time.time()
    status = status_of(sock)
    waited = time.time() - started
    sock.close()
    return waited < 45, f"hung up after {waited:.0f} s (answered {status})"


def encoded_subject(url):
    schema = json.dumps({"schema": "syntax = \"proto3\"; message A { int32 x = 1; }",
                         "schemaType": "PROTOBUF"})
    headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
    parts = urllib.parse.urlsplit(url)

    def request(method, path, body=None):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode()
        connection.close()
        return answer.status, text

    # A look-up of subject "a/versions" (POST /subjects/{subject}) is not a
    # registration of subject "a".
    status, text = request("POST", "/subjects/a%2Fversions", schema)
    if status != 404:
        return False, f"POST /subjects/a%2Fversions answered {status} {text}"
    status, text = request("GET", "/subjects")
    if "\"a\"" in text:
        return False, f"subject 'a' was made: {text}"
    # A subject holding '/', encoded, registers and reads back under its name.
    status, text = request("POST", "/subjects/x%2Fy/versions", schema)
    if status != 200:
        return False, f"registering under x%2Fy answered {status} {text}"
    status, subjects = request("GET", "/subjects")
    status2, versions = request("GET", "/subjects/x%2Fy/versions")
    ok = "\"x/y\"" in subjects and status2 == 200 and json.loads(versions) == [1]
    return ok, f"subjects {subjects}, versions of x/y {status2} {versions}"


def main():
    check, url, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else "/subjects/Any-value/versions"
    reset_peak(pid)
    before = peak_kib(pid)
    checks = {
        "deep-schema": lambda: deep_schema(url),
        "gzip-bomb": lambda: gzip_bomb(url, path),
        "huge-body": lambda: huge_body(url, path),
        "many-headers": lambda: many_headers(url),
        "long-header": lambda: long_header(url),
        "slow-client": lambda: slow_client(url),
        "encoded-subject": lambda: encoded_subject(url),
    }
    try:
        ok, said = checks[check]()
    except OSError as error:
        ok, said = False, f"{type(error).__name__}: {error}"
    time.sleep(0.2)
    up = alive(pid)
    grown = (peak_kib(pid) - before) * 1024 if up else 0
    small = grown < GROWTH_LIMIT
    verdict = ok and up and small
    print(f"{'ok  ' if verdict else 'FAIL'} {check} on {url}{path if check in ('gzip-bomb', 'huge-body') else ''}: "
          f"{said}; {'up' if up else 'THE PROCESS DIED'}, peak memory +{grown >> 20} MiB")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
