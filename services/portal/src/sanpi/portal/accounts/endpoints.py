"""Pages of accounts: log in, log out, the language switch, and the administrator's account
management (create, change role and parks, disable, reset the password)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from sanpi.kit import Role, utcnow
from sanpi.kit.app import get_runtime
from sanpi.kit.ratelimit import RateLimiter
from sanpi.portal import forms
from sanpi.portal.accounts import repository
from sanpi.portal.accounts import service as accounts
from sanpi.portal.accounts.schemas import AccountFields, LoginForm, NewAccount, PasswordFields
from sanpi.portal.accounts.service import Refusal
from sanpi.portal.i18n import LANGUAGES, _, moment
from sanpi.portal.security import (
    CSRF_FIELD,
    client_address,
    new_token,
    safe_next,
    same_token,
    secure_cookie,
)
from sanpi.portal.upstream import call
from sanpi.portal.web import (
    LANGUAGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AdminDep,
    FormDep,
    VisitorDep,
    redirect,
    render,
    settings,
)

router = APIRouter()


def _cookie_flags(request: Request) -> dict[str, Any]:
    conf = settings(request)
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": secure_cookie(request, mode=conf.cookie_secure, proxies=conf.trusted_proxies),
        "path": "/",
    }


def _login_page(
    request: Request,
    *,
    token: str,
    next_url: str,
    error: str | None = None,
    username: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render(
        request,
        "login.html",
        {"login_token": token, "next": next_url, "error": error, "username": username},
        status=status,
        headers=headers,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, **_cookie_flags(request))
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    return _login_page(request, token=token, next_url=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    """Checks the login form's token, the address's rate limit, then the password; a good login
    gets a brand-new session (any session id the browser brought is dropped: fixation)."""
    conf = settings(request)
    runtime = get_runtime(request)
    form = await request.form()
    next_url = safe_next(str(form.get("next") or "/"))
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE)
    given = form.get(CSRF_FIELD)
    fresh = new_token()
    if not same_token(cookie_token, given if isinstance(given, str) else None):
        return _login_page(
            request,
            token=fresh,
            next_url=next_url,
            error=_("The login form had expired; please log in again."),
            status=403,
        )
    limiter: RateLimiter = request.app.state.login_limit
    decision = limiter.take(client_address(request, conf.trusted_proxies))
    if not decision.allowed:
        seconds = str(math.ceil(decision.retry_after_s))
        return _login_page(
            request,
            token=fresh,
            next_url=next_url,
            error=_("Too many attempts; wait %(n)s seconds and try again.", n=seconds),
            status=429,
            headers={"Retry-After": seconds},
        )
    parsed, _errors = forms.parse(LoginForm, forms.values(form))
    username = str(form.get("username") or "").strip().lower()[:64]
    if parsed is None:
        return _login_page(
            request,
            token=fresh,
            next_url=next_url,
            error=_("Enter your user name and password."),
            username=username,
            status=400,
        )
    now = utcnow()
    async with runtime.db.transaction() as uow:
        result = await accounts.authenticate(
            uow,
            username=parsed.username.strip().lower(),
            password=parsed.password,
            now=now,
            lockout_failures=conf.lockout_failures,
            lockout_s=conf.lockout_s,
        )
        if result.account is not None:
            token, _row = await accounts.open_session(
                uow,
                result.account,
                now=now,
                client=client_address(request, conf.trusted_proxies),
                replaces=request.cookies.get(SESSION_COOKIE),
            )
    if result.account is None:
        if result.refusal is Refusal.LOCKED:
            error = _(
                "Too many wrong passwords: this account is locked until %(when)s.",
                when=moment(result.locked_until),
            )
        elif result.refusal is Refusal.DISABLED:
            error = _("This account is disabled; ask the administrator.")
        else:
            error = _("Wrong user name or password.")
        return _login_page(
            request, token=fresh, next_url=next_url, error=error, username=username, status=401
        )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, **_cookie_flags(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, _visitor: VisitorDep, _form: FormDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with get_runtime(request).db.transaction() as uow:
            await accounts.close_session(uow, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
async def switch_language(request: Request, lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 86400, **{**_cookie_flags(request)}
        )
    return response


# --- administration --------------------------------------------------------------------------


async def _parks(request: Request, visitor: AdminDep) -> list[str]:
    apis = request.app.state.upstream.as_user(visitor)
    answer = await call(apis.registry.parks)
    return [str(p) for p in answer.get("parks", [])]


@router.get("/admin/accounts")
async def list_accounts(
    request: Request,
    visitor: AdminDep,
    q: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    conf = settings(request)
    async with get_runtime(request).db.read() as session:
        rows = await repository.page(session, after=after, limit=conf.page_size + 1, q=q)
    more = len(rows) > conf.page_size
    rows = rows[: conf.page_size]
    return render(
        request,
        "admin/accounts.html",
        {"accounts": rows, "next_after": rows[-1].username if more else None, "q": q or ""},
    )


@router.get("/admin/accounts/new")
async def new_account_form(request: Request, visitor: AdminDep) -> Response:
    return render(
        request,
        "admin/account_new.html",
        {"parks": await _parks(request, visitor), "values": {"role": Role.OPERATOR.value}},
    )


@router.post("/admin/accounts/new")
async def create_account(request: Request, visitor: AdminDep, form: FormDep) -> Response:
    parks = await _parks(request, visitor)
    data = forms.values(form, lists=["parks"])
    if "username" in data:
        data["username"] = str(data["username"]).lower()
    parsed, errors = forms.parse(NewAccount, data)
    if parsed is not None:
        unknown = [p for p in parsed.parks if p not in parks]
        if unknown:
            errors["parks"] = _("Unknown park: %(park)s", park="、".join(unknown))
    if parsed is not None and not errors:
        async with get_runtime(request).db.transaction() as uow:
            if await repository.get(uow.session, parsed.username) is not None:
                errors["username"] = _("This user name is taken.")
            else:
                await accounts.create(
                    uow,
                    username=parsed.username,
                    display_name=parsed.display_name,
                    role=parsed.role,
                    parks=parsed.parks,
                    password=parsed.password,
                    by=visitor.account.username,
                    now=utcnow(),
                )
    if parsed is None or errors:
        data.pop("password", None)
        data.pop("password_confirm", None)
        return render(
            request,
            "admin/account_new.html",
            {"parks": parks, "values": data, "errors": errors},
            status=422,
        )
    return redirect(f"/admin/accounts/{parsed.username}?created=1")


@router.get("/admin/accounts/{username}")
async def account_page(
    request: Request, username: str, visitor: AdminDep, created: bool = False, saved: bool = False
) -> Response:
    async with get_runtime(request).db.read() as session:
        account = await accounts.get(session, username)
    return render(
        request,
        "admin/account.html",
        {
            "account": account,
            "parks": await _parks(request, visitor),
            "values": {
                "display_name": account.display_name,
                "role": account.role,
                "parks": account.parks,
                "disabled": account.disabled,
            },
            "notice": _("Account created.")
            if created
            else (_("Changes saved.") if saved else None),
        },
    )


@router.post("/admin/accounts/{username}")
async def update_account(
    request: Request, username: str, visitor: AdminDep, form: FormDep
) -> Response:
    parks = await _parks(request, visitor)
    data = forms.values(form, lists=["parks"])
    data["disabled"] = data.get("disabled") == "on"
    parsed, errors = forms.parse(AccountFields, data)
    if parsed is not None:
        unknown = [p for p in parsed.parks if p not in parks]
        if unknown:
            errors["parks"] = _("Unknown park: %(park)s", park="、".join(unknown))
        if username == visitor.account.username and (
            parsed.disabled or parsed.role is not Role.ADMIN
        ):
            errors["role"] = _("You cannot disable yourself or take away your own admin role.")
    async with get_runtime(request).db.transaction() as uow:
        account = await accounts.get(uow.session, username)
        if parsed is not None and not errors:
            await accounts.update(
                uow,
                username=username,
                display_name=parsed.display_name,
                role=parsed.role,
                parks=parsed.parks,
                disabled=parsed.disabled,
                now=utcnow(),
            )
            return redirect(f"/admin/accounts/{username}?saved=1")
    return render(
        request,
        "admin/account.html",
        {"account": account, "parks": parks, "values": data, "errors": errors},
        status=422,
    )


@router.post("/admin/accounts/{username}/password")
async def reset_password(
    request: Request, username: str, visitor: AdminDep, form: FormDep
) -> Response:
    parks = await _parks(request, visitor)
    parsed, errors = forms.parse(PasswordFields, forms.values(form))
    async with get_runtime(request).db.transaction() as uow:
        account = await accounts.get(uow.session, username)
        if parsed is not None:
            await accounts.reset_password(
                uow, username=username, password=parsed.password, now=utcnow()
            )
    return render(
        request,
        "admin/account.html",
        {
            "account": account,
            "parks": parks,
            "values": {
                "display_name": account.display_name,
                "role": account.role,
                "parks": account.parks,
                "disabled": account.disabled,
            },
            "notice": _("Password reset; the user's sessions have ended.") if parsed else None,
            "password_errors": errors,
        },
        status=200 if parsed else 422,
    )
