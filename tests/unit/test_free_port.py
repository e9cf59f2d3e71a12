"""free_port(): ports for the processes a test or the stack starts, never the same one twice."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from scripts import stack

pytestmark = pytest.mark.db_independent


class ScriptedSocket:
    """A socket whose bind(0) gets the next port of a script, as the OS may hand them out."""

    script: ClassVar[list[int]] = []

    def __init__(self) -> None:
        self.port = 0

    def bind(self, _address: Any) -> None:
        self.port = ScriptedSocket.script.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def close(self) -> None:
        pass


def test_a_port_given_out_is_not_given_again_while_its_user_has_not_bound_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The OS offers 40001 twice: the registry's port is free again until the registry binds it.
    ScriptedSocket.script = [40001, 40001, 40002]
    monkeypatch.setattr(stack, "_GIVEN", set(), raising=False)
    monkeypatch.setattr(stack, "socket", SimpleNamespace(socket=ScriptedSocket))
    assert [stack.free_port(), stack.free_port()] == [40001, 40002]
    assert ScriptedSocket.script == []


def test_ports_are_free_and_distinct() -> None:
    ports = [stack.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # nothing holds it
