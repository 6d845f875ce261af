"""The build steps pyproject.toml cannot declare (all metadata is there).

A wheel must serve the app without the checkout, so building one also
- ships the top-level folders templates/, workflows/ and migrations/ inside the package, as
  grantflow/templates/ and so on (grantflow.config.resource_dir finds them in either place);
- compiles every translation catalogue, grantflow/**/translations/<lang>/LC_MESSAGES/*.po, to its
  .mo (what `make translations` does in the checkout), so a wheel cannot lack them or carry stale
  ones.
The sdist carries the shipped folders too (get_source_files). An editable install
(`pip install -e .`) does neither step: it reads the checkout, where `make translations` compiles."""

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGE = "grantflow"
SHIPPED = ("templates", "workflows", "migrations")


def shipped_files() -> list[str]:
    """The files of the shipped folders, relative to the project root."""
    found = []
    for folder in SHIPPED:
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder}/ is missing: the wheel needs it")
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            found += [
                os.path.join(dirpath, name)
                for name in sorted(filenames)
                if not name.startswith(".") and not name.endswith((".pyc", ".pyo"))
            ]
    return found


def catalogues() -> list[str]:
    return sorted(str(path) for path in Path(PACKAGE).glob("**/translations/*/LC_MESSAGES/*.po"))


def compile_catalogue(po_file: str, mo_file: str) -> None:
    """Like `pybabel compile`, except that a fuzzy catalogue or one with errors fails the build
    (pybabel skips the first; a wheel would then silently lack that translation)."""
    locale = Path(po_file).parent.parent.name
    with open(po_file, "rb") as handle:
        catalog = read_po(handle, locale=locale)
    if catalog.fuzzy:
        raise ValueError(f"{po_file} is marked as fuzzy: review it and remove the fuzzy flag")
    errors = [f"{po_file}:{message.lineno}: {error}" for message, found in catalog.check() for error in found]
    if errors:
        raise ValueError("Translation catalogue errors:\n" + "\n".join(errors))
    with open(mo_file, "wb") as handle:
        write_mo(handle, catalog)


class BuildPy(build_py):
    def _extra_outputs(self) -> list[tuple[str, str]]:
        """(file in build_lib, its source) for the shipped folders and the compiled catalogues."""
        if self.editable_mode:
            return []
        copies = [(os.path.join(self.build_lib, PACKAGE, source), source) for source in shipped_files()]
        compiled = [(os.path.join(self.build_lib, po[: -len(".po")] + ".mo"), po) for po in catalogues()]
        return copies + compiled

    def run(self):
        super().run()
        for target, source in self._extra_outputs():
            self.mkpath(os.path.dirname(target))
            if source.endswith(".po"):
                self.announce(f"compiling {source} -> {target}", level=2)
                compile_catalogue(source, target)
            else:
                self.copy_file(source, target)

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [target for target, _ in self._extra_outputs()]

    def get_source_files(self):
        return super().get_source_files() + shipped_files()


setup(cmdclass={"build_py": BuildPy})
