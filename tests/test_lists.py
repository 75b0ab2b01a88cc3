"""List splitting and matching."""

from __future__ import annotations

from pexim.expand import ExpandContext
from pexim.lists import listnamed, match_address, match_domain, match_ip, split_list


def test_split_list():
    assert split_list("a:b:c") == ["a", "b", "c"]
    assert split_list(":b") == ["", "b"]
    assert split_list("a::b : c ") == ["a:b", "c"]
    assert split_list("<; a ; b;;c") == ["a", "b;c"]
    assert split_list("<\n a\n\nb") == ["a", "", "b"]
    assert split_list("") == []


class Cfg:
    main = {}
    named_lists = {"domain": {"d": "*.aa.bb : +e", "e": "x.y"}, "host": {}, "address": {},
                   "localpart": {}}


def test_matching():
    c = ExpandContext(config=Cfg())
    assert match_domain(c, "q.aa.bb", "+d")[0]
    assert match_domain(c, "X.Y", "+d")[0]
    assert not match_domain(c, "x.y", "!x.y")[0]
    assert match_domain(c, "z", "!x.y")[0]
    assert match_address(c, "a@b.c", "*@b.c")[0]
    assert not match_address(c, "a.b.c", "a.b.c")[0]
    assert match_ip(c, "1.2.3.4", "1.2.3.0/24")[0]
    assert match_ip(c, "", ":4.5.6.7")[0]
    assert listnamed(c, "d", None) == "*.aa.bb : x.y"
