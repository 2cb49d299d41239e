"""Run the fakes on 127.0.0.1 in threads."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from openfloor.rehearsal.fake_graph import VERSION, graph_app
from openfloor.rehearsal.fake_x import x_app
from openfloor.rehearsal.platform import Platform


class _Served:
    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakePlatforms:
    """Fake X and Graph API servers over one :class:`Platform`; a context manager."""

    def __init__(self, platform: Platform | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per fake request
        self.platform = platform or Platform()
        self._x = _Served(x_app(self.platform))
        self._graph = _Served(graph_app(self.platform))

    def settings(self) -> dict[str, Any]:
        """Setting overrides that point the real clients at these fakes."""
        return {
            "x_api_url": self._x.url,
            "graph_api_url": f"{self._graph.url}/{VERSION}",
            "graph_stream_url": self._graph.url,
            "x_bearer_token": "rehearsal",
            "facebook_access_token": "rehearsal",
        }

    def close(self) -> None:
        """Stop both servers (open streams are dropped first)."""
        self.platform.drop_streams()
        self._x.stop()
        self._graph.stop()

    def __enter__(self) -> FakePlatforms:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
