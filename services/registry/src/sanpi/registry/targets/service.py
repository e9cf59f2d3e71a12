"""Target rules: set (upsert) an annual target and emit target.set. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sanpi.events import TargetSet
from sanpi.kit import FieldProblem, Forbidden, InvalidInput, Principal, Role, UnitOfWork, utcnow
from sanpi.kit.messages import quoted
from sanpi.registry.periods import messages as refusals
from sanpi.registry.targets import repository
from sanpi.registry.targets.models import Target
from sanpi.registry.targets.schemas import TargetSetRequest


async def set_target(
    uow: UnitOfWork,
    *,
    body: TargetSetRequest,
    principal: Principal,
    district: str,
    parks: Sequence[str],
) -> tuple[Target, bool]:
    """Sets the value of (year, scope, kind); returns the row and whether it is new. A district
    target is an admin's decision; a park's operator may set that park's own."""
    if body.scope == district:
        if principal.role is not Role.ADMIN:
            raise Forbidden(refusals.DISTRICT_TARGET_ADMIN(district=district))
    elif body.scope in parks:
        principal.ensure_can_write_park(body.scope)
    else:
        raise InvalidInput(
            refusals.UNKNOWN_SCOPE(scope=quoted(body.scope)),
            errors=[FieldProblem("scope", refusals.ONE_OF(choices=", ".join([district, *parks])))],
        )
    target = await repository.get(uow.session, body.year, body.scope, body.kind)
    created = target is None
    if target is None:
        target = Target(
            year=body.year,
            scope=body.scope,
            kind=body.kind,
            value=body.value,
            set_by=principal.subject,
        )
    target.value = body.value
    target.set_by = principal.subject
    target.updated_at = utcnow()
    repository.save(uow.session, target)
    uow.publish(
        TargetSet(
            year=target.year,
            scope=target.scope,
            kind=target.kind,
            value=target.value,
            set_by=target.set_by,
        ),
    )
    return target, created
