"""Unit tests for pexim.config.reader: LineReader and MacroTable.

Every expectation here was checked against real Exim 4.96 (`exim -C file -bP`
or `-bV`); the conformance suites in tests/conformance/ compare whole files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pexim.config.errors import ConfigError
from pexim.config.model import Macro
from pexim.config.reader import LineReader, MacroTable


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_all(path: Path, macros: MacroTable | None = None) -> list[str]:
    """Every logical line, across `begin` lines (shown as `begin NAME`).

    Macro definitions are assigned as the loader does (the reader only
    substitutes), and kept in the result.
    """
    macros = macros if macros is not None else MacroTable()
    reader = LineReader(str(path), macros)
    lines: list[str] = []
    try:
        while True:
            line = reader.next_line()
            if line is not None:
                if line[0].isupper():
                    try:
                        macros.assign(line)
                    except ConfigError as err:
                        raise reader.locate(err) from None
                lines.append(line)
                continue
            if reader.next_section is None:
                return lines
            lines.append(f"begin {reader.next_section}")
    finally:
        reader.close()


def lines_of(tmp_path: Path, text: str, macros: MacroTable | None = None) -> list[str]:
    return read_all(write(tmp_path / "c.conf", text), macros)


def error_of(tmp_path: Path, text: str, macros: MacroTable | None = None,
             name: str = "c.conf") -> ConfigError:
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        read_all(path, macros)
    return info.value


def reader_error(tmp_path: Path, text: str, trigger: str) -> ConfigError:
    """Read until the logical line `trigger`, then build the error Exim would
    report for it (as the loader does for a bad option)."""
    reader = LineReader(str(write(tmp_path / "c.conf", text)), MacroTable())
    try:
        while (line := reader.next_line()) is not None:
            if line == trigger:
                return reader.error("bad line")
    finally:
        reader.close()
    raise AssertionError(f"{trigger!r} not read")


# --- continuation lines ----------------------------------------------------

def test_continuation_drops_leading_space_of_next_line(tmp_path):
    assert lines_of(tmp_path, "a = con\\\n      tinued\n") == ["a = continued"]


def test_space_before_backslash_is_kept(tmp_path):
    assert lines_of(tmp_path, "a = x   \\\n   y\n") == ["a = x   y"]


def test_trailing_space_after_backslash_still_continues(tmp_path):
    # Exim strips trailing white space first, then looks for the backslash.
    assert lines_of(tmp_path, "a = x \\   \t\n  y\nb = 1\n") == ["a = x y", "b = 1"]


def test_comment_lines_inside_continuation_are_skipped(tmp_path):
    text = "a = one \\\n# a comment\n   # an indented one\n  two \\\n  three\n"
    assert lines_of(tmp_path, text) == ["a = one two three"]


def test_blank_line_ends_a_continuation(tmp_path):
    assert lines_of(tmp_path, "a = x\\\n\nb = 1\n") == ["a = x", "b = 1"]


def test_line_of_spaces_ends_a_continuation(tmp_path):
    # The white space run at the end of the joined line goes, including the
    # space that was before the backslash.
    assert lines_of(tmp_path, "a = x \\\n   \t \nb = 1\n") == ["a = x", "b = 1"]
    assert lines_of(tmp_path, "a = x \\\n\nb = 1\n") == ["a = x", "b = 1"]


def test_continuation_at_end_of_file_keeps_the_space(tmp_path):
    assert lines_of(tmp_path, "a = x \\\n") == ["a = x "]
    assert lines_of(tmp_path, "a = x \\") == ["a = x "]


def test_hash_not_at_line_start_is_data(tmp_path):
    assert lines_of(tmp_path, "a = 1 # not a comment\n") == ["a = 1 # not a comment"]


def test_leading_and_trailing_white_space_removed(tmp_path):
    assert lines_of(tmp_path, "\t  a = tab\tinside\t \n") == ["a = tab\tinside"]


def test_error_line_of_a_continued_line_is_its_last_physical_line(tmp_path):
    err = reader_error(tmp_path, "k = 1\nfoo = a \\\n  b \\\n  c\n", "foo = a b c")
    assert err.line == 4
    assert err.file.endswith("c.conf")


def test_begin_line_ends_section(tmp_path):
    got = lines_of(tmp_path, "a = 1\nbegin routers\nr1:\n  driver = accept\nBEGIN acl\n")
    assert got == ["a = 1", "begin routers", "r1:", "driver = accept", "begin acl"]


# --- macros ------------------------------------------------------------------

def test_macro_definition_and_use(tmp_path):
    macros = MacroTable()
    got = lines_of(tmp_path, "DOMAIN = example.org\nqualify_domain = DOMAIN\n", macros)
    assert got == ["DOMAIN = example.org", "qualify_domain = example.org"]
    assert macros.find("DOMAIN").value == "example.org"


def test_macro_errors_are_located_at_their_line(tmp_path):
    err = error_of(tmp_path, "k = 1\n\nBAD MACRO\n")
    assert (err.message, err.line) == ("malformed macro definition", 3)
    err = error_of(tmp_path, "A = 1\nA = 2\n")
    assert err.file is None            # Exim: "Exim configuration error:" only


def test_macro_substituted_inside_words_and_only_uppercase_names():
    macros = MacroTable()
    macros.assign("DOMAIN = example.org")
    line, found = macros.expand("message_id_header_text = xDOMAINx-domain-DOMAIN\n", True)
    assert line == "message_id_header_text = xexample.orgx-domain-example.org\n"
    assert found


def test_no_substitution_in_the_name_of_a_definition():
    macros = MacroTable()
    macros.assign("FOO = 1")
    assert macros.expand("FOO == 2", True) == ("FOO == 2", False)
    # ... but the value of a definition is substituted
    assert macros.expand("BAR = FOO", True) == ("BAR = 1", True)
    # and a line that is not a definition is substituted from its start
    assert macros.expand("FOO and more", True) == ("1 and more", True)


def test_definition_order_decides_substitution():
    macros = MacroTable()
    macros.assign("ONE = TWO")       # TWO is not defined yet: stays literal
    macros.assign("TWO = 2")
    # ONE is scanned first and yields "TWO", which the later TWO then replaces.
    assert macros.expand("v = ONE", True) == ("v = 2", True)


def test_longer_name_defined_first_wins():
    macros = MacroTable()
    macros.assign("SPOOL_DIRECTORY = /var/spool/x")
    # the reader substitutes the value of a definition before it is assigned
    line, _ = macros.expand("SPOOL = SPOOL_DIRECTORY", True)
    macros.assign(line)
    assert macros.find("SPOOL").value == "/var/spool/x"
    assert macros.expand("a = SPOOL_DIRECTORY SPOOL", True)[0] == "a = /var/spool/x /var/spool/x"


def test_substring_rule():
    macros = MacroTable()
    macros.assign("SPOOL = /var/spool")
    with pytest.raises(ConfigError) as info:
        macros.assign("SPOOL_DIR = x")
    assert info.value.message == ('"SPOOL_DIR" cannot be defined as a macro because '
                                  'previously defined macro "SPOOL" is a substring')
    assert info.value.unlocated


def test_redefinition_needs_double_equals():
    macros = MacroTable()
    macros.assign("M = one")
    with pytest.raises(ConfigError) as info:
        macros.assign("M = two")
    assert info.value.message == 'macro "M" is already defined (use "==" if you want to redefine it)'
    macros.assign("M == two")
    assert macros.find("M").value == "two"
    assert [m.name for m in macros.all()] == ["M"]


def test_double_equals_on_undefined_macro():
    with pytest.raises(ConfigError) as info:
        MacroTable().assign("NEVER == x")
    assert info.value.message == 'can\'t redefine an undefined macro "NEVER"'


def test_malformed_macro_definition():
    with pytest.raises(ConfigError) as info:
        MacroTable().assign("MYMACRO value without equals")
    assert info.value.message == "malformed macro definition"
    assert not info.value.unlocated        # Exim gives the line for this one


def test_macro_errors_are_logged_as_panic_not_panic_die():
    # exim -bP shows "LOG: PANIC" for the errors of macro_read_assignment().
    for text in ("X y", "NEVER == 1"):
        with pytest.raises(ConfigError) as info:
            MacroTable().assign(text)
        assert info.value.log_flags == "PANIC"


def test_macro_name_length_limit():
    MacroTable().assign("A" * 63 + " = ok")
    with pytest.raises(ConfigError):
        MacroTable().assign("A" * 64 + " = too long")


def test_value_keeps_inner_spaces():
    macros = MacroTable()
    macros.assign("B =   a  b   c")
    assert macros.find("B").value == "a  b   c"
    macros.assign("E =")
    assert macros.find("E").value == ""


def test_command_line_macro_overrides_file():
    macros = MacroTable()
    macros.define_command_line("DOMAIN", "cmdline.example")
    macros.assign("DOMAIN = file.example")     # ignored, no error
    macros.assign("DOMAIN == again.example")   # ignored as well
    assert macros.find("DOMAIN").value == "cmdline.example"
    assert macros.expand("q = DOMAIN", True)[0] == "q = cmdline.example"


def test_command_line_macro_counts_for_substring_rule():
    macros = MacroTable()
    macros.define_command_line("SPOOL", "x")
    with pytest.raises(ConfigError):
        macros.assign("SPOOL_DIRECTORY = y")


def test_builtin_macros_only_when_first_candidate_starts_with_underscore():
    builtin = [Macro("_HAVE_TLS", "y", builtin=True)]
    macros = MacroTable(builtin)
    assert macros.expand("qualify_domain = _HAVE_TLS ABC", True) == (
        "qualify_domain = y ABC", True)
    # Exim's quirk: the first candidate ("ABC") starts with a letter, so only
    # user macros are scanned and the built-in one stays as it is.
    assert macros.expand("smtp_banner = ABC _HAVE_TLS", True) == (
        "smtp_banner = ABC _HAVE_TLS", False)


def test_builtin_names_are_user_visible_by_prefix_substring():
    # _HAVE_TLS is a substring of _HAVE_TLS_RESUME: as in Exim, an undefined
    # longer name is "found" through the shorter one.
    macros = MacroTable([Macro("_HAVE_TLS", "y", builtin=True)])
    assert macros.expand(".ifdef _HAVE_TLS_RESUME", False) == (".ifdef y_RESUME", True)


def test_builtin_macro_can_be_redefined_with_double_equals():
    macros = MacroTable([Macro("_HAVE_X", "y", builtin=True)])
    macros.assign("_HAVE_X == n")
    assert macros.find("_HAVE_X").value == "n"


# --- conditionals ------------------------------------------------------------

COND = """\
.ifdef A
  .ifdef B
r = a_b
  .else
r = a_only
  .endif
.elifdef B
r = b_only
.elifndef C
r = none
.else
r = c_only
  .ifdef NEVER_DEFINED
garbage that is never parsed === :
  .endif
.endif
"""


@pytest.mark.parametrize("defined,expected", [
    ({"A", "B"}, "r = a_b"),
    ({"A"}, "r = a_only"),
    ({"A", "C"}, "r = a_only"),
    ({"B"}, "r = b_only"),
    ({"B", "C"}, "r = b_only"),
    (set(), "r = none"),
    ({"C"}, "r = c_only"),
])
def test_nested_conditionals(tmp_path, defined, expected):
    macros = MacroTable()
    for name in sorted(defined):
        macros.define_command_line(name, "")
    got = lines_of(tmp_path, COND, macros)
    assert got == [expected]


def test_ifdef_on_macro_defined_in_file(tmp_path):
    text = "FEATURE =\n.ifdef FEATURE\nyes = 1\n.endif\n.ifndef FEATURE\nno = 1\n.endif\n"
    assert lines_of(tmp_path, text) == ["FEATURE =", "yes = 1"]


def test_ifdef_ten_deep_is_allowed_eleven_is_not(tmp_path):
    builtin = [Macro("_HAVE_TLS", "y", builtin=True)]
    ten = ".ifdef _HAVE_TLS\n" * 10 + "x = 1\n" + ".endif\n" * 10
    assert lines_of(tmp_path, ten, MacroTable(builtin)) == ["x = 1"]
    eleven = "k = 1\n" + ".ifdef _HAVE_TLS\n" * 11 + ".endif\n" * 11
    err = error_of(tmp_path, eleven, MacroTable(builtin))
    assert err.message == ".ifdef nested too deeply"
    assert err.line == 12


def test_endif_without_ifdef(tmp_path):
    err = error_of(tmp_path, "k = 1\n.endif\n")
    assert (err.message, err.line) == (".endif without matching .ifdef", 2)


def test_else_without_ifdef(tmp_path):
    err = error_of(tmp_path, "k = 1\n\n.else\n")
    assert (err.message, err.line) == (".else without matching .ifdef", 3)


def test_missing_endif_reported_at_last_line(tmp_path):
    err = error_of(tmp_path, "k = 1\nFOO = 1\n.ifdef FOO\n")
    assert err.message == "Unexpected end of configuration file: .endif missing"
    assert err.line == 3


def test_conditional_skips_begin_lines(tmp_path):
    text = "a = 1\n.ifdef NOPE\nbegin nonsense\n.endif\nb = 2\n"
    assert lines_of(tmp_path, text) == ["a = 1", "b = 2"]


def test_indented_conditionals(tmp_path):
    text = "   .ifndef NOPE\n  a = 1\n   .endif\n"
    assert lines_of(tmp_path, text) == ["a = 1"]


# --- .include ------------------------------------------------------------------

def test_include_relative_to_the_including_file(tmp_path):
    write(tmp_path / "inc" / "one.inc", "one = 1\n.include deeper/two.inc\nafter_two = 1\n")
    write(tmp_path / "inc" / "deeper" / "two.inc", "two = 2\n")
    # a same-named file next to the main file must not be the one picked
    write(tmp_path / "deeper" / "two.inc", "wrong = 1\n")
    got = lines_of(tmp_path, "top = 0\n.include inc/one.inc\nend = 3\n")
    assert got == ["top = 0", "one = 1", "two = 2", "after_two = 1", "end = 3"]


def test_include_with_quotes(tmp_path):
    write(tmp_path / "q.inc", "q = 1\n")
    assert lines_of(tmp_path, '.include "q.inc"\n') == ["q = 1"]


def test_include_if_exists(tmp_path):
    present = write(tmp_path / "present.inc", "p = 1\n")
    text = f".include_if_exists {present}\n.include_if_exists {tmp_path}/absent.inc\nz = 1\n"
    assert lines_of(tmp_path, text) == ["p = 1", "z = 1"]


def test_include_if_exists_needs_absolute_path(tmp_path):
    err = error_of(tmp_path, "a = 1\n.include_if_exists relative/file.conf\n")
    assert err.message == '.include specifies a non-absolute path "relative/file.conf"'
    assert err.line == 2


def test_include_of_missing_file(tmp_path):
    err = error_of(tmp_path, "a = 1\n\n.include no/such.inc\n")
    assert err.message == f"failed to open included configuration file {tmp_path}/no/such.inc"
    assert (err.file, err.line) == (str(tmp_path / "c.conf"), 3)


def test_line_numbers_in_and_after_included_files(tmp_path):
    write(tmp_path / "frag.inc", "# one\nf1 = 1\n\nf2 = 2\n")
    reader = LineReader(str(write(tmp_path / "c.conf", "a = 1\n.include frag.inc\nb = 2\n")),
                        MacroTable())
    seen = []
    while (line := reader.next_line()) is not None:
        err = reader.error("x")
        seen.append((line, Path(err.file).name, err.line))
    reader.close()
    assert seen == [("a = 1", "c.conf", 1), ("f1 = 1", "frag.inc", 2),
                    ("f2 = 2", "frag.inc", 4), ("b = 2", "c.conf", 3)]


def test_include_inside_skipped_conditional_is_not_opened(tmp_path):
    text = ".ifdef NOPE\n.include /nonexistent/file\n.endif\na = 1\n"
    assert lines_of(tmp_path, text) == ["a = 1"]


def test_macros_apply_to_include_paths(tmp_path):
    write(tmp_path / "m.inc", "m = 1\n")
    macros = MacroTable()
    macros.define_command_line("INC", str(tmp_path / "m.inc"))
    assert lines_of(tmp_path, ".include INC\n", macros) == ["m = 1"]


def test_saved_lines_mark_files_as_exim_does(tmp_path):
    write(tmp_path / "f.inc", "f = 1\n")
    main = write(tmp_path / "c.conf", "a = 1\n.include f.inc\nb = 2\n")
    reader = LineReader(str(main), MacroTable())
    while reader.next_line() is not None:
        pass
    reader.close()
    assert reader.saved_lines == [
        f'# 1 "{main}"', "a = 1",
        f'# 2 "{main}"', f'# 1 "{tmp_path}/f.inc"', "f = 1",
        f'# 2 "{main}"', "b = 2",
    ]
