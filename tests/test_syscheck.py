"""Missing system libraries are named with the packages to install, not a traceback."""

from grantflow.core import syscheck


def test_all_present_here(capsys):
    assert syscheck.main() == 0


def test_missing_pango_and_graphviz_are_named(monkeypatch, capsys):
    monkeypatch.setattr(syscheck.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(syscheck.shutil, "which", lambda name: None)
    assert syscheck.main() == 1
    err = capsys.readouterr().err
    assert "libpango-1.0-0" in err and "graphviz" in err and "fonts-dejavu-core" in err
    assert "sudo apt-get install" in err
