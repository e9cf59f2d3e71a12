"""HTTP routes of /v1/contacts: the contact book, managed by admins, read by operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sanpi.kit import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Admin,
    Page,
    ReadSessionDep,
    RuntimeDep,
    UnitOfWorkDep,
    Writer,
)
from sanpi.notification.contacts import service
from sanpi.notification.contacts.schemas import ContactCreate, ContactPublic, ContactUpdate
from sanpi.notification.settings import NotificationSettings

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _settings(runtime: RuntimeDep) -> NotificationSettings:
    settings = runtime.settings
    assert isinstance(settings, NotificationSettings)
    return settings


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ContactPublic)
async def create_contact(
    body: ContactCreate, _admin: Admin, uow: UnitOfWorkDep, runtime: RuntimeDep
) -> ContactPublic:
    """Adds a contact (admin). At least one address is needed: a 企业微信 mobile or robot, an
    e-mail, a 钉钉 mobile or robot, a 飞书 robot; robot secrets are stored sealed."""
    settings = _settings(runtime)
    contact = await service.create(
        uow.session, body=body, egress=settings.egress, box=settings.secret_box
    )
    await uow.session.flush()
    return ContactPublic.of(contact)


@router.get("", response_model=Page[ContactPublic])
async def list_contacts(
    _principal: Writer,
    session: ReadSessionDep,
    unit: Annotated[str | None, Query(max_length=200, description="责任单位")] = None,
    park: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ContactPublic]:
    """The contact book, oldest entry first (operators and admins: it holds phone numbers)."""
    return await service.page(session, unit=unit, park=park, limit=limit, cursor=cursor)


@router.get("/{contact_id}", response_model=ContactPublic)
async def get_contact(
    contact_id: str, _principal: Writer, session: ReadSessionDep
) -> ContactPublic:
    return ContactPublic.of(await service.get(session, contact_id))


@router.patch("/{contact_id}", response_model=ContactPublic)
async def update_contact(
    contact_id: str,
    body: ContactUpdate,
    _admin: Admin,
    uow: UnitOfWorkDep,
    runtime: RuntimeDep,
) -> ContactPublic:
    """Changes a contact (admin): the fields given replace the stored ones; null clears an
    address, as long as one remains."""
    settings = _settings(runtime)
    contact = await service.update(
        uow.session,
        contact_id=contact_id,
        body=body,
        egress=settings.egress,
        box=settings.secret_box,
        now=runtime.clock.now(),
    )
    await uow.session.flush()
    return ContactPublic.of(contact)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_contact(contact_id: str, _admin: Admin, uow: UnitOfWorkDep) -> Response:
    """Removes a contact (admin). Open 督办 items keep the name they were sent to."""
    await service.remove(uow.session, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
