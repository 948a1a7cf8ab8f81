#!/usr/bin/env python3
"""Cuts a pyrace trace down to a small fuzzing seed that still holds its races.

    distill_trace.py IN OUT [MODULE]

Keeps the header, the target and stats records, the watch events and accesses of the dicts of
MODULE (default __main__: its module dict and the dicts bound to its globals), every sync event
from the moment MODULE is watched (cut to its innermost frame, the only one analysis reads), and the code records the kept events refer to, all in their
original order. Record layouts are those
of collector/trace_format.h and bpf/events.h (native byte order, x86-64).
"""
import struct
import sys

HEADER = 16
TREC_TARGET, TREC_EVENT, TREC_CODE, TREC_STATS, TREC_LOST = 1, 2, 3, 4, 5
PYEV_ACCESS, PYEV_WATCH, PYEV_SYNC = 1, 2, 4
PYWATCH_MODULE = 1
EVENT_HEADER = 88  # struct pyrace_event without its frames
FRAME = 16


def records(data):
    pos = HEADER
    while pos + 8 <= len(data):
        rtype, length = struct.unpack_from("<II", data, pos)
        if pos + 8 + length > len(data):
            break
        yield rtype, data[pos:pos + 8 + length]
        pos += 8 + length


def event_fields(rec):
    p = rec[8:]
    etype, op, nframes, _kkind, key_len = p[16], p[17], p[18], p[19], p[20]
    obj, aux = struct.unpack_from("<QQ", p, 24)
    key = p[48:48 + min(key_len, 40)].decode("utf-8", "replace")
    frames = [struct.unpack_from("<Q", p, EVENT_HEADER + i * FRAME)[0]
              for i in range(nframes) if EVENT_HEADER + (i + 1) * FRAME <= len(p)]
    return etype, op, obj, aux, key, frames


def cut_frames(rec, nframes):
    """An event record whose stack is cut to its first `nframes` frames."""
    payload = bytearray(rec[8:8 + EVENT_HEADER + nframes * FRAME])
    payload[18] = nframes
    return struct.pack("<II", TREC_EVENT, len(payload)) + bytes(payload)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    module = sys.argv[3] if len(sys.argv) > 3 else "__main__"
    data = open(src, "rb").read()
    kept, wanted_code, module_dicts, watched = [], set(), set(), set()
    for rtype, rec in records(data):
        if rtype != TREC_EVENT:
            kept.append((rtype, rec))
            continue
        etype, op, obj, aux, key, frames = event_fields(rec)
        if etype == PYEV_WATCH:
            if op == PYWATCH_MODULE and key == module:
                module_dicts.add(obj)
            if obj not in module_dicts and aux not in module_dicts:
                continue
            watched.add(obj)
        elif etype == PYEV_ACCESS:
            if obj not in watched:
                continue
        elif etype != PYEV_SYNC or not module_dicts:
            continue
        else:
            frames = frames[:1]
            rec = cut_frames(rec, len(frames))
        kept.append((rtype, rec))
        wanted_code.update(frames)
    with open(dst, "wb") as out:
        out.write(data[:HEADER])
        for rtype, rec in kept:
            if rtype == TREC_CODE and struct.unpack_from("<Q", rec, 8)[0] not in wanted_code:
                continue
            out.write(rec)


if __name__ == "__main__":
    main()
