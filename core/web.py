"""FastAPI dependencies every channel shares: the request's session and the dispatch host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from core.host import DispatchHost


def host_of(request: Request) -> DispatchHost:
    host: DispatchHost = request.app.state.host
    return host


def session_dep(request: Request) -> Iterator[Session]:
    """One session per request; the request owns commit and rollback. It commits when the
    endpoint returns, *before* the answer is sent (``scope="function"``): with the default
    scope FastAPI runs this after sending, and a client's next request (a console signing
    in, then loading the meeting points) could arrive before its token was committed."""
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(session_dep, scope="function")]
HostDep = Annotated[DispatchHost, Depends(host_of)]
