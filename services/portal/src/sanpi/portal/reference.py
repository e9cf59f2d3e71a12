"""Reference data every page's filters need (the district and its parks, the periods), read from
the registry as the visitor and kept for a minute: they change a few times a year."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sanpi.portal.accounts.service import Visitor
from sanpi.portal.upstream import Apis, call

TTL_S = 60.0


@dataclass
class Reference:
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    async def _get(self, key: str, fetch: Any) -> Any:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < TTL_S:
            return hit[1]
        value = await call(fetch)
        self._cache[key] = (now, value)
        return value

    async def district(self, apis: Apis) -> tuple[str, list[str]]:
        answer = await self._get("parks", apis.registry.parks)
        return str(answer.get("district", "")), [str(p) for p in answer.get("parks", [])]

    async def parks_for(self, apis: Apis, visitor: Visitor) -> list[str]:
        """The parks a visitor works on: an operator's own, everyone else's all of them."""
        if visitor.role == "operator":
            return visitor.parks
        return (await self.district(apis))[1]

    @staticmethod
    def scope(visitor: Visitor) -> list[str] | None:
        """The parks a visitor's lists are limited to: an operator's own; None for everyone
        else (all parks, whatever their number: a province has hundreds)."""
        return visitor.parks if visitor.role == "operator" else None

    async def periods(self, apis: Apis) -> list[dict[str, Any]]:
        answer = await self._get("periods", apis.registry.list_periods)
        return list(answer.get("items", []))

    def forget(self) -> None:
        """After the admin changed periods: the next page reads them again."""
        self._cache.clear()
