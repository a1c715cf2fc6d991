"""Read and write the pcap files SIPp's ``play_pcap_audio`` replays (classic libpcap, Ethernet,
IPv4/UDP). SIPp reuses a pcap's RTP sequence numbers and timestamps as they are, so pressing the
same key twice needs two captures with different timestamps: :func:`write_events` and
:func:`write_audio` make them (``make_pcaps.py`` regenerates the committed ones)."""
from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

GLOBAL = struct.Struct("<IHHiIII")
RECORD = struct.Struct("<IIII")


def read_rtp(path: str | Path) -> list[bytes]:
    """The UDP payloads of a pcap (Ethernet + IPv4 + UDP)."""
    data = Path(path).read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    rec = struct.Struct(endian + "IIII")
    out, offset = [], GLOBAL.size
    while offset + rec.size <= len(data):
        _s, _us, incl, _orig = rec.unpack_from(data, offset)
        frame = data[offset + rec.size: offset + rec.size + incl]
        offset += rec.size + incl
        ihl = (frame[14] & 0x0F) * 4
        out.append(frame[14 + ihl + 8:])
    return out


def _frame(udp_payload: bytes, sport: int = 4000, dport: int = 6000) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(udp_payload), 0) + udp_payload
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xFFFF) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def write(path: str | Path, packets: Iterable[tuple[float, bytes]]) -> None:
    """A pcap of RTP packets at the given times (seconds)."""
    out = [GLOBAL.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for t, payload in packets:
        frame = _frame(payload)
        sec, usec = int(t), round((t - int(t)) * 1e6)
        out.append(RECORD.pack(sec, usec, len(frame), len(frame)) + frame)
    Path(path).write_bytes(b"".join(out))
