"""The Linux side of the interop tests: plain sockets of the kernel.

    helpers.py sink PORT OUT        accept one connection, write its sha256
                                    (and byte count) to OUT
    helpers.py source PORT FILE     accept one connection, send FILE, close
    helpers.py echo ADDR PORT MB    send MB megabytes through an echo server,
                                    check every byte comes back, in order
    helpers.py refused ADDR PORT    connect; exit 0 if refused within 1 s
    helpers.py observer PORT        accept one connection, read to its end,
                                    close; print the states ss showed it in
    helpers.py closer ADDR PORT     connect, send a little, close first;
                                    print the state ss shows afterwards
    helpers.py simopen LPORT ADDR RPORT
                                    bind LPORT, connect to ADDR:RPORT (whose
                                    SYN crosses ours), read to the end,
                                    answer "pong", close
    helpers.py resetter PORT        accept one connection, read a little,
                                    abort it (SO_LINGER 0: a RST)
"""
import hashlib
import os
import select
import socket
import struct
import subprocess
import sys
import time

# No helper waits for ever: an accept, a read or a write that waits this
# long fails (socket.timeout), so a test that goes wrong fails instead of
# hanging on the helper (a tern that never connected, or went away).
socket.setdefaulttimeout(300)


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(8)
    return s


def sink(port, out):
    conn, _ = listener(port).accept()
    h, n = hashlib.sha256(), 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    with open(out, "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), n))


def source(port, path):
    conn, _ = listener(port).accept()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 16)
            if not b:
                break
            conn.sendall(b)
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(1 << 16):  # until the other side closes too
        pass
    conn.close()


def pattern(off, n):
    return bytes(((off + i) * 131 + ((off + i) >> 11)) & 0xFF for i in range(n))


def echo(addr, port, mb):
    total = mb << 20
    chunk = pattern(0, 1 << 16)  # the pattern repeats every 64 KiB
    s = socket.create_connection((addr, port), timeout=600)
    s.setblocking(False)
    sent = got = 0
    deadline = time.time() + 600
    while got < total:
        if time.time() > deadline:
            sys.exit("echo: stalled at %d of %d bytes" % (got, total))
        w = [s] if sent < total else []
        r, w, _ = select.select([s], w, [], 5)
        if w:
            off = sent % len(chunk)
            n = s.send(chunk[off:off + min(len(chunk) - off, total - sent)])
            sent += n
        if r:
            b = s.recv(1 << 16)
            if not b:
                sys.exit("echo: closed after %d bytes" % got)
            off = got % len(chunk)
            want = (chunk * 2)[off:off + len(b)]
            if b != want:
                sys.exit("echo: bytes differ at offset %d" % got)
            got += len(b)
    s.shutdown(socket.SHUT_WR)
    s.setblocking(True)
    if s.recv(1):
        sys.exit("echo: data after the end")
    s.close()


def refused(addr, port):
    t = time.time()
    try:
        socket.create_connection((addr, port), timeout=5)
    except ConnectionRefusedError:
        took = time.time() - t
        sys.exit(0 if took < 1 else "refused, but after %.2f s" % took)
    sys.exit("connected: not refused")


def ss_state(local_port, remote_port):
    """The state `ss -tan` shows for the connection between the ports."""
    out = subprocess.run(["ss", "-tanH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[3].endswith(":%d" % local_port) and \
                f[4].endswith(":%d" % remote_port):
            return f[0]
    return None


def observer(port):
    """tern closes first: this end sits in CLOSE-WAIT, then LAST-ACK."""
    conn, peer = listener(port).accept()
    while conn.recv(1 << 16):
        pass
    seen = [ss_state(port, peer[1])]
    # Linux delays its ACK of a FIN (pingpong mode); closing at once
    # would send that ACK with our FIN, and tern would go from FIN_WAIT_1
    # straight to TIME_WAIT. Waiting lets the ACK go first.
    time.sleep(0.5)
    conn.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        st = ss_state(port, peer[1])
        if st and st != seen[-1]:
            seen.append(st)
        if st is None:
            break
        time.sleep(0.005)
    print(" ".join(x or "-" for x in seen))


def closer(addr, port):
    """Linux closes first: this end ends in TIME-WAIT."""
    s = socket.create_connection((addr, port), timeout=5)
    lport = s.getsockname()[1]
    s.sendall(b"bye")
    s.shutdown(socket.SHUT_WR)
    while s.recv(1 << 16):
        pass
    s.close()
    time.sleep(0.2)
    print(ss_state(lport, port))


def simopen(lport, addr, rport):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", lport))
    s.settimeout(10)
    s.connect((addr, rport))
    data = b""
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        data += b
    s.sendall(b"pong")
    s.close()
    print(data.decode(errors="replace"))


def resetter(port):
    conn, _ = listener(port).accept()
    conn.recv(1 << 16)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sink":
        sink(int(args[0]), args[1])
    elif cmd == "source":
        source(int(args[0]), args[1])
    elif cmd == "echo":
        echo(args[0], int(args[1]), int(args[2]))
    elif cmd == "refused":
        refused(args[0], int(args[1]))
    elif cmd == "observer":
        observer(int(args[0]))
    elif cmd == "closer":
        closer(args[0], int(args[1]))
    elif cmd == "resetter":
        resetter(int(args[0]))
    elif cmd == "simopen":
        simopen(int(args[0]), args[1], int(args[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
