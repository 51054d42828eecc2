# SPDX-License-Identifier: ISC
"""The manual pages in man/: mandoc -Tlint clean, wren.conf(5) agrees
with the key table in src/core/cfg.h (name, type, default, bounds),
wren(8) names every command `wren --help` lists, and no page points
outside the repository."""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, run_wren

MAN = ROOT / "man"
PAGES = sorted(MAN.glob("*.[1-9]"))
WORDS = re.compile(r"[A-Z_]+")


def human_secs(n):
    """Durations as the page writes them: 1m, 30d, 10s."""
    for unit, s in (("d", 86400), ("h", 3600), ("m", 60)):
        if n >= s and n % s == 0:
            return f"{n // s}{unit}"
    return f"{n}s"


def cfg_keys(header=None):
    """Every X(...) row of CFG_KEYS as a dict (name, type, default,
    min, max, words)."""
    hdr = header if header is not None else \
        (ROOT / "src/core/cfg.h").read_text()
    limits = (ROOT / "src/core/limits.h").read_text()
    body = hdr[hdr.index("#define CFG_KEYS(X)"):]
    body = body[:body.index("#define CFG_ENUM_ID")].replace("\\\n", " ")
    row = re.compile(
        r'X\((\w+), "(\w+)", CFG_T_(\w+),\s*'
        r'(CFG_DEF_IF\(\w+, "[^"]*"\)|"[^"]*"),\s*([^,]+),\s*([^,]+),\s*'
        r'(NULL|"[^"]*"),\s*"[^"]*"\)')

    def num(expr):
        for name in WORDS.findall(expr):
            m = re.search(r"#define\s+" + name + r"\s+(\d+)", limits)
            assert m, f"bound {name} not in limits.h"
            expr = expr.replace(name, m.group(1))
        assert re.fullmatch(r"[\d\s*+]+", expr), expr
        return int(eval(expr))

    keys = []
    for m in row.finditer(body):
        keys.append(dict(
            name=m.group(2), type=m.group(3).lower(),
            default=re.search(r'"([^"]*)"', m.group(4)).group(1),
            min=num(m.group(5)), max=num(m.group(6)),
            words=None if m.group(7) == "NULL" else m.group(7).strip('"')))
    # A row the pattern missed would go unchecked: count them apart.
    rows = len(re.findall(r'X\(\w+, "\w+", CFG_T_', body))
    assert len(keys) == rows, "a CFG_KEYS row the test cannot read"
    return keys


def bounds(key):
    if key["type"] == "uint":
        return f"{key['min']} to {key['max']}"
    if key["type"] == "size":
        return f"{key['min']} to {key['max']} bytes"
    if key["type"] in ("secs", "secslist"):
        return f"{human_secs(key['min'])} to {human_secs(key['max'])}"
    return None


def page_entries(page):
    """`.It Ic NAME ...` entries of the KEYS section -> {name: lines}."""
    keys = page[page.index("\n.Sh KEYS\n"):]
    keys = keys[:keys.index("\n.Sh ", 1)]
    out = {}
    name = None
    for line in keys.splitlines():
        m = re.match(r"\.It Ic (\w+)(.*)$", line)
        if m:
            name = m.group(1)
            assert name not in out, f"{name}: two entries"
            out[name] = [line]
        elif line.startswith(".Ss ") or line == ".El":
            name = None
        elif name:
            out[name].append(line)
    return out


def check_conf_page(keys, page):
    """What wren.conf(5) gets wrong about the key table, as a list."""
    errors = []
    entries = page_entries(page)
    for k in keys:
        e = entries.pop(k["name"], None)
        if e is None:
            errors.append(f"{k['name']}: no entry in man/wren.conf.5")
            continue
        text = "\n".join(e)
        if k["default"]:
            q = k["default"]
            q = f'"{q}"' if " " in q else q
            want = f"Default:\n.Ql {q} ."
        else:
            want = "Default: empty."
        if want not in text:
            errors.append(f"{k['name']}: default is {k['default']!r}")
        b = bounds(k)
        if b and f"Range: {b}." not in text:
            errors.append(f"{k['name']}: range is {b}")
        if not b and "Range:" in text:
            errors.append(f"{k['name']}: has no range")
        if k["words"]:
            want = ".It Ic " + k["name"] + " Cm " + \
                " | ".join(k["words"].split())
            if e[0] != want:
                errors.append(f"{k['name']}: takes {k['words']}")
    for name in entries:
        errors.append(f"{name}: in the page, not in cfg.h")
    return errors


def test_wren_conf_page_matches_the_key_table():
    page = (MAN / "wren.conf.5").read_text()
    assert check_conf_page(cfg_keys(), page) == []


def test_a_key_added_without_an_entry_fails():
    """The check itself: a row added to cfg.h, a default changed."""
    hdr = (ROOT / "src/core/cfg.h").read_text()
    page = (MAN / "wren.conf.5").read_text()
    added = hdr.replace(
        "#define CFG_KEYS(X) \\\n",
        "#define CFG_KEYS(X) \\\n"
        'X(NEW_KEY, "new_key", CFG_T_UINT, "7", 1, 9, NULL, \\\n'
        '  "a key nobody documented") \\\n')
    assert check_conf_page(cfg_keys(added), page) == \
        ["new_key: no entry in man/wren.conf.5"]
    changed = hdr.replace('"max_deliveries", CFG_T_UINT, "20", 1, 1000',
                          '"max_deliveries", CFG_T_UINT, "21", 1, 999')
    assert check_conf_page(cfg_keys(changed), page) == [
        "max_deliveries: default is '21'",
        "max_deliveries: range is 1 to 999"]


def test_wren_page_names_every_command():
    p = run_wren("--help")
    assert p.returncode == 0, p.stderr
    cmds = re.findall(r"^  (\S+) ", p.stdout, re.M)
    assert "serve" in cmds
    page = (MAN / "wren.8").read_text()
    for c in cmds:
        assert re.search(r"^\.It Nm( wren)? Cm " + re.escape(c) + r"\b",
                         page, re.M) or \
            re.search(r"^\.It Nm " + re.escape(c) + r"\b", page, re.M), \
            f"wren(8) has no entry for {c}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_points_nowhere_outside(page):
    text = page.read_text()
    assert "../" not in text and "shared/" not in text
    assert not re.search(r"https?://", text)
    assert "SPDX-License-Identifier: ISC" in text.splitlines()[0]


def test_mandoc_lint_clean():
    assert shutil.which("mandoc"), "mandoc missing: board/deps.sh host"
    assert len(PAGES) >= 3
    p = subprocess.run(["mandoc", "-Tlint", "-W", "style", *map(str, PAGES)],
                       capture_output=True, text=True, timeout=60)
    # Cross references to pages outside this tree (mail(1)) depend on
    # what the machine has installed and indexed: not a fault here.
    bad = [l for l in (p.stdout + p.stderr).splitlines()
           if "referenced manual not found" not in l
           and "mandoc.db" not in l]
    assert bad == []


def test_make_install_installs_the_pages(tmp_path):
    from test_install import make_install
    make_install(tmp_path)
    for page in PAGES:
        got = tmp_path / "usr/share/man" / f"man{page.suffix[1:]}" / page.name
        assert got.read_bytes() == page.read_bytes()
        assert got.stat().st_mode & 0o777 == 0o644


def test_restart_keys_are_named_in_the_pages():
    """The keys a reload cannot change (serve.c's restart_keys), as
    wren.conf(5) and wren(8) list them."""
    src = (ROOT / "src/cli/serve.c").read_text()
    block = re.search(r"restart_keys\[\] = \{(.*?)\};", src, re.S).group(1)
    keys = [k.lower() for k in re.findall(r"CFG_(\w+)", block)
            if not k.endswith("_LISTEN")]
    for name in ("wren.conf.5", "wren.8"):
        text = (MAN / name).read_text()
        para = text[text.index("Listener addresses,"):]
        para = para[:para.index("after a restart")]
        named = re.findall(r"^\.Ic (\w+)", para, re.M)
        assert sorted(named) == sorted(keys), name
