"""Every log record of a test run, kept and scanned for the seeded residents' data.

``tests/conftest.py`` installs :class:`Keeper` on the root logger for the whole run (INFO and
above, as ``drt serve`` logs) and, at the end, fails the run if a line names a seeded
resident, a test rider, a driver or a demo secret: a name, a reading, a phone number (with or
without hyphens), an address or a token. Lines are formatted as the service formats them
(``common.logfmt.JsonFormatter``), so what is checked is what a log collector would store.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from common.logfmt import JsonFormatter
from server.seed import DEMO_DRIVER, DEMO_RESIDENTS, DEMO_TABLET

#: Loggers whose INFO lines are a library's own chatter (and cost time), kept at WARNING.
QUIET = ("sqlalchemy", "hypothesis", "asyncio", "httpx", "httpcore", "urllib3", "numba",
         "matplotlib", "PIL", "fontTools", "alembic", "faker", "schemathesis", "locust")  # fmt: skip
MAX_LINES = 500_000
_SEPARATORS = re.compile(r"[-‐－ー()（） ]")


#: The run's keeper (``install``), for the log files of servers started in subprocesses.
_RUN: list[Keeper] = []
LOAD_RESIDENTS = 300  # the fault and load tests' residents 0..n-1 (loadtests/data.py)


def personal_values() -> list[str]:
    """What must never be in a log line."""
    from loadtests.data import resident_phone

    values: list[str] = []
    for i in range(LOAD_RESIDENTS):  # the fault tests' residents, registered through the API
        phone = resident_phone(i)
        values += [f"負荷 {i}", f"フカ {i}", phone, re.sub(r"\D", "", phone)]
    for r in DEMO_RESIDENTS:
        values += [r.name, r.kana, r.phone, re.sub(r"\D", "", r.phone), r.address or ""]
    # the rider every booking test registers (tests/booking/conftest.py)
    values += ["鞍手 太郎", "クラテ タロウ", "090-1234-5678", "09012345678", "鞍手町大字中山 1"]
    values += [DEMO_DRIVER[2], DEMO_TABLET]
    return [v for v in values if v]


class Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) < MAX_LINES:
            try:
                self.lines.append(self.format(record))
            except Exception:  # a record that cannot be formatted is kept as it came
                self.lines.append(repr(record.__dict__))

    def findings(self) -> list[str]:
        """Lines with a personal value; phone numbers are looked for without their
        separators too (090-1111-2222, 090 1111 2222, 09011112222)."""
        values = personal_values()
        return [line for line in self.lines
                if any(v in line or v in _SEPARATORS.sub("", line) for v in values)]  # fmt: skip


def keep_file(path: Path) -> None:
    """Every line of a server's log file (`drt serve` run by the fault tests) joins the scan."""
    if _RUN and path.is_file():
        _RUN[0].lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())


def install() -> Keeper:
    keeper = Keeper()
    _RUN[:] = [keeper]
    root = logging.getLogger()
    root.addHandler(keeper)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return keeper
