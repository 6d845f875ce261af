"""Translation catalogues, one per product area.

Messages are written in English in the code; Latvian lives in
grantflow/<area>/translations/lv/LC_MESSAGES/messages.po for the messages of grantflow/<area>/
and templates/<area>/; what every page shares (the layout, error pages, the package root) is in
grantflow/core/translations/. `flask --app grantflow translations update` extracts and merges."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

from grantflow.core.config import PACKAGE, ROOT, resource_dir

TEMPLATES = resource_dir("templates")
TARGET_LOCALES = ("lv",)
# i18n.Translatable / ntranslatable: the problems loaders find in workflow and form files.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "Translatable": None,
    "ntranslatable": (1, 2),
}
METHODS = {".py": "python", ".html": "jinja2.ext:babel_extract", ".txt": "jinja2.ext:babel_extract"}
CORE = "core"


def areas() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py")))


def sources(area: str) -> list[Path]:
    """The area's code and templates; core also has the package root (app factory, commands)
    and the templates every page shares (the layout, error pages)."""
    files = list((PACKAGE / area).rglob("*.py"))
    files += [p for p in (TEMPLATES / area).rglob("*") if p.suffix in METHODS]
    if area == CORE:
        files += list(PACKAGE.glob("*.py")) + list(TEMPLATES.glob("*.html"))
        files += [p for p in (TEMPLATES / "errors").rglob("*") if p.suffix in METHODS]
    return sorted(files)


def catalogue_dir(area: str) -> Path:
    return PACKAGE / area / "translations"


def po_path(area: str, locale: str) -> Path:
    return catalogue_dir(area) / locale / "LC_MESSAGES" / "messages.po"


def extract(area: str) -> Catalog:
    catalog = Catalog(project="GrantFlow", charset="utf-8")
    for path in sources(area):
        method = METHODS[path.suffix]
        for lineno, message, comments, context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options={"trimmed": "true"} if path.suffix != ".py" else {}
        ):
            catalog.add(message, None, [(str(path.relative_to(ROOT)), lineno)], auto_comments=comments, context=context)
    return catalog


def load(area: str, locale: str) -> Catalog | None:
    path = po_path(area, locale)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update(area: str) -> dict[str, int]:
    """Bring each locale's catalogue in line with the code: add new messages, mark vanished
    ones obsolete, keep translations. Returns untranslated counts per locale."""
    template = extract(area)
    result = {}
    for locale in TARGET_LOCALES:
        catalog = load(area, locale)
        if catalog is None:
            if not len(template):
                continue
            catalog = Catalog(locale=locale, project="GrantFlow", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header: a fuzzy catalogue would not be compiled
        path = po_path(area, locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
        result[locale] = len(untranslated(area, locale, template))
    return result


def untranslated(area: str, locale: str = "lv", template: Catalog | None = None) -> list[str]:
    """Messages used in the area's code with no translation in its catalogue."""
    template = template or extract(area)
    catalog = load(area, locale)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context) if catalog else None
        text = found.string if found else None
        if isinstance(text, tuple | list):
            ok = all(text)
        else:
            ok = bool(text)
        if not ok or (found is not None and found.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing
