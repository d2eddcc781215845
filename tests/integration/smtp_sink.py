"""An aiosmtpd Controller on a free port, for the tests that need a real SMTP server."""

from __future__ import annotations

import asyncio

from aiosmtpd.controller import Controller


class FreePortController(Controller):
    """A Controller bound to port 0; reads back the port the OS chose before use."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]
