"""The container deployment, checked without Docker (there is none in CI).

``docker-compose.yml`` against the Compose Specification's JSON schema (check-jsonschema's
vendored copy); every ``drt`` command the compose file and the ``Dockerfile`` run against the
real CLI, the migration among them run for real; ``deploy/env.example`` against the settings
the service reads; the ``Dockerfile``'s base image, user, health check and build context.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from common.settings import Settings, load_settings
from drt.cli import app as cli
from line_channel.config import LineConfig
from line_channel.demo import DEMO_SECRET, DEMO_TOKEN
from server.app import create_app
from server.migrate import SCRIPTS, upgrade

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
PORT = 8000  # the container's port: EXPOSE, `drt serve --port`, the health checks, `ports:`
SECRETS = ("DRT_LINE_CHANNEL_SECRET", "DRT_LINE_CHANNEL_ACCESS_TOKEN", "DRT_METRICS_TOKEN")


# -- reading the files ------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # resolves the `<<:` merges
    assert isinstance(data, dict)
    return data


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def exec_form(arguments: str) -> list[str]:
    assert arguments.startswith("["), f"use the exec (JSON) form: {arguments}"
    value = yaml.safe_load(arguments)  # a JSON array is YAML too
    assert isinstance(value, list)
    return [str(v) for v in value]


def shell_script(argv: list[str]) -> list[str]:
    """``["/bin/sh", "-c", "exec drt …"]`` → the words of the command the shell runs."""
    if argv[:2] in (["/bin/sh", "-c"], ["sh", "-c"]):
        words = shlex.split(argv[2])
        return words[1:] if words[0] == "exec" else words
    return argv


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` (no nesting) and ``$$``."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        value = values.get(name, "")
        if op == ":?":
            assert value, f"{name} is required: {arg}"
        if op == ":-" and not value:
            return arg
        return value

    text = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}", one, text)
    return text.replace("$$", "$")


def variables_expanded(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(set, commented-out) ``NAME=value`` lines of deploy/env.example; each name once."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"(#\s?)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m is None:
            continue
        name, value = m.group(2), m.group(3)
        assert name not in active, f"{name} twice in env.example"
        assert name not in commented, f"{name} twice in env.example"
        # a plain value (no quotes, no spaces) reads the same in compose and systemd
        assert value == value.strip(), name
        assert not value.startswith(("'", '"')), name
        (commented if m.group(1) else active)[name] = value
    return active, commented


def settings_env_names() -> dict[str, str]:
    """Environment variable → Settings field, as pydantic-settings reads them."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        names[(alias if isinstance(alias, str) else prefix + field).upper()] = field
    return names


def image_variables() -> set[str]:
    """The variables the image's own CMD expands (not the service's settings)."""
    cmd = [args for word, args in final_stage() if word == "CMD"]
    return variables_expanded(cmd[-1])


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No DRT_* from the machine running the tests (CI sets the database and Redis)."""
    for name in list(os.environ):
        if name.startswith("DRT_"):
            monkeypatch.delenv(name)
    return monkeypatch


# -- (a) the Compose Specification -------------------------------------------------------------


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    done = check_compose_schema(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout
    assert "version" not in compose(), "the Compose Specification has no `version:` key"


def test_the_schema_check_catches_a_broken_compose_file(tmp_path: Path) -> None:
    """Not vacuous: the same check refuses a wrong dependency condition."""
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE.read_text(encoding="utf-8")
    assert "condition: service_completed_successfully" in text
    broken.write_text(text.replace("service_completed_successfully", "service_finished"))
    done = check_compose_schema(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "service_finished" in done.stdout + done.stderr


def test_compose_services_volumes_and_health_checks() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"db", "redis", "migrate", "app", "line-demo"}
    assert set(spec["volumes"]) >= {"pgdata", "redisdata", "cache"}

    db = services["db"]
    assert db["image"].startswith("postgres:16")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pg_isready" in db["healthcheck"]["test"]

    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    assert redis["command"][:1] == ["redis-server"]
    assert " ".join(redis["command"]).count("--appendonly yes") == 1
    assert "redisdata:/data" in redis["volumes"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])

    migrate, app = services["migrate"], services["app"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert app["restart"] == "unless-stopped"
    for svc in (migrate, app):
        assert svc["env_file"] == ".env"
        assert svc["build"]["context"] == "."  # this repository's Dockerfile
        assert svc["image"] == services["line-demo"]["image"]
    assert "cache:/var/cache/drt" in app["volumes"]
    assert services["line-demo"]["profiles"] == ["line-demo"]
    assert "env_file" not in services["line-demo"], "the demo must never get the real secrets"
    for name, svc in services.items():  # nothing but the service is published, on loopback
        for mapping in svc.get("ports", []):
            published = interpolate(mapping, {})
            assert published.startswith("127.0.0.1:"), f"{name} publishes {published}"
            assert published.endswith(f":{PORT}")


def test_the_app_health_check_asks_readyz_which_the_app_serves(tmp_path: Path) -> None:
    test = compose()["services"]["app"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]  # the image has no curl
    assert f"http://127.0.0.1:{PORT}/readyz" in test[-1]
    image_check = [args for word, args in final_stage() if word == "HEALTHCHECK"]
    assert len(image_check) == 1
    assert f"http://127.0.0.1:{PORT}/healthz" in image_check[0]
    assert 'CMD ["python", "-c"' in image_check[0]
    app = create_app(load_settings(embedded=True, cache_dir=tmp_path))
    paths = {getattr(route, "path", "") for route in app.routes}
    assert {"/healthz", "/readyz"} <= paths


# -- (b) every `drt` command is one the CLI has ------------------------------------------------


def drt_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `drt`) for every drt command the compose file and the image run,
    and those the compose file's header tells the operator to run."""
    found: list[tuple[str, list[str]]] = []
    for name, svc in compose()["services"].items():
        command = svc.get("command")
        if command is None:
            continue
        argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
        if argv[0] == "drt":
            found.append((f"compose {name}", [interpolate(a, {}) for a in argv[1:]]))
    for word, args in final_stage():
        if word == "RUN" and args.startswith("drt "):
            found.append(("Dockerfile RUN", shlex.split(args)[1:]))
        if word == "CMD":
            argv = shell_script(exec_form(args))
            assert argv[0] == "drt", f"the image runs {argv}"
            defaults = [re.sub(r"\$\{\w+:-(\w+)\}", r"\1", a) for a in argv[1:]]
            found.append(("Dockerfile CMD", defaults))
    for line in COMPOSE.read_text(encoding="utf-8").splitlines():
        m = re.search(r"docker compose run --rm \w+ drt (.+)$", line)
        if m:
            found.append(("compose header", shlex.split(m.group(1))))
    return found


def resolve(argv: list[str]) -> tuple[list[str], Any, list[str]]:
    """The subcommand path, its command (Typer's click) and the arguments left for it."""
    command: Any = typer.main.get_command(cli)
    path: list[str] = []
    rest = list(argv)
    while getattr(command, "commands", None) is not None and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        assert sub is not None, f"`drt {' '.join([*path, rest[0]])}` is not a command"
        path.append(rest.pop(0))
        command = sub
    assert getattr(command, "commands", None) is None, f"`drt {' '.join(path)}` needs more"
    return path, command, rest


def test_the_commands_that_are_run_are_there() -> None:
    commands = drt_commands()
    where = {w for w, _ in commands}
    assert {"compose migrate", "compose app", "compose line-demo", "Dockerfile CMD"} <= where
    assert any(argv[:2] == ["db", "create-staff"] for _, argv in commands)
    runner = CliRunner()
    for place, argv in commands:
        path, command, rest = resolve(argv)
        options = {word.split("=", 1)[0] for word in rest if word.startswith("--")}
        known = {opt for param in command.params for opt in param.opts}
        assert options <= known, f"{place}: `drt {' '.join(path)}` has no {options - known}"
        shown = runner.invoke(cli, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, shown.output
        for option in options:
            assert option in shown.output, f"{place}: {option} not in `drt {' '.join(path)} --help`"
        if "--password" not in known:  # parse the values too (a prompt would wait for input)
            command.make_context(" ".join(["drt", *path]), list(rest))


def test_serve_and_demo_listen_on_every_address_at_the_container_port() -> None:
    for place, argv in drt_commands():
        path, command, rest = resolve(argv)
        if path in (["serve"], ["demo"]):
            ctx = command.make_context(path[0], list(rest))
            assert ctx.params["host"] == "0.0.0.0", place
            assert ctx.params["port"] == PORT, place
            if path == ["serve"]:
                assert ctx.params["workers"] >= 1
    assert ("EXPOSE", str(PORT)) in final_stage()
    serve = compose()["services"]["app"]["command"]
    assert serve[serve.index("--workers") + 1] == "${DRT_WORKERS:-2}"
    assert "DRT_WORKERS" in image_variables()


def test_migrate_runs_the_same_migrations_as_the_tests(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    """The migrate service's command, run here on a fresh embedded database, reaches the
    schema the test fixtures build with :func:`server.migrate.upgrade`."""
    argv = compose()["services"]["migrate"]["command"]
    assert argv == ["drt", "db", "upgrade"]
    clean_env.setenv("DRT_EMBEDDED", "1")
    clean_env.setenv("DRT_CACHE_DIR", str(tmp_path / "cli"))
    (tmp_path / "cli").mkdir()
    done = CliRunner().invoke(cli, argv[1:])
    assert done.exit_code == 0, done.output
    assert "up to date" in done.output
    with sqlite3.connect(tmp_path / "cli" / "drt.sqlite3") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    script = ScriptDirectory(str(SCRIPTS))
    assert version == script.get_current_head()

    native = create_engine(f"sqlite:///{tmp_path / 'native.sqlite3'}")
    upgrade(native)
    by_cli = create_engine(f"sqlite:///{tmp_path / 'cli' / 'drt.sqlite3'}")
    try:
        tables = set(inspect(native).get_table_names())
        assert tables == set(inspect(by_cli).get_table_names())
        assert len(tables) > 5
    finally:
        native.dispose()
        by_cli.dispose()


# -- (c) deploy/env.example and the settings ---------------------------------------------------


def test_every_variable_in_the_example_is_read_by_someone() -> None:
    active, commented = env_example()
    settings = settings_env_names()
    deployment = variables_expanded(COMPOSE.read_text(encoding="utf-8")) | image_variables()
    for name in {**active, **commented}:
        assert name in settings or name in deployment, (
            f"deploy/env.example names {name}, which neither the service (common/settings.py) "
            "nor docker-compose.yml nor the image's CMD reads"
        )
    assert "POSTGRES_PASSWORD" in active


def test_every_setting_is_in_the_example(clean_env: pytest.MonkeyPatch) -> None:
    active, commented = env_example()
    for name, field in settings_env_names().items():
        assert name in active or name in commented, f"{name} is missing from deploy/env.example"
        if Settings.model_fields[field].is_required():
            assert name in active, f"{name} is required: set it (not commented out)"


def test_the_defaults_shown_are_the_real_ones(clean_env: pytest.MonkeyPatch) -> None:
    _, commented = env_example()
    names = settings_env_names()
    default = Settings()
    for name, value in commented.items():
        if name not in names:
            continue  # compose's own knobs (checked against docker-compose.yml below)
        clean_env.setenv(name, value)
        field = names[name]
        assert getattr(Settings(), field) == getattr(default, field), (
            f"deploy/env.example shows `# {name}={value}`, but the default is "
            f"{getattr(default, field)!r}"
        )
        clean_env.delenv(name)
    for name in ("APP_PUBLISH", "LINE_DEMO_PUBLISH", "APP_IMAGE"):
        assert f"${{{name}:-{commented[name]}}}" in COMPOSE.read_text(encoding="utf-8"), name


def test_the_example_loads_and_holds_no_secret(clean_env: pytest.MonkeyPatch) -> None:
    active, _ = env_example()
    for name in SECRETS:
        value = active[name]
        assert value == "" or "CHANGE-ME" in value, f"{name}: a placeholder, never a value"
        assert value not in (DEMO_SECRET, DEMO_TOKEN)
    assert "CHANGE-ME" in active["POSTGRES_PASSWORD"]
    names = settings_env_names()
    for name, value in active.items():
        if name in names:
            clean_env.setenv(name, value)
    settings = load_settings()  # raises naming any invalid variable
    assert not settings.embedded
    assert not settings.line_standin
    assert not LineConfig.from_settings(settings).enabled  # off until the real secrets are set


def test_compose_gives_the_app_its_own_database_and_redis(clean_env: pytest.MonkeyPatch) -> None:
    """What `app` and `migrate` get: .env, then the compose file's `environment:` over it."""
    active, _ = env_example()
    for name in ("migrate", "app"):
        environment = compose()["services"][name]["environment"]
        merged = {**active, **{k: interpolate(str(v), active) for k, v in environment.items()}}
        names = settings_env_names()
        for key, value in merged.items():
            if key in names:
                clean_env.setenv(key, value)
        settings = load_settings()
        password = active["POSTGRES_PASSWORD"]
        assert settings.database_url == f"postgresql+psycopg://drt:{password}@db:5432/drt"
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.embedded is False
    db_env = compose()["services"]["db"]["environment"]
    assert interpolate(db_env["POSTGRES_PASSWORD"], active) == active["POSTGRES_PASSWORD"]
    assert (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"]) == ("drt", "drt")
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD is required"):
        interpolate(db_env["POSTGRES_PASSWORD"], {})  # compose stops without it


def test_env_is_kept_out_of_git() -> None:
    lines = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert lines & {".env", "/.env"}, ".gitignore must list .env (the filled-in secrets)"


# -- (d) the Dockerfile and its build context --------------------------------------------------


def test_the_image_is_slim_python_311_and_not_root() -> None:
    steps = instructions()
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.11-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base), base
    stage = final_stage()
    users = [(i, args) for i, (word, args) in enumerate(stage) if word == "USER"]
    assert users, "the final stage has no USER: it would run as root"
    last, user = users[-1]
    assert user.split(":")[0] not in ("root", "0", ""), f"runs as {user}"
    cmd = max(i for i, (word, _) in enumerate(stage) if word == "CMD")
    assert last < cmd
    useradd = " ".join(args for word, args in stage if word == "RUN")
    assert re.search(rf"useradd [^&]*{re.escape(user.split(':')[0])}\b", useradd)


def test_the_image_installs_the_runtime_lockfile_and_no_browser() -> None:
    runs = [args for word, args in instructions() if word == "RUN"]
    joined = " && ".join(runs)
    assert "pip install --no-deps -r requirements-runtime.lock" in joined
    assert "pip install --no-deps ." in joined
    assert joined.index("-r requirements-runtime.lock") < joined.index("pip install --no-deps .")
    assert "pip check" in joined
    assert "chromium" not in joined.lower()
    assert "playwright install" not in joined


def locked(path: Path) -> dict[str, str]:
    """name (normalised) -> version of a lockfile's ``name==version`` lines."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^ ;]+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


SERVICE_PACKAGES = ("common", "routing", "dispatch", "residents", "core", "town", "booking",
                    "driver_app_api", "line_channel", "server", "sim", "drt", "loadtests")  # fmt: skip
# imported only by developers' benchmarks, never by the service (the dev extras have them)
BENCH_ONLY = {"pyinstrument": "drt/bench.py", "pykakasi": "drt/readings_cli.py",
              "fugashi": "drt/readings_cli.py", "locust": "loadtests/locustfile.py"}  # fmt: skip


def test_the_runtime_lockfile_has_what_the_service_imports_and_no_dev_tools() -> None:
    """Every third-party module the service's code imports comes from a distribution in
    requirements-runtime.lock, at the version requirements.lock tests (a module only the
    developers' benchmarks import is allowed where they import it); no test or lint tool is
    in the image's lockfile. (PyYAML, read by the FAQ bot and the forms, had been a dev-only
    dependency.)"""
    import ast
    import importlib.metadata as md
    import sys

    runtime, full = locked(ROOT / "requirements-runtime.lock"), locked(ROOT / "requirements.lock")
    assert runtime, "requirements-runtime.lock pins nothing"
    assert {k: full.get(k) for k in runtime} == runtime  # the versions CI tested
    assert not {"pytest", "ruff", "mypy", "playwright", "hypothesis", "locust"} & set(runtime)
    dists = md.packages_distributions()
    missing = []
    for package in SERVICE_PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            rel = file.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                         and node.level == 0 else [])  # fmt: skip
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in SERVICE_PACKAGES:
                        continue
                    if BENCH_ONLY.get(top) == rel:
                        continue
                    found = [re.sub(r"[-_.]+", "-", d).lower() for d in dists.get(top, [])]
                    if not any(d in runtime for d in found):
                        missing.append(f"{rel}: {name} ({', '.join(found) or 'not installed'})")
    assert missing == []


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        rx = ""
        i = 0
        while i < len(pattern):  # Docker's patterns: ** any folders, * and ? within one name
            if pattern.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif pattern[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif pattern[i] == "?":
                rx, i = rx + "[^/]", i + 1
            else:
                rx, i = rx + re.escape(pattern[i]), i + 1
        rules.append((keep, re.compile(rx)))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: a pattern matching the path or one of its folders; the last one wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: k + 1]) for k in range(len(parts))]
    result = False
    for keep, rx in rules:
        if any(rx.fullmatch(c) for c in candidates):
            result = not keep
    return result


def copied_sources() -> list[str]:
    sources = []
    for word, args in instructions():
        if word == "COPY" and "--from=" not in args:
            words = [w for w in args.split() if not w.startswith("--")]
            sources += [w.rstrip("/") for w in words[:-1]]
    return sources


LEFT_OUT = (
    ".venv/bin/python",
    ".git/HEAD",
    ".env",
    ".cache/drt/roadgraph.npz",
    "tests/conftest.py",
    "docs/operations.md",
    "deploy/env.example",
    "common/__pycache__/db.cpython-311.pyc",
    "areas/kurate/.cache/x",
)


def files_under(source: str) -> list[str]:
    path = ROOT / source
    if path.is_file():
        return [source]
    found = path.rglob("*")
    return [
        p.relative_to(ROOT).as_posix()
        for p in found
        if p.is_file() and "__pycache__" not in p.parts
    ]


def test_the_build_context_is_only_what_the_image_needs() -> None:
    rules = dockerignore_rules()
    for path in LEFT_OUT:
        assert ignored(path, rules), f"{path} would be sent to the image build"
    for source in copied_sources():
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not there"
        files = files_under(source)
        assert files, source
        for file in files:
            assert not ignored(file, rules), f"{file} is copied but .dockerignore leaves it out"


def test_the_image_copies_every_package_and_ships_its_files() -> None:
    """``pip install .`` (not editable) puts only the packages and their package-data in the
    image: every page, style and migration template the code reads must be in package-data."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    roots = {p.rstrip("*") for p in tool["setuptools"]["packages"]["find"]["include"]}
    assert roots <= set(copied_sources()), f"not copied: {roots - set(copied_sources())}"
    package_data: dict[str, list[str]] = tool["setuptools"].get("package-data", {})
    missing = []
    for root in sorted(roots):
        for path in sorted((ROOT / root).rglob("*")):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            shipped = any(
                path in set((ROOT / package.replace(".", "/")).glob(pattern))
                for package, patterns in package_data.items()
                for pattern in patterns
            )
            if not shipped:
                missing.append(path.relative_to(ROOT).as_posix())
    assert not missing, (
        f"not in pyproject's [tool.setuptools.package-data], so not in the image: {missing}"
    )
