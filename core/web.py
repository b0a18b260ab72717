"""What every channel's web layer shares: the request's session and the dispatch host as
FastAPI dependencies, and the files of its pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from common.errors import NotFound
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


def page_file(folder: Path, name: str = "index.html") -> FileResponse:
    """A file of a page's folder (its HTML, scripts, styles); 404 for anything outside it."""
    path = (folder / name).resolve()
    if path.parent != folder.resolve() or not path.is_file():
        raise NotFound("ファイルがありません。", "No such file.")
    if name.endswith(".html"):
        return FileResponse(path, media_type="text/html; charset=utf-8")
    return FileResponse(path)
