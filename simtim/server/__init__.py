"""The reference server: the model behind simtim/1 over HTTP + WebSocket (``simtim serve``)."""
