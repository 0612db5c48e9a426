"""The Linux side of test_hostile: malformed packets written byte for byte
onto tern's TUN device (where the kernel's IP stack would refuse to build
them), and a RST and a SYN inside the window of a live connection.

    hostile.py attack DEV TADDR KADDR PORT OUT
        find the live connection to TADDR:PORT by sniffing DEV; send every
        kind of malformed packet; then, "from" the connection's peer, a RST
        in the window, a SYN in the window and a RST outside it, checking on
        the wire that tern answers the first two with a challenge ACK
        (RFC 5961 3.2, 4.2), ignores the third, and keeps sending data.
        OUT: what was sent, as JSON, for `check`.
    hostile.py check SENT STATS TRACE
        tern's --stats and --json trace against what was sent.

Every malformed TCP segment comes from a port in HOSTILE_PORTS, so the
trace shows whether tern took any of them as valid.
"""
import json
import os
import random
import socket
import struct
import sys
import time

from scapy.layers.inet import IP, TCP
from scapy.packet import Raw

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
HOSTILE_PORTS = (20000, 29999)
COPIES = 10         # of each kind of malformed packet
RANDOM_FRAMES = 300  # of random bytes
FUZZ_FRAMES = 200    # a valid IP header and random TCP bytes
SEED = int(os.environ.get("HOSTILE_SEED", "5961"))
# How long data may pause after an attack before the connection counts as
# dead: curl reads at a limited rate, so tern may sit out a closed window
# and a backed-off window probe (seconds on a loaded machine).
DATA_WAIT = 5


def die(msg):
    sys.exit("hostile.py: " + msg)


# --- building and corrupting packets -------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_ip(p):
    """The header checksum again, after a change (over IHL*4 bytes, or what
    the frame has of them)."""
    hl = min((p[0] & 0x0F) * 4, len(p))
    p[10:12] = b"\0\0"
    p[10:12] = struct.pack("!H", csum(bytes(p[:hl])))
    return p


def fix_tcp(p):
    """The TCP checksum again, after a change (IHL 5)."""
    seg = p[20:]
    seg[16:18] = b"\0\0"
    pseudo = bytes(p[12:20]) + struct.pack("!BBH", 0, 6, len(seg))
    p[36:38] = struct.pack("!H", csum(pseudo + bytes(seg)))
    return p


class Builder:
    def __init__(self, taddr, kaddr, port):
        self.taddr, self.kaddr, self.port = taddr, kaddr, port
        self.sport = HOSTILE_PORTS[0]
        self.ipid = 1

    def next_ids(self):
        self.sport += 1
        self.ipid += 1
        if self.sport > HOSTILE_PORTS[1]:
            die("out of hostile ports")
        return self.sport, self.ipid

    def segment(self, opts=b"", payload=b""):
        """A valid SYN to tern's port, IP and TCP checksums right; opts are
        raw option bytes (a multiple of 4), the data offset set to match."""
        sport, ipid = self.next_ids()
        p = IP(src=self.kaddr, dst=self.taddr, id=ipid) / TCP(
            sport=sport, dport=self.port, flags="S", seq=1000, window=65535)
        if opts or payload:
            p = p / Raw(opts + payload)
        b = bytearray(bytes(p))
        b[32] = ((20 + len(opts)) // 4) << 4
        return fix_tcp(b)

    def overlapping(self, first_is_head):
        """Two fragments of one datagram: [0, 24) and [16, 40) of a 40-byte
        TCP segment, in either order."""
        seg = self.segment(payload=b"overlapping fragments")[20:60]
        _, ipid = self.next_ids()
        head = IP(src=self.kaddr, dst=self.taddr, id=ipid, proto=6,
                  flags="MF", frag=0) / Raw(bytes(seg[0:24]))
        tail = IP(src=self.kaddr, dst=self.taddr, id=ipid, proto=6,
                  frag=2) / Raw(bytes(seg[16:]))
        pair = [bytes(head), bytes(tail)]
        return pair if first_is_head else pair[::-1]


def kinds(b):
    """(expected drop reason, builder of one packet) for each kind."""
    def ip_truncated():
        return b.segment()[:12]

    def ip_ihl_short():
        p = b.segment()
        p[0] = 0x44
        return fix_ip(p)

    def ip_header_truncated():  # IHL 15 on a 40-byte frame
        p = b.segment()
        p[0] = 0x4F
        return p

    def ip_total_length():
        p = b.segment()
        p[2:4] = struct.pack("!H", len(p) + 100)
        return fix_ip(p)

    def ip_bad_checksum():
        p = b.segment()
        p[10] ^= 0xFF
        return p

    def tcp_truncated():  # 10 bytes of TCP header, IP lengths agreeing
        p = b.segment()[:30]
        p[2:4] = struct.pack("!H", 30)
        return fix_ip(p)

    def tcp_bad_checksum():
        p = b.segment(payload=b"x" * 8)
        p[36] ^= 0x55
        return p

    def tcp_doff_short():  # data offset 3
        p = b.segment()
        p[32] = 3 << 4
        return fix_tcp(p)

    def tcp_doff_past_end():  # data offset 15 on a 20-byte segment
        p = b.segment()
        p[32] = 15 << 4
        return fix_tcp(p)

    state = {"n": 0}

    def alternate(*opts):
        state["n"] += 1
        return b.segment(opts=opts[state["n"] % len(opts)])

    def tcp_opt_bad_length():  # an option of length 0, then of length 1
        return alternate(b"\x02\x00\x01\x01", b"\x01\x01\xfd\x01")

    def tcp_opt_past_header():  # timestamps (10 bytes) in 2; a lone kind
        return alternate(b"\x01\x01\x08\x0a", b"\x01\x01\x01\x02")

    def tcp_opt_malformed():  # MSS of length 3
        return b.segment(opts=b"\x02\x03\x05\x01")

    return [(f.__name__, f) for f in (
        ip_truncated, ip_ihl_short, ip_header_truncated, ip_total_length,
        ip_bad_checksum, tcp_truncated, tcp_bad_checksum, tcp_doff_short,
        tcp_doff_past_end, tcp_opt_bad_length, tcp_opt_past_header,
        tcp_opt_malformed)]


def fuzz_frames(b, rng):
    """Random bytes; and valid IP headers around random TCP bytes (from a
    hostile port to tern's, so whatever tern makes of them shows)."""
    out = []
    for _ in range(RANDOM_FRAMES):
        n = rng.randint(1, 120)
        out.append(bytes(rng.getrandbits(8) for _ in range(n)))
    for _ in range(FUZZ_FRAMES):
        sport, ipid = b.next_ids()
        tcp = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 80)))
        if len(tcp) >= 4:
            tcp[0:4] = struct.pack("!HH", sport, b.port)
        p = IP(src=b.kaddr, dst=b.taddr, id=ipid, proto=6) / Raw(bytes(tcp))
        out.append(bytes(p))
    return out


# --- the wire ------------------------------------------------------------

class Seg:
    def __init__(self, frame):
        hl = (frame[0] & 0x0F) * 4
        total = struct.unpack("!H", frame[2:4])[0]
        self.src = socket.inet_ntoa(frame[12:16])
        self.dst = socket.inet_ntoa(frame[16:20])
        (self.sport, self.dport, self.seq, self.ack, off,
         self.flags) = struct.unpack("!HHIIBB", frame[hl:hl + 14])
        self.plen = total - hl - (off >> 4) * 4


def parse(frame):
    """A TCP segment of an unfragmented IPv4 frame, or None."""
    if len(frame) < 40 or frame[0] != 0x45 or frame[9] != 6:
        return None
    if struct.unpack("!H", frame[6:8])[0] & 0x3FFF:
        return None
    return Seg(frame)


class Sniffer:
    """Frames on the device from now on, both directions (a TUN device's
    frames are bare IP packets)."""

    def __init__(self, dev):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.s.bind((dev, 0))

    def wait(self, match, timeout):
        """The first segment match() accepts, within timeout s, or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                frame = self.s.recv(65535)
            except socket.timeout:
                return None
            seg = parse(frame)
            if seg and match(seg):
                return seg

    def close(self):
        self.s.close()


def tx_dropped(dev):
    with open("/sys/class/net/%s/statistics/tx_dropped" % dev) as f:
        return int(f.read())


class Attack:
    def __init__(self, dev, taddr, kaddr, port):
        self.dev, self.taddr, self.kaddr, self.port = dev, taddr, kaddr, port
        self.out = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                 socket.htons(ETH_P_IP))
        self.sent = {}  # drop reason -> packets sent
        self.frames = 0
        self.not_ip = 0  # version != 4: the TUN link drops these itself

    def send(self, frame):
        self.out.sendto(bytes(frame), (self.dev, ETH_P_IP))
        self.frames += 1
        if len(frame) == 0 or frame[0] >> 4 != 4:
            self.not_ip += 1
        # tern0's queue holds 500 frames; the download shares it
        if self.frames % 16 == 0:
            time.sleep(0.002)

    def count(self, reason, n=1):
        self.sent[reason] = self.sent.get(reason, 0) + n

    def find_connection(self):
        """The live connection: data from tern, then a segment of the
        peer's on it. tern sends data once the whole request is in, so
        that segment's SEQ (plus its length, should it be the request
        again) is tern's RCV.NXT, which stays put: curl sends no more."""
        sn = Sniffer(self.dev)
        data = sn.wait(lambda s: s.src == self.taddr and s.dst == self.kaddr
                       and s.sport == self.port and s.plen > 0, 5)
        if not data:
            die("no data from %s:%d seen in 5 s" % (self.taddr, self.port))
        self.cport = data.dport
        peer = sn.wait(lambda s: s.src == self.kaddr and s.dst == self.taddr
                       and s.sport == self.cport and s.dport == self.port
                       and s.flags & ACK and not s.flags & (SYN | FIN | RST),
                       2)
        if not peer:
            die("no segment from port %d seen in 2 s" % self.cport)
        self.rcv_nxt = (peer.seq + peer.plen) & 0xFFFFFFFF
        sn.close()
        print("live connection %s:%d -> %s:%d, tern's RCV.NXT %d" %
              (self.kaddr, self.cport, self.taddr, self.port, self.rcv_nxt))

    def from_tern(self, data):
        def match(s):
            return (s.src == self.taddr and s.sport == self.port and
                    s.dport == self.cport and (s.plen > 0) == data)
        return match

    def malformed(self):
        b = Builder(self.taddr, self.kaddr, self.port)
        table = kinds(b)
        for _ in range(COPIES):
            for reason, build in table:
                self.send(build())
                self.count(reason)
        for i in range(COPIES):
            for frame in b.overlapping(first_is_head=i % 2 == 0):
                self.send(frame)
            self.count("ip_frag_overlap")
        for frame in fuzz_frames(b, random.Random(SEED)):
            self.send(frame)
        for reason, _ in table:
            print("sent %3d  %s" % (self.sent[reason], reason))
        print("sent %3d  pairs of overlapping fragments" % COPIES)
        print("sent %3d  random frames, %d random TCP segments (seed %d)" %
              (RANDOM_FRAMES, FUZZ_FRAMES, SEED))

    def spoof(self, flags, seq):
        """A segment "from" the connection's peer."""
        p = IP(src=self.kaddr, dst=self.taddr) / TCP(
            sport=self.cport, dport=self.port, flags=flags, seq=seq,
            window=65535)
        self.send(bytes(p))

    def challenge(self, what, flags, seq, reason):
        """RFC 5961: a pure ACK of RCV.NXT answers, and data keeps coming."""
        sn = Sniffer(self.dev)
        start = time.monotonic()
        self.spoof(flags, seq)
        self.count(reason)
        ack = sn.wait(lambda s: self.from_tern(False)(s) and s.flags == ACK
                      and s.ack == self.rcv_nxt, 1)
        if not ack:
            die("%s at RCV.NXT+%d: no challenge ACK within 1 s" %
                (what, (seq - self.rcv_nxt) & 0xFFFFFFFF))
        took = time.monotonic() - start
        if not sn.wait(self.from_tern(data=True), DATA_WAIT):
            die("%s: tern sends no more data on the connection" % what)
        sn.close()
        print("%s at RCV.NXT+%d: challenge ACK <SEQ=%d><ACK=%d> after "
              "%.1f ms, data still flowing" %
              (what, (seq - self.rcv_nxt) & 0xFFFFFFFF, ack.seq, ack.ack,
               took * 1000))

    def ignored_rst(self):
        """RFC 5961 3.2: a RST outside the window is dropped silently."""
        sn = Sniffer(self.dev)
        seq = (self.rcv_nxt + 0x80000000) & 0xFFFFFFFF
        self.spoof("R", seq)
        self.count("tcp_rst_out_of_window")
        if sn.wait(lambda s: self.from_tern(False)(s) and s.flags == ACK,
                   0.3):
            die("RST outside the window: answered with an ACK")
        if not sn.wait(self.from_tern(data=True), DATA_WAIT):
            die("RST outside the window: tern sends no more data")
        sn.close()
        print("RST at RCV.NXT+2^31: no answer, data still flowing")

    def run(self, out):
        dropped = tx_dropped(self.dev)
        self.find_connection()
        self.malformed()
        self.challenge("RST", "R", self.rcv_nxt + 1000, "tcp_rst_challenged")
        self.challenge("SYN", "S", self.rcv_nxt + 2000, "tcp_syn_challenged")
        self.ignored_rst()
        lost = tx_dropped(self.dev) - dropped
        if lost:
            die("the kernel dropped %d frames at %s's queue: tern did not "
                "read them, the counts cannot be checked" % (lost, self.dev))
        with open(out, "w") as f:
            json.dump({"drops": self.sent, "frames": self.frames,
                       "not_ip": self.not_ip, "pairs": COPIES,
                       "cport": self.cport, "rcv_nxt": self.rcv_nxt,
                       "kaddr": self.kaddr, "taddr": self.taddr,
                       "port": self.port}, f)


# --- checking tern's account ---------------------------------------------

def check(sent_path, stats_path, trace_path):
    with open(sent_path) as f:
        sent = json.load(f)
    with open(stats_path) as f:
        stats = json.load(f)
    drops, ctrs = stats.get("drops", {}), stats.get("counters", {})
    bad = []

    for reason, n in sorted(sent["drops"].items()):
        got = drops.get(reason, 0)
        print("drop %-22s sent %3d, counted %3d" % (reason, n, got))
        if got < n:
            bad.append("drop %s: %d sent, %d counted" % (reason, n, got))
    # Every IPv4 frame sent is a drop, but an overlapping pair is one
    # (its datagram goes whole, RFC 5722). Frames whose version is not 4
    # the TUN link drops before the stack, under its own counter.
    total = sum(drops.values())
    least = sent["frames"] - sent["not_ip"] - sent["pairs"]
    print("drops in all: %d, for %d hostile frames (%d IPv4 ones, %d "
          "fragment pairs), at least %d" % (total, sent["frames"],
                                            sent["frames"] - sent["not_ip"],
                                            sent["pairs"], least))
    if total < least:
        bad.append("%d hostile IPv4 datagrams sent, %d drops counted" %
                   (least, total))
    not_ip = stats.get("link", {}).get("rx_not_ip", 0)
    print("link rx_not_ip = %d, for %d frames of version != 4" %
          (not_ip, sent["not_ip"]))
    if not_ip < sent["not_ip"]:
        bad.append("%d frames of version != 4 sent, link rx_not_ip = %d" %
                   (sent["not_ip"], not_ip))
    reasm = {n: ctrs.get(n, 0) for n in ("IpReasmReqds", "IpReasmFails",
                                         "IpReasmOKs")}
    print("IpReasmReqds = %(IpReasmReqds)d, IpReasmFails = %(IpReasmFails)d,"
          " IpReasmOKs = %(IpReasmOKs)d" % reasm)
    if (reasm["IpReasmReqds"] < 2 * sent["pairs"] or
            reasm["IpReasmFails"] < sent["pairs"] or reasm["IpReasmOKs"]):
        bad.append("reassembly counters: %s for %d overlapping pairs" %
                   (reasm, sent["pairs"]))
    for name, least in (("TcpExtTCPChallengeACK", 2),
                        ("TcpExtTCPSYNChallenge", 1)):
        print("%s = %d (at least %d)" % (name, ctrs.get(name, 0), least))
        if ctrs.get(name, 0) < least:
            bad.append("%s = %d, not >= %d" % (name, ctrs.get(name, 0), least))
    for name in ("TcpEstabResets", "TcpInRsts"):
        print("%s = %d (none)" % (name, ctrs.get(name, 0)))
        if ctrs.get(name, 0):
            bad.append("%s = %d: a connection was reset" %
                       (name, ctrs[name]))
    bad += check_trace(sent, trace_path)
    if bad:
        sys.exit("hostile.py check:\n  " + "\n  ".join(bad))


def check_trace(sent, trace_path):
    """Each challenged segment: received, dropped under its reason, then the
    connection's next segment out is a pure ACK of RCV.NXT. The connection
    never closed on a RST or SYN; no hostile segment was taken as valid."""
    peer = "%s:%d" % (sent["kaddr"], sent["cport"])
    us = "%s:%d" % (sent["taddr"], sent["port"])
    conn = "%s-%s" % (us, peer)
    lo, hi = HOSTILE_PORTS
    bad, states, pending, seen, taken = [], [], None, {}, []
    with open(trace_path) as f:
        for line in f:
            ev = json.loads(line)
            kind = ev["ev"]
            if kind == "state" and ev["conn"] == conn:
                states.append("%s->%s (%s)" % (ev["from"], ev["to"],
                                               ev["cause"]))
                if ev["to"] == "CLOSED" and ev["cause"] in ("rx RST",
                                                            "rx SYN"):
                    bad.append("the connection: %s" % states[-1])
            elif kind == "drop" and ev.get("src") == peer and ev["reason"] in (
                    "tcp_rst_challenged", "tcp_syn_challenged"):
                pending = ev["reason"]
            elif kind == "seg" and ev["dir"] == "rx":
                port = int(ev["src"].rsplit(":", 1)[1])
                if lo <= port <= hi:
                    taken.append(line.strip())
            elif (kind == "seg" and pending and ev["dir"] == "tx"
                  and ev["dst"] == peer):
                pure = ev["flags"] == ["ACK"] and ev["len"] == 0
                if not pure or ev["ack"] != sent["rcv_nxt"]:
                    bad.append("after %s, tern sent %s, not a challenge ACK "
                               "of %d" % (pending, line.strip(),
                                          sent["rcv_nxt"]))
                else:
                    seen[pending] = ev
                pending = None
    if taken:
        bad.append("%d segments from the hostile ports were taken as valid "
                   "(or the kernel answered what tern sent them), the first:"
                   " %s" % (len(taken), taken[0]))
    else:
        print("trace: no segment from the hostile ports was taken as valid")
    for reason in ("tcp_rst_challenged", "tcp_syn_challenged"):
        ev = seen.get(reason)
        if ev:
            print("trace: %s, then <SEQ=%d><ACK=%d><CTL=ACK> at t=%d us" %
                  (reason, ev["seq"], ev["ack"], ev["t"]))
        else:
            bad.append("trace: no %s followed by a challenge ACK" % reason)
    print("trace: the connection went " + ", ".join(states))
    if not any("->ESTABLISHED" in s for s in states):
        bad.append("trace: the connection was never ESTABLISHED")
    if not any("->CLOSED" in s for s in states):
        bad.append("trace: the connection never closed")
    return bad


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "attack":
        Attack(args[0], args[1], args[2], int(args[3])).run(args[4])
    elif cmd == "check":
        check(args[0], args[1], args[2])
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
