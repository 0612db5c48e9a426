#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/: a few dozen
small inputs in each target's record format (described at the top of each
fuzz_<target>.c), so that the fuzzers start from inputs that reach deep:
whole handshakes, every state of the stack, fragments that complete.

Run it again after changing a record format: tests/fuzz/gen_corpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def u16(v):
    return struct.pack(">H", v & 0xFFFF)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, frag=0x4000, opts=b""):
    hl = 20 + len(opts)
    h = bytearray(struct.pack(">BBHHHBBH4s4s", 0x40 | hl // 4, 0,
                              hl + len(payload), ident, frag, 64, proto, 0,
                              u32(src), u32(dst)) + opts)
    h[10:12] = u16(csum(bytes(h)))
    return bytes(h) + payload


def tcp(src, dst, sport, dport, seq, ack, flags, opts=b"", data=b"",
        win=65535, fix=True):
    opts += b"\0" * (-len(opts) % 4)
    h = bytearray(struct.pack(">HHIIBBHHH", sport, dport, seq, ack,
                              (20 + len(opts)) // 4 << 4, flags, win, 0, 0)
                  + opts + data)
    if fix:
        pseudo = u32(src) + u32(dst) + bytes([0, 6]) + u16(len(h))
        h[16:18] = u16(csum(pseudo + bytes(h)))
    return bytes(h)


A, B = 0x0A000001, 0x0A000002
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
SYN_OPTS = (b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + u32(1000) + u32(0)
            + b"\x01\x03\x03\x07")
TS = b"\x01\x01\x08\x0a" + u32(5000) + u32(6000)


def sack(*blocks):
    return (b"\x01\x01\x05" + bytes([2 + 8 * len(blocks)])
            + b"".join(u32(a) + u32(b) for a, b in blocks))


def tcp_seeds():
    """fuzz_tcp: mode byte, source and destination, the segment."""
    pre = b"\x03" + u32(B) + u32(A)
    good = [
        tcp(B, A, 40000, 80, 1, 0, SYN, SYN_OPTS),
        tcp(B, A, 40000, 80, 2, 7, ACK, TS + sack((100, 200), (300, 400),
                                                  (500, 600))),
        tcp(B, A, 40000, 80, 2, 7, ACK | PSH, TS, b"hello, tern" * 9),
        tcp(B, A, 40000, 80, 2, 7, ACK | FIN, b"\x01" * 40),
        tcp(B, A, 40000, 80, 2, 7, RST),
        tcp(B, A, 40000, 80, 2, 7, ACK, b"\x1e\x06abcd\x00"),
        tcp(B, A, 40000, 80, 2, 7, ACK, sack((1, 2), (3, 4), (5, 6),
                                             (7, 8))),
    ]
    bad = [
        tcp(B, A, 1, 2, 3, 4, ACK, b"\x02\x01"),          # length 1
        tcp(B, A, 1, 2, 3, 4, ACK, b"\x01\x01\x01\x08"),  # no length byte
        tcp(B, A, 1, 2, 3, 4, ACK, b"\x02\x05\x05\xb4"),  # MSS length 5
        tcp(B, A, 1, 2, 3, 4, ACK, b"\x05\x0b" + b"\0" * 10),
        tcp(B, A, 1, 2, 3, 4, ACK, TS, fix=False),
        tcp(B, A, 1, 2, 3, 4, ACK)[:12] + b"\x40" + b"\0" * 7,  # offset 16
        tcp(B, A, 1, 2, 3, 4, ACK)[:12] + b"\xf0" + b"\0" * 7,  # past end
        b"\0" * 19,
    ]
    return [pre + s for s in good + bad]


def frag_rec(key, flags, off, plen, step=0):
    return bytes([1, key, flags]) + u16(off) + u16(plen) + bytes([step])


def ipv4_seeds():
    """fuzz_ipv4: configuration byte, then records (see fuzz_ipv4.c)."""
    seg = tcp(B, A, 40000, 80, 1, 0, SYN, SYN_OPTS)
    pkt = ipv4(B, A, 6, seg)
    echo = b"\x08\x00\x00\x00\x12\x34\x00\x01" + b"ping" * 4
    echo = echo[:2] + u16(csum(echo)) + echo[4:]
    quote = ipv4(A, B, 6, seg)[:28]
    unreach = b"\x03\x04\x00\x00\x00\x00\x05\x00" + quote
    unreach = unreach[:2] + u16(csum(unreach)) + unreach[4:]

    def raw(p):
        return b"\x00" + u16(len(p)) + p

    def icmp(m):
        return b"\x05" + u16(len(m)) + m

    in_order = frag_rec(0, 1, 0, 64) + frag_rec(0, 1, 8, 64) + frag_rec(
        0, 0, 16, 30)
    return [
        b"\x00" + in_order,
        b"\x00" + frag_rec(0, 0, 16, 30) + frag_rec(0, 1, 0, 128),
        b"\x01" + in_order + frag_rec(0, 1, 4, 64),          # overlap
        b"\x00" + frag_rec(0, 1, 0, 64) + frag_rec(0, 1, 0, 64)
        + frag_rec(0, 0, 8, 10),                             # duplicate
        b"\x05" + frag_rec(1, 1, 0, 800) + frag_rec(6, 1, 0, 800)
        + frag_rec(11, 0, 100, 9),                           # eviction
        b"\x10" + frag_rec(0, 1, 0, 64) + b"\x04\xa0" + frag_rec(0, 0, 8, 9),
        b"\x00" + frag_rec(0, 0x0d, 0, 100) + frag_rec(0x10, 0, 0x1fff, 40),
        b"\x00" + raw(pkt) + raw(ipv4(B, A, 6, seg, opts=b"\x01\x01\x01\x00")),
        b"\x00" + raw(ipv4(B, A, 6, seg, frag=0x2000)) + raw(pkt[:30]),
        b"\x00" + icmp(echo) + icmp(unreach),
        b"\x00\x06" + u32(0xC0A80101) + b"10.0.0.1\0\0\0\0\0\0\0\0",
        b"\x80" + in_order * 3,
    ]


def rec(kind, step=0):
    return bytes([kind, step])


def seg(target, flags, mode=0, seq=0, ack=0, win=65535, optb=0x41,
        plen=0, opts=b"", step=0):
    return (rec(0, step) + bytes([target, flags, mode]) + u16(seq) + u16(ack)
            + u16(win) + bytes([optb]) + u16(plen) + opts)


def app(target, op, arg=0, step=0):
    return rec(10, step) + bytes([target, op]) + u16(arg)


def pump(n, step=0):
    return rec(13, step) + bytes([n])


def stack_seeds():
    """fuzz_stack: settings byte, allocation-failure byte, then records
    (see fuzz_stack.c). Targets 0..15 are the setup's connections, in
    the order of its `wanted` table."""
    seeds = []
    hdr = b"\x00\x00"
    for t in range(16):
        seeds.append(hdr + seg(t, ACK | PSH, plen=100) + seg(t, ACK | FIN)
                     + pump(20, 0x60))
    seeds += [
        hdr + seg(16, SYN, optb=0x00, plen=0) + pump(4) + seg(16, ACK),
        hdr + seg(3, ACK, optb=0x82, opts=u16(0) + b"\x40" + u16(0xfff0)
                  + b"\x10") + pump(8),
        hdr + seg(5, ACK | PSH, mode=0x70, seq=1460, plen=500)
        + seg(5, ACK | PSH, mode=0x70, plen=1460),
        hdr + seg(3, ACK, mode=0x30, plen=40) + seg(3, ACK, mode=0x40,
                                                    win=0x5a1, plen=1400),
        hdr + seg(3, RST, seq=5) + seg(3, RST) + seg(3, SYN),
        hdr + app(3, 0, 20000) + pump(30) + rec(15, 0xa0) + pump(30),
        hdr + app(3, 4) + app(5, 5) + app(0, 6) + app(0, 7) + pump(10),
        hdr + rec(9) + bytes([3, 4]) + u16(1200) + u16(0) + pump(4),
        hdr + rec(9) + bytes([0x10, 12]) + u16(40) + u16(0) + b"x" * 40,
        hdr + rec(15, 0xff) + rec(15, 0xff) + pump(60),
        hdr + rec(7) + b"\x00" + u16(40) + ipv4(B, A, 6, tcp(
            B, A, 40002, 80, 1, 1, ACK))[:40],
        hdr + rec(8) + b"\x0f" + u16(32) + tcp(B, A, 0, 0, 1, 1, ACK,
                                               TS)[:32],
        b"\xff\x00" + seg(16, SYN) + seg(17, SYN) + rec(15, 0xc0) + pump(9),
        b"\x20\x04" + seg(16, SYN) + app(3, 0, 9000) + pump(40),
    ]
    return seeds


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for i, s in enumerate(seeds):
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(s)


def main():
    write("fuzz_tcp", tcp_seeds())
    write("fuzz_ipv4", ipv4_seeds())
    write("fuzz_stack", stack_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
