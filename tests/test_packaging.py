"""The wheel serves the app without the checkout: it carries the templates, static files, workflow
files, migrations and compiled catalogues, and the installed package finds them from any directory.

The wheel is built from a copy of the checkout without compiled catalogues (.mo), so the build
itself must compile them. It is built without build isolation when the environment has what
pyproject.toml's [build-system] requires (offline, faster), otherwise with it (pip fetches the
requirements)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from babel.messages.mofile import read_mo
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("templates", "workflows", "migrations")  # top-level folders, grantflow/<name> in the wheel
NOT_COPIED = {".git", ".venv", "venv", "build", "dist", "instance", "tests", "bench", "test-results", ".pytest_cache"}
# Settings of this environment that must not reach the installed app.
ENV_DROPPED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "DATABASE_URL", "SECRET_KEY")


def _files(folder: Path) -> list[str]:
    """Files under `folder`, relative to the checkout, without bytecode."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
    )


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".mo", ".egg-info"))}
    if Path(directory) == ROOT:
        skipped |= NOT_COPIED & set(names)
    return skipped


def _build_requirements_installed() -> bool:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for line in requires:
        requirement = Requirement(line)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return False
        if not requirement.specifier.contains(installed, prereleases=True):
            return False
    return True


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    dist = tmp_path / "dist"
    isolation = ["--no-build-isolation"] if _build_requirements_installed() else []
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
         *isolation, "--wheel-dir", str(dist), str(source)],
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )  # fmt: skip
    (wheel,) = dist.glob("grantflow-*.whl")
    return wheel


APP_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import grantflow
    from flask_babel import force_locale, gettext
    from flask_migrate import upgrade
    from babel.support import Translations

    app = grantflow.create_app({"TESTING": True, "SECRET_KEY": "packaging-test", "MAIL_DELIVERY": "off"})
    with app.app_context():
        upgrade()
    client = app.test_client()
    home = client.get("/")
    static = client.get("/static/app.css")
    with app.test_request_context("/"), force_locale("lv"):
        log_in = gettext("Log in")
    directories = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    print(json.dumps({
        "package": grantflow.__file__,
        "folders": {
            "templates": app.template_folder,
            "static": app.static_folder,
            "workflows": app.config["WORKFLOWS_DIR"],
            "migrations": app.extensions["migrate"].directory,
        },
        "translation_directories": directories,
        "catalogues_loaded": [type(Translations.load(d, ["lv"])).__name__ for d in directories],
        "workflows": sorted(app.extensions["grantflow.workflows"]),
        "instance_path": app.instance_path,
        "database": app.config["SQLALCHEMY_DATABASE_URI"],
        "home": [home.status_code, home.get_data(as_text=True)],
        "static": [static.status_code, static.get_data(as_text=True)],
        "log_in": log_in,
    }))
    """
)


def test_wheel_serves_the_app_from_anywhere(tmp_path):
    wheel = _build_wheel(tmp_path)

    names = set(zipfile.ZipFile(wheel).namelist())
    outside = sorted(n for n in names if not n.startswith(("grantflow/", "grantflow-")))
    assert not outside, f"files outside the package: {outside[:10]}"
    expected = [f"grantflow/{path}" for folder in SHIPPED for path in _files(ROOT / folder)]
    expected += _files(ROOT / "grantflow" / "static")
    catalogues = [po for po in _files(ROOT / "grantflow") if "/translations/" in po and po.endswith(".po")]
    compiled = [po.removesuffix(".po") + ".mo" for po in catalogues]
    missing = sorted(set(expected + compiled) - names)
    assert not missing, f"missing from the wheel: {missing[:20]}"
    for required in ("grantflow/templates/base.html", "grantflow/migrations/env.py", "grantflow/static/app.css"):
        assert required in names
    assert any(n.startswith("grantflow/migrations/versions/") and n.endswith(".py") for n in names)
    assert any(n.startswith("grantflow/workflows/") and n.endswith(".yaml") for n in names)
    assert catalogues, "no translation catalogues found in the checkout"
    with zipfile.ZipFile(wheel) as archive:
        for name in compiled:
            with archive.open(name) as handle:
                assert len(read_mo(handle)) > 1, f"{name} is empty"

    # Installed into a bare folder; the dependencies come from this environment. `-S`: no .pth
    # files, so no editable install of the checkout is in the way.
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--quiet",
          "--disable-pip-version-check", "--target", str(target), str(wheel)])  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    instance = tmp_path / "instance"
    elsewhere.mkdir()
    dependencies = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ENV_DROPPED and not key.startswith(("GRANTFLOW_", "MAIL_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(target), *dependencies]), PYTHONNOUSERSITE="1", GRANTFLOW_INSTANCE=str(instance)
    )
    result = _run([sys.executable, "-S", "-c", APP_SCRIPT], cwd=elsewhere, env=env)
    report = json.loads(result.stdout.strip().splitlines()[-1])

    package = target / "grantflow"
    assert Path(report["package"]).parent == package
    for name, folder in report["folders"].items():
        assert Path(folder).is_relative_to(package), f"{name} is read from {folder}, not the installed package"
    assert report["translation_directories"]
    assert all(Path(d).is_relative_to(package) for d in report["translation_directories"])
    assert set(report["catalogues_loaded"]) == {"Translations"}, "a catalogue did not load (no .mo?)"
    assert report["workflows"]
    assert report["instance_path"] == str(instance)
    assert report["database"] == f"sqlite:///{instance}/grantflow.sqlite3"

    status, page = report["home"]
    assert status == 200, page[:2000]
    assert '<html lang="lv" class="govuk-template">' in page
    assert report["log_in"] != "Log in" and report["log_in"] in page, "the page is not translated"
    assert 'href="/static/app.css' in page and 'href="/static/govuk/govuk-frontend.min.css' in page
    status, css = report["static"]
    assert status == 200
    assert css == (ROOT / "grantflow" / "static" / "app.css").read_text()
