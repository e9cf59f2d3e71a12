"""Pages of projects."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sanpi.portal.web import VisitorDep, render

router = APIRouter()


@router.get("/")
async def my_projects(request: Request, visitor: VisitorDep) -> Response:
    return render(request, "projects/list.html", {"rows": []})
