"""A what-if, loaded beside a locustfile: ``-f app.py,benchmarks/locust/skip_utf8.py``.

websocket-client checks the UTF-8 of every text frame in pure Python (a byte-at-a-time DFA,
some 300 µs for a 400-byte frame) unless it is given ``skip_utf8_validation=True`` or wsaccel
is installed, and ``recv()`` then decodes the frame with ``bytes.decode("utf-8")``, which
validates it again, in C.  ``GeventTransport`` opens its sockets with the defaults.  This
module wraps ``websocket.create_connection`` so that every caller in the process passes
``skip_utf8_validation=True`` (an explicit argument still wins), without touching simtim/:
harness_bench uses it to show what the harness would gain.
"""

from __future__ import annotations

import functools

import websocket

if not isinstance(websocket.create_connection, functools.partial):
    websocket.create_connection = functools.partial(websocket.create_connection, skip_utf8_validation=True)
