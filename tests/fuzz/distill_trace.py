#!/usr/bin/env python3
"""Cuts a pyrace trace down to a small fuzzing seed that still holds its races.

    distill_trace.py IN OUT [MODULE]

Keeps the header, the target and stats records, the watch events and accesses of the dicts of
MODULE (default __main__: its module dict and the dicts bound to its globals), every sync event
from the moment MODULE is watched (cut to its innermost frame, the only one analysis reads), and
the code records the kept events refer to, all in their original order. Reads traces of format 1
and 2 (collector/trace_format.h, collector/trace_codec.h; native byte order, x86-64) and writes
format 2, defining each thread, key and stack once before its first event.
"""
import struct
import sys

HEADER = 16
TREC_TARGET, TREC_EVENT, TREC_CODE, TREC_STATS, TREC_LOST = 1, 2, 3, 4, 5
TREC_THREAD, TREC_KEY, TREC_STACK, TREC_EV = 8, 9, 10, 11
PYEV_ACCESS, PYEV_WATCH, PYEV_SYNC = 1, 2, 4
PYWATCH_MODULE = 1
EVENT_HEADER = 88  # struct pyrace_event without its frames (format 1)
FRAME = 16
ADDR_MASK = (1 << 48) - 1


def varint(data, pos):
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def unzigzag(z):
    return (z >> 1) ^ -(z & 1)


def zigzag(d):
    return (d << 1) if d >= 0 else ((-d) << 1) - 1


def records(data):
    version = struct.unpack_from("<I", data, 8)[0]
    pos = HEADER
    while pos < len(data):
        if version == 1:
            if pos + 8 > len(data):
                return
            rtype, length = struct.unpack_from("<II", data, pos)
            start = pos + 8
        else:
            rtype = data[pos]
            try:
                length, start = varint(data, pos + 1)
            except IndexError:
                return
        if start + length > len(data):
            return
        yield rtype, data[start:start + length]
        pos = start + length


def tag(process, addr):
    return (addr & ADDR_MASK) | (process << 48) if addr else 0


def events(data):
    """Every record in order: ("event", dict) for events, (type, payload) for the others."""
    threads, keys, stacks, last_ts = {}, {}, {}, 0
    for rtype, p in records(data):
        if rtype == TREC_EVENT:
            ts, pid, tid = struct.unpack_from("<QII", p, 0)
            etype, op, nframes, kkind, klen, trunc = p[16:22]
            process = struct.unpack_from("<H", p, 22)[0]
            obj, aux, key_id = struct.unpack_from("<QQQ", p, 24)
            frames = [struct.unpack_from("<QI", p, EVENT_HEADER + i * FRAME)
                      for i in range(nframes) if EVENT_HEADER + (i + 1) * FRAME <= len(p)]
            yield "event", dict(type=etype, op=op, ts=ts, pid=pid, tid=tid, process=process,
                                obj=obj, aux=aux, key=(kkind, key_id, bytes(p[48:48 + min(klen, 40)])),
                                frames=frames, truncated=trunc)
        elif rtype == TREC_THREAD:
            i, pos = varint(p, 0)
            process, pos = varint(p, pos)
            pid, pos = varint(p, pos)
            tid, pos = varint(p, pos)
            threads[i] = [process, pid, tid, 0]
        elif rtype == TREC_KEY:
            i, pos = varint(p, 0)
            kind = p[pos]
            key_id, pos = varint(p, pos + 1)
            n = p[pos]
            keys[i + 1] = (kind, key_id, bytes(p[pos + 1:pos + 1 + n]))
        elif rtype == TREC_STACK:
            i, pos = varint(p, 0)
            parent, pos = varint(p, pos)
            trunc, n = p[pos], p[pos + 1]
            pos += 2
            below = stacks[parent][1] if parent else []
            deltas = []
            for _ in range(n):
                code, pos = varint(p, pos)
                instr, pos = varint(p, pos)
                deltas.append((unzigzag(code), instr))
            mine, nxt = [], below[0][0] if below else 0
            for delta, instr in reversed(deltas):
                nxt = (nxt + delta) & (2**64 - 1)
                mine.insert(0, (nxt, instr))
            stacks[i] = (trunc, mine + below)
        elif rtype == TREC_EV:
            b = p[0]
            pos = 1
            etype, op = b >> 4, b & 15
            if b == 0xFF:
                etype, op, pos = p[1], p[2], 3
            ts, pos = varint(p, pos)
            thread, pos = varint(p, pos)
            obj, pos = varint(p, pos)
            aux, pos = varint(p, pos)
            key, pos = varint(p, pos)
            stack, pos = varint(p, pos)
            last_ts += unzigzag(ts)
            t = threads[thread]
            o = (t[3] + unzigzag(obj)) & ADDR_MASK
            t[3] = o
            a = (o + unzigzag(aux - 1)) & ADDR_MASK if aux else 0
            trunc, frames = stacks[stack] if stack else (0, [])
            yield "event", dict(type=etype, op=op, ts=last_ts, pid=t[1], tid=t[2], process=t[0],
                                obj=tag(t[0], o), aux=tag(t[0], a),
                                key=keys[key] if key else (0, 0, b""), frames=frames,
                                truncated=trunc)
        else:
            yield rtype, p


class Writer:
    def __init__(self, out):
        self.out, self.threads, self.keys, self.stacks, self.last_ts = out, {}, {}, {}, 0
        out.write(b"PYRACE\x02\n" + struct.pack("<II", 2, 0x01020304))

    def record(self, rtype, payload):
        self.out.write(bytes([rtype]) + put_varint(len(payload)) + payload)

    def event(self, e):
        who = (e["process"], e["pid"], e["tid"])
        if who not in self.threads:
            self.threads[who] = [len(self.threads), 0]
            self.record(TREC_THREAD, b"".join(put_varint(v) for v in [self.threads[who][0]] + list(who)))
        thread = self.threads[who]
        key = 0
        if e["key"] != (0, 0, b""):
            if e["key"] not in self.keys:
                self.keys[e["key"]] = len(self.keys) + 1
                kind, key_id, text = e["key"]
                self.record(TREC_KEY, put_varint(self.keys[e["key"]] - 1) + bytes([kind]) +
                            put_varint(key_id) + bytes([len(text)]) + text)
            key = self.keys[e["key"]]
        stack = 0
        frames = tuple(e["frames"])
        if frames or e["truncated"]:
            if (e["truncated"], frames) not in self.stacks:
                self.stacks[(e["truncated"], frames)] = len(self.stacks) + 1
                body = put_varint(len(self.stacks)) + put_varint(0) + bytes([e["truncated"], len(frames)])
                for i, (code, instr) in enumerate(frames):
                    nxt = frames[i + 1][0] if i + 1 < len(frames) else 0
                    delta = (code - nxt + 2**63) % 2**64 - 2**63
                    body += put_varint(zigzag(delta)) + put_varint(instr)
                self.record(TREC_STACK, body)
            stack = self.stacks[(e["truncated"], frames)]
        obj, aux = e["obj"] & ADDR_MASK, e["aux"] & ADDR_MASK
        body = bytes([e["type"] << 4 | e["op"]]) if e["type"] < 15 and e["op"] < 15 else \
            bytes([0xFF, e["type"], e["op"]])
        body += put_varint(zigzag(e["ts"] - self.last_ts)) + put_varint(thread[0])
        body += put_varint(zigzag(obj - thread[1]))
        body += put_varint(zigzag(aux - obj) + 1 if aux else 0)
        body += put_varint(key) + put_varint(stack)
        self.last_ts, thread[1] = e["ts"], obj
        self.record(TREC_EV, body)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    module = sys.argv[3] if len(sys.argv) > 3 else "__main__"
    data = open(src, "rb").read()
    kept, wanted_code, module_dicts, watched = [], set(), set(), set()
    for kind, rec in events(data):
        if kind != "event":
            if kind not in (TREC_THREAD, TREC_KEY, TREC_STACK):
                kept.append((kind, rec))
            continue
        e = rec
        if e["type"] == PYEV_WATCH:
            if e["op"] == PYWATCH_MODULE and e["key"][2].decode("utf-8", "replace") == module:
                module_dicts.add(e["obj"])
            if e["obj"] not in module_dicts and e["aux"] not in module_dicts:
                continue
            watched.add(e["obj"])
        elif e["type"] == PYEV_ACCESS:
            if e["obj"] not in watched:
                continue
        elif e["type"] != PYEV_SYNC or not module_dicts:
            continue
        else:
            e["frames"] = e["frames"][:1]
        kept.append(("event", e))
        wanted_code.update(code for code, _ in e["frames"])
    with open(dst, "wb") as out:
        w = Writer(out)
        for kind, rec in kept:
            if kind == "event":
                w.event(rec)
            elif kind != TREC_CODE or struct.unpack_from("<Q", rec, 0)[0] in wanted_code:
                w.record(kind, rec)


if __name__ == "__main__":
    main()
