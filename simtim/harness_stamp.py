"""The harness's delivery stamp: the one spelling of the ``cloudCustomData`` every message the
harness sends carries (``{"simtim":[worker,sender,seq,sentAt]}``, MSG-5).

One module because two parties must agree on it byte for byte: the harness writes and reads it
(``simtim/conformance/delivery.py``) and the model stores it compactly and spells it back exactly
(``simtim/model/custom_data.py``).
"""

from __future__ import annotations

import orjson

STAMP_KEY = "simtim"


def render(worker: str, sender: str, seq: int, sent_at: float) -> str:
    """The stamp's text; ``.decode()``: a kept ``orjson.dumps`` result would hold a 4 KB buffer."""
    return orjson.dumps({STAMP_KEY: [worker, sender, seq, sent_at]}).decode()
