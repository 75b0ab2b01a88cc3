"""`-be` driving: prompts, continuations and macros as real exim prints them."""

from __future__ import annotations

import io

from pexim.commands.expand import run


class Cfg:
    class main:  # noqa: N801 - a stand-in for the settings object
        @staticmethod
        def get(name, default=None):
            return {"primary_hostname": "myhost.test.ex"}.get(name, default)

    macros = [("EXPAND_TEST_MACRO", "macro-replacement-text")]
    named_lists: dict = {}
    filename = "/etc/exim.conf"
    directory = "/etc"


def be(stdin: bytes, args=()):
    out = io.BytesIO()
    rc = run(Cfg, list(args), io.BytesIO(stdin), out)
    return rc, out.getvalue()


def test_stdin_lines_prompt_and_results():
    rc, out = be(b"a ${lc:B}\nEXPAND_TEST_MACRO here\nFOO = bar\nFOO x\nmy${lc:X}\\\n  cont\n"
                 b"${if eq{a}{b}{x}fail}\n\n")
    assert rc == 0
    assert out == (b"> a b\n> macro-replacement-text here\n> Defined macro 'FOO'\n> bar x\n"
                   b"> myxcont\n> Failed: \"if\" failed and \"fail\" requested\n> \n> \n")


def test_arguments_are_expanded_without_prompt():
    rc, out = be(b"", ["a ${lc:B}", "${foo"])
    assert out == (b"a b\nFailed: \"${foo\" is not a known operator (or a } is missing in a "
                   b"variable reference)\n")


def test_macro_redefinition_rules():
    rc, out = be(b"FOO=1\nFOO\nFOO == 2\nFOO\nFOO = 3\nFOO\n")
    assert out == (b"> Defined macro 'FOO'\n> 1\n> Defined macro 'FOO'\n> 2\n> > 2\n> \n")
