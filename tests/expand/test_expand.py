"""Unit tests for the expansion language (results checked against Exim 4.96)."""

from __future__ import annotations

import pytest

from pexim.expand import ExpandContext, ExpansionError, ForcedFail, Tainted, compile, expand_string


class FakeMain(dict):
    def get(self, name, default=None):
        return super().get(name, default)


class FakeConfig:
    def __init__(self, **main):
        self.main = FakeMain(main)
        self.named_lists = {"domain": {"dlist": "*.aa.bb : ^\\Nxxx(.*)"},
                            "host": {"nets": "<; 10.0.0.0/8 ; 2001:db8::/32"},
                            "address": {}, "localpart": {}}


def ctx(**values):
    c = ExpandContext(config=FakeConfig(primary_hostname="myhost.test.ex"))
    c.values.update(values)
    return c


def ex(text, **values):
    return expand_string(text, ctx(**values))


def err(text, **values):
    with pytest.raises(ExpansionError) as e:
        ex(text, **values)
    return e.value.message


@pytest.mark.parametrize("text,result", [
    ("a ${lc:B}", "a b"),
    ("$primary_hostname", "myhost.test.ex"),
    ("${qualify_domain}", "myhost.test.ex"),
    ("${eval:(2*(1+1))/2 + 40K}", "40962"),
    ("${eval:-7/2} ${eval:-7%2}", "-3 -1"),
    ("${substr_3_2:rhubarb} ${s_-5_2:1234567}", "ba 34"),
    ("${hash_4_62:monty python}", "fbWx"),
    ("${nhash_8_63:monty python}", "0/61"),
    ("${sg{abbab}{a*}{+}}", "++b+b++b+"),
    ("${sg{abcdefabcdef}{(..)[^c]}{>\\$1<}}", "a>bc<>ef<>bc<ef"),
    ("${tr{abcdea}{abc}{z}}", "zzzdez"),
    ("${extract{2}{:}{1:2:3}}", "2"),
    ("${extract{a-b}{X = \"one two\" a-b \"three four\"}}", "three four"),
    ("${listextract{-2}{<,a,b,c,d}{X${value}X}}", "XcX"),
    ("${map{a:b:c}{:$item:}}", "::a::: ::b::: ::c::"),
    ("${reduce{3:0:9:4:6}{0}{${if >{$item}{$value}{$item}{$value}}}}", "9"),
    ("${sort{c:B:a:aa}{lti}{$item}}", "a:aa:B:c"),
    ("${if match{abcd}{\\N^([ab]+)(\\w+)$\\N}{$2$1}fail}", "cdab"),
    ("${if match_domain{zz.aa.bb}{+dlist}{[$1]}}", "[zz]"),
    ("${if match_ip{10.1.2.3}{+nets}}", "true"),
    ("${if match_address{x@y.z}{p@q:x@*.z}{yes}{no}}", "yes"),
    ("${mask:192.168.10.206/28} ${mask_n:2a00:2:3:4:5:6:7:8/79}",
     "192.168.10.192/28 2a00:2:3:4:4::/79"),
    ("${ipv6denorm:192.168.0.1}", "0000:0000:0000:0000:0000:ffff:c0a8:0001"),
    ("${address:Exim Person <local-part(c)@dom.ain(c2)> (that's me)}", "local-part@dom.ain"),
    ("${quote_local_part:a space}", '"a space"'),
    ("${time_interval:999999} ${time_eval:1w2d3h4m5s}", "1w4d13h46m39s 788645"),
    ("${base62:12345}", "0003D7"),
    ("${hmac{md5}{somesecret}{mail.example.com 2002-10-17 11:30:59}}",
     "dd97e3ba5d1a61b5006108f8c8252953"),
    ("${utf8_domain_to_alabel:stra\xc3\x9fe.de}", "xn--strae-oqa.de"),
    ("${rfc2047:<:ab cd:>}", "=?ISO-8859-1?Q?=3C=3Aab_cd=3A=3E?="),
    ("${if bool_lax{ text }{true}{false}}", "true"),
    ("${if forany{a:b:c}{eq{$item}{b}}{yes}{no}}", "yes"),
    ("${if and{{eq{1}{1}}{!eq{1}{2}}}}", "true"),
    ("\\N${not expanded}\\N", "${not expanded}"),
])
def test_results(text, result):
    assert ex(text) == result


@pytest.mark.parametrize("text,message", [
    ("${unknown}", 'unknown variable in "${unknown}"'),
    ("$nosuch", 'unknown variable name "nosuch"'),
    ("${lc:abc", "missing } at end of string"),
    ("${if eq {$h_xyz}{1}{y}{n}}",
     "missing } at end of string - could be header name not terminated by colon"),
    ("${hash{3}{2}{4}{abcd}}", "Too many arguments for 'hash' (max is 3)"),
    ("${eval:08}", 'error in expression evaluation: expecting operator (after processing "0")'),
    ("${if >{5 } {3z }{y}{n}}", 'invalid integer "3z "'),
    ("${if bool{text}}", 'unrecognised boolean value "text"'),
    ("${headerwrap:x}", 'unknown expansion operator "headerwrap"'),
    ("${mask:192.168.10.206/33}", 'mask value too big in "192.168.10.206/33"'),
    ("${if forany{a:b:c}{gt{$item}{a}{yes}{no}}",
     'missing } at end of condition inside "forany"'),
    ("${if def:tod_log:{y}{n}}", "curly-bracket problem in conditional yes/no parsing: "
     "'yes' part did not start with '{'\n remaining string is ':{y}{n}}'"),
])
def test_errors(text, message):
    assert err(text) == message


def test_forced_fail_is_distinct():
    with pytest.raises(ForcedFail) as e:
        ex("${if eq{a}{b}{x}fail}")
    assert e.value.message == '"if" failed and "fail" requested'


def test_syntax_errors_at_compile_time():
    with pytest.raises(ExpansionError):
        compile("${lc:abc")


def test_compile_once_evaluate_many():
    exp = compile("${lc:$local_part}@$domain")
    assert exp.evaluate(ctx(local_part="A", domain="b")) == "a@b"
    assert exp.evaluate(ctx(local_part="C", domain="d")) == "c@d"


def test_numeric_variables_restored_after_if():
    c = ctx()
    assert compile("${if match{ab}{(a)(b)}{$2$1}}").evaluate(c) == "ba"
    assert c.nvars == ()


def test_taint_propagates():
    c = ctx(local_part=Tainted("Joe"))
    out = compile("x-${lc:$local_part}").evaluate(c)
    assert isinstance(out, Tainted) and out == "x-joe"
    assert not isinstance(compile("${lc:ABC}").evaluate(c), Tainted)


def test_headers():
    class Msg:
        headers = ["Subject: hello\n", "To: a@b\n", "To: c@d\n", "X-Y: =?utf-8?Q?caf=C3=A9?=\n"]
    c = ctx()
    c.message = Msg()
    assert compile("$h_subject:").evaluate(c) == "hello"
    assert compile("$h_to:").evaluate(c) == "a@b,\nc@d"
    assert compile("${if def:h_to {y}{n}}").evaluate(c) == "y"
    assert compile("$rh_x-y:").evaluate(c) == " =?utf-8?Q?caf=C3=A9?=\n"
    assert compile("$lh_to:").evaluate(c) == " a@b: c@d"
    assert compile("$bh_x-y:").evaluate(c) == "caf\xc3\xa9"
    assert compile("$h_x-y:").evaluate(c) == "caf\xe9"


def test_acl_variables_default_empty():
    assert ex("[$acl_c0][$acl_m_foo]") == "[][]"
    assert err("$acl_foo") == ('unknown variable name "acl_foo" (user-defined ACL variables '
                               "must start acl_c or acl_m)")
