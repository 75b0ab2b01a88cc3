"""lsearch family, iplsearch and dsearch against small files."""

from __future__ import annotations

import pytest

from pexim.expand import ExpandContext, ExpansionError, expand_string


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "ls").write_text(
        'alice: a@x\n"white space": ws\ndave:  first\n  more\n# c\n*.p.q: star\n*: any\n'
        '"quoted": q\n')
    (tmp_path / "wild").write_text("^ab[0-9]+\\$: re\n*.example.com: suffix\n!neg: negated\n")
    (tmp_path / "ip").write_text('10.0.0.0/8: ten\n"2001:db8::/32": doc\n')
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("")
    return tmp_path


def ex(text):
    return expand_string(text, ExpandContext())


def test_lsearch(files):
    f = files / "ls"
    assert ex("${lookup{ALICE}lsearch{%s}}" % f) == "a@x"
    assert ex("${lookup{white space}lsearch{%s}}" % f) == "ws"
    assert ex("${lookup{dave}lsearch{%s}}" % f) == "first more"
    assert ex("${lookup{alice}lsearch,ret=full{%s}}" % f) == "alice: a@x"
    assert ex("${lookup{nobody}lsearch{%s}{$value}{no}}" % f) == "no"
    assert ex("${lookup{nobody}lsearch*{%s}}" % f) == "any"
    assert ex("${lookup{a.b.p.q}partial-lsearch{%s}{$1|$2|$value}}" % f) == "a.b|p.q|star"


def test_wildlsearch(files):
    f = files / "wild"
    assert ex("${lookup{ab12}wildlsearch{%s}}" % f) == "re"
    assert ex("${lookup{www.example.com}nwildlsearch{%s}}" % f) == "suffix"
    assert ex("${lookup{other}wildlsearch{%s}}" % f) == "negated"


def test_iplsearch(files):
    f = files / "ip"
    assert ex("${lookup{10.1.2.3}iplsearch{%s}}" % f) == "ten"
    assert ex("${lookup{2001:db8::1}iplsearch{%s}}" % f) == "doc"
    with pytest.raises(ExpansionError) as e:
        ex("${lookup{nohost}iplsearch{%s}}" % f)
    assert e.value.message.startswith('lookup of "nohost" gave DEFER: "nohost" is not a valid')


def test_dsearch(files):
    d = files / "d"
    assert ex("${lookup{f}dsearch{%s}}" % d) == "f"
    assert ex("${lookup{f}dsearch,ret=full{%s}}" % d) == "%s/f" % d
    assert ex("${lookup{f}dsearch,filter=dir{%s}{y}{n}}" % d) == "n"


def test_lookup_syntax_errors():
    with pytest.raises(ExpansionError) as e:
        ex("${lookup{x}nosuch{/x}}")
    assert e.value.message == 'unknown lookup type "nosuch"'
    with pytest.raises(ExpansionError) as e:
        ex("${lookup{x}lsearch{/non/exist}}")
    assert e.value.message == ("failed to open /non/exist for linear search: No such file or "
                               "directory")
