"""How many bytes of a SQLite write-ahead log a crash left torn (written, never committed).

SQLite itself drops an uncommitted WAL tail when it opens the database, silently.  The journal's
promise (docs/durability.md) is to say so: this module reads the WAL as SQLite documents it
(https://www.sqlite.org/fileformat.html#the_write_ahead_log) and measures the tail past the last
valid commit frame that belongs to the current WAL generation, before SQLite opens the file.
Frames of an older generation (other salts) are leftovers SQLite reuses, not torn writes.
"""

from __future__ import annotations

import struct
from pathlib import Path

_HEADER = 32
_FRAME_HEADER = 24
_MAGIC_LE = 0x377F0682  # checksums over little-endian words
_MAGIC_BE = 0x377F0683


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & mask
        s1 = (s1 + words[i + 1] + s0) & mask
    return s0, s1


def torn_tail_bytes(wal_path: Path) -> int:
    """Bytes after the last committed frame of the current generation (0 when the WAL is whole)."""
    try:
        data = wal_path.read_bytes()
    except FileNotFoundError:
        return 0
    if not data:
        return 0
    if len(data) < _HEADER:
        return len(data)  # a header cut short: nothing in it was ever committed
    magic, _version, page_size, _ckpt, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:_HEADER])
    if magic not in (_MAGIC_LE, _MAGIC_BE) or page_size < 512:
        return len(data) - _HEADER
    big_endian = magic == _MAGIC_BE
    s0, s1 = _checksum(data[:24], big_endian, 0, 0)
    if (s0, s1) != (c1, c2):
        return len(data) - _HEADER  # the header itself was torn: SQLite ignores the whole log
    frame_size = _FRAME_HEADER + page_size
    committed_end = _HEADER
    current_end = _HEADER  # end of the run of frames that belong to this generation
    at = _HEADER
    valid = True
    while at + _FRAME_HEADER <= len(data):
        _page, commit_size, f_salt1, f_salt2, f_c1, f_c2 = struct.unpack(">6I", data[at : at + _FRAME_HEADER])
        if (f_salt1, f_salt2) != (salt1, salt2):
            break  # an older generation's frame: the current one ends here
        end = at + frame_size
        if end > len(data):
            current_end = len(data)
            break
        if valid:
            s0, s1 = _checksum(data[at : at + 8], big_endian, s0, s1)
            s0, s1 = _checksum(data[at + _FRAME_HEADER : end], big_endian, s0, s1)
            valid = (s0, s1) == (f_c1, f_c2)
            if valid and commit_size:
                committed_end = end
        current_end = end
        at = end
    else:
        if at < len(data) and current_end == at:
            current_end = len(data)  # a frame header cut short right after this generation's frames
    return current_end - committed_end


__all__ = ["torn_tail_bytes"]
