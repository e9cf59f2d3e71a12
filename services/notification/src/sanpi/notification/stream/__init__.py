"""The live stream: GET /v1/stream, Server-Sent Events with subscription filters and resume."""
