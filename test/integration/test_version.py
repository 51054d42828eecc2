# SPDX-License-Identifier: ISC
"""The version is written once, as RELEASE in the Makefile: `wren
--version` and `wren version` print it and NEWS's first entry names it."""
import re

from conftest import ROOT, run_wren


def release():
    m = re.search(r"^RELEASE := (\S+)$", (ROOT / "Makefile").read_text(),
                  re.M)
    assert m, "no RELEASE line in the Makefile"
    return m.group(1)


def test_version_is_the_release():
    rel = release()
    for arg in ("--version", "version"):
        p = run_wren(arg)
        assert p.returncode == 0, p.stderr
        first = p.stdout.splitlines()[0]
        # A build off the release tag adds +g<commit>.
        assert re.fullmatch(r"wren " + re.escape(rel) +
                            r"(\+g[0-9a-f]{4,40})?", first), first


def test_news_names_the_release_first():
    news = (ROOT / "NEWS").read_text()
    heads = re.findall(r"^wren (\d+\.\d+\.\d+) \(\d{4}-\d\d-\d\d\)$", news,
                       re.M)
    assert heads and heads[0] == release()
