"""The bare FastAPI baseline: one endpoint, one INSERT in one transaction, no auth, outbox or events.

Run as its own uvicorn process: `python -m bench.bare_app <database url> <port>`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bench.common import SQLITE_SYNCHRONOUS
from sanpi.kit.db import Database

metadata = MetaData()
items = Table(
    "bench_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", String(36), nullable=False),
    Column("amount", Integer, nullable=False),
)


class Item(BaseModel):
    project_id: str
    amount: int


def create_app(url: str) -> FastAPI:
    # The same engine set-up as the services (WAL and BEGIN IMMEDIATE on SQLite).
    db = Database(url, sqlite_synchronous=SQLITE_SYNCHRONOUS)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield
        await db.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/items", status_code=201)
    async def create(item: Item) -> dict[str, bool]:
        async with db.transaction() as uow:
            session = uow.session
            await session.exec(insert(items).values(project_id=item.project_id, amount=item.amount))
        return {"ok": True}

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
