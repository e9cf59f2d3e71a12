"""Every SQL statement about projects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, func, literal, or_, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from sanpi.events import BatchType, Category, ChainTag, Stage
from sanpi.registry.listings.models import Listing
from sanpi.registry.projects.models import Project
from sanpi.registry.projects.schemas import ProjectSort

# NULL planned dates sort last in both directions' "ascending" sense: a far-future stand-in keeps
# the keyset comparison a plain `>` on one expression.
NO_DATE = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class ProjectFilter:
    """The list filters; None means "any"."""

    park: str | None = None
    stage: Stage | None = None
    category: Category | None = None
    chain_tag: ChainTag | None = None
    is_manufacturing: bool | None = None
    period: int | None = None
    batch: BatchType | None = None
    min_investment: int | None = None
    max_investment: int | None = None
    q: str | None = None
    include_cancelled: bool = True


def sort_expression(sort: ProjectSort) -> Any:
    """The SQL expression a sort orders by (before the id tie-breaker)."""
    name = sort.value.lstrip("-")
    if name == "planned_start_date":
        return func.coalesce(col(Project.planned_start_date), literal(NO_DATE, Date))
    return col(getattr(Project, name))


def sort_value(project: Project, sort: ProjectSort) -> Any:
    """The row's value of the sort expression (what a cursor remembers)."""
    value = getattr(project, sort.value.lstrip("-"))
    return NO_DATE if value is None and sort.value.endswith("planned_start_date") else value


def _conditions(f: ProjectFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.park is not None:
        where.append(col(Project.park) == f.park)
    if f.stage is not None:
        where.append(col(Project.stage) == f.stage)
    if f.category is not None:
        where.append(col(Project.category) == f.category)
    if f.chain_tag is not None:
        where.append(col(Project.chain_tag) == f.chain_tag)
    if f.is_manufacturing is not None:
        where.append(col(Project.is_manufacturing) == f.is_manufacturing)
    if f.min_investment is not None:
        where.append(col(Project.total_investment) >= f.min_investment)
    if f.max_investment is not None:
        where.append(col(Project.total_investment) <= f.max_investment)
    if not f.include_cancelled:
        where.append(col(Project.cancelled_on).is_(None))
    if f.period is not None or f.batch is not None:
        # IN (the list's ids), not a correlated EXISTS: SQLite walked the projects in sort order
        # probing each one's listings (14.6 ms at 20,000 projects, period 8's START list) where
        # it now reads the list from its index and sorts those (2.0 ms); PostgreSQL plans both
        # alike.
        listed: list[ColumnElement[bool]] = []
        if f.period is not None:
            listed.append(col(Listing.period) == f.period)
        if f.batch is not None:
            listed.append(col(Listing.batch) == f.batch)
        where.append(col(Project.id).in_(select(col(Listing.project_id)).where(*listed)))
    if f.q:
        # lower() + LIKE: case-insensitive for Latin letters on SQLite and PostgreSQL alike;
        # Chinese has no case, so a substring match is what 搜索 means there.
        needle = f.q.lower()
        where.append(
            or_(
                func.lower(col(Project.name)).contains(needle, autoescape=True),
                func.lower(col(Project.enterprise_name)).contains(needle, autoescape=True),
                # 项目代码 (GB/T 40058) is upper-case letters and digits: matched as typed, upper.
                col(Project.national_project_code).contains(f.q.upper(), autoescape=True),
            )
        )
    return where


def _after(sort: ProjectSort, after: tuple[Any, str] | None) -> ColumnElement[bool]:
    if after is None:
        return true()
    value, last_id = after
    key = sort_expression(sort)
    if sort.value.startswith("-"):
        return or_(key < value, and_(key == value, col(Project.id) < last_id))
    return or_(key > value, and_(key == value, col(Project.id) > last_id))


def _ordered(sort: ProjectSort) -> tuple[Any, Any]:
    key = sort_expression(sort)
    if sort.value.startswith("-"):
        return key.desc(), col(Project.id).desc()
    return key.asc(), col(Project.id).asc()


async def get(session: AsyncSession, project_id: str) -> Project | None:
    return await session.get(Project, project_id)


async def existing_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        stmt = select(Project.id).where(col(Project.id).in_(ids[start : start + 500]))
        found.update((await session.exec(stmt)).all())
    return found


async def by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Project]:
    """The projects of these ids that exist (a sheet's rows, 500 ids a statement)."""
    found: list[Project] = []
    for start in range(0, len(ids), 500):
        stmt = select(Project).where(col(Project.id).in_(ids[start : start + 500]))
        found.extend((await session.exec(stmt)).all())
    return found


async def by_codes(session: AsyncSession, codes: Sequence[str]) -> list[Project]:
    """The projects carrying any of these national project codes."""
    found: list[Project] = []
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        stmt = select(Project).where(col(Project.national_project_code).in_(chunk))
        found.extend((await session.exec(stmt)).all())
    return found


def add(session: AsyncSession, project: Project) -> None:
    session.add(project)


def add_all(session: AsyncSession, projects: Sequence[Project]) -> None:
    session.add_all(projects)


async def list_page(
    session: AsyncSession,
    *,
    filters: ProjectFilter,
    sort: ProjectSort,
    after: tuple[Any, str] | None,
    limit: int,
) -> list[Project]:
    """At most `limit` projects matching `filters`, in `sort` order, strictly after `after`."""
    stmt = (
        select(Project)
        .where(*_conditions(filters), _after(sort, after))
        .order_by(*_ordered(sort))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def all_matching(
    session: AsyncSession, *, filters: ProjectFilter, sort: ProjectSort
) -> list[Project]:
    """Every project matching `filters` (exports and indicators)."""
    stmt = select(Project).where(*_conditions(filters)).order_by(*_ordered(sort))
    return list((await session.exec(stmt)).all())
