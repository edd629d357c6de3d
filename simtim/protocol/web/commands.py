"""The command table of the Web SDK face: ``servcmd`` -> handler, merged from one table per area.

``docs/websdk.md``'s coverage table is generated from these tables (a test keeps them equal).
"""

from __future__ import annotations

from simtim.protocol.web import c2c, groups, login
from simtim.protocol.web.context import Handler

COMMANDS: dict[str, Handler] = {**login.COMMANDS, **c2c.COMMANDS, **groups.COMMANDS}
BEFORE_LOGIN = login.BEFORE_LOGIN
EMPTY_REPLIES = login.EMPTY_REPLIES
QUIET_WITHOUT_SESSION = login.QUIET_WITHOUT_SESSION

__all__ = ["BEFORE_LOGIN", "COMMANDS", "EMPTY_REPLIES", "QUIET_WITHOUT_SESSION"]
