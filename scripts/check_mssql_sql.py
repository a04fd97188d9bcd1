#!/usr/bin/env python3
"""Check that JITEA's SQL Server statements are T-SQL that two independent parsers accept.

Usage:
    python scripts/check_mssql_sql.py [--fail-on-command] [--require-store] [PATH ...]

Always checks every migrations/mssql/*.sql of the repository (found from this script's own
location). Each extra PATH is a .sql file or a directory whose *.sql files (recursively) are
checked the same way, e.g. the directory `JITEA_MSSQL_SQL_DUMP` names while the tests run:
the store writes every statement it executes there, rendered for SQL Server, as
`store_<hash>.sql` (see api/src/store/query.rs), and the SQL Server connector's unit test
writes its statements as `mssql_connector_NN.sql`.

Each file is split the way the migration runner splits it: a statement ends at a ';' that
ends a line, and lines that start with '--' are ignored. Text after the last such ';' counts
as one more statement (a dumped statement may have no ';'). Each statement must:

  * parse with sqlglot.parse_one(stmt, read="tsql", error_level=ErrorLevel.RAISE),
  * parse with sqlfluff's T-SQL dialect (Linter.parse_string with dialect "tsql" and the raw
    templater) without a parse error or an "unparsable" section,
  * not contain syntax of other dialects that the parsers let through (BOOLEAN, TIMESTAMPTZ,
    AUTOINCREMENT, SERIAL, GENERATED, TEXT, TRUE/FALSE, LIMIT, RETURNING, ON CONFLICT, ||,
    $N or ? placeholders), looked for outside string literals, quoted identifiers and
    comments. (Both parsers read `x = TRUE` as a comparison with a column named TRUE, which
    is valid T-SQL grammar but never what we mean.),
  * not use a boolean expression as a value (`SELECT a = b AS f`, `SET x = (y IS NULL)`,
    `VALUES (a < b)`, `THEN a = b`): T-SQL has no boolean values, and
  * follow SQL Server's paging rules: ORDER BY in a subquery needs TOP or OFFSET ... FETCH,
    and OFFSET needs ORDER BY, and
  * not use OUTPUT without INTO on a table that has a trigger for that action (error 334;
    the triggers are read from migrations/mssql).
The last three are server rules both parsers accept; the first two are looked for in
sqlglot's tree.

A parser's known gap for valid T-SQL is allow-listed in ALLOWED_GAPS below, narrowly (one
construct, one parser) and with the reason it is valid; sqlfluff reads bracketed names with
`]]` escapes through a rewrite (see without_bracket_escapes).

Files must also have no GO batch separators and no ';' inside comments or string literals
(the runner would cut the statement there).

sqlglot parses some valid T-SQL (e.g. ALTER ROLE ... ADD MEMBER) only as an opaque
"Command"; such statements are reported as notes (sqlfluff still parses them), and fail only
with --fail-on-command.

--require-store fails the run when no store statement (store_*.sql) was found among the
PATHs, so a recorder that stopped recording cannot pass silently.

Each distinct statement text is parsed once per parser, however many files hold it. Timing
(shared 2-core machine, warm venv): sqlfluff takes about 0.04 s per distinct statement and
sqlglot about 0.002 s; after a whole `cargo test` run (237 distinct store statements, 14
connector statements, 76 migration statements) the check takes about 13 s, 12.6 s of it in
sqlfluff.

Prints "ok <file>: N statements" per good file and a closing summary with how many distinct
store, connector and migration statements were checked. On any problem prints the file, the
statement number (and the statement) and the parser's message, and exits with status 1.
Run it with the python printed by scripts/ensure_sqlglot.sh (which installs both parsers).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

try:
    import sqlglot
    from sqlglot import exp
    from sqlfluff.core import FluffConfig, Linter
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write(
        "check_mssql_sql: sqlglot and sqlfluff are not both installed for this python.\n"
        "Run: \"$(scripts/ensure_sqlglot.sh | tail -n 1)\" scripts/check_mssql_sql.py\n"
    )
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = REPO_ROOT / "migrations" / "mssql"

# (pattern, message). Matched case-insensitively against statement text with string
# literals, quoted identifiers and comments blanked out.
FORBIDDEN = [
    (r"\bBOOLEAN\b", "BOOLEAN is not a T-SQL type (use BIT)"),
    (r"\bTIMESTAMPTZ\b", "TIMESTAMPTZ is not a T-SQL type (use DATETIMEOFFSET)"),
    (r"\bAUTOINCREMENT\b", "AUTOINCREMENT is not T-SQL (use IDENTITY(1,1))"),
    (r"\b(?:BIG|SMALL)?SERIAL\b", "SERIAL is not a T-SQL type (use BIGINT IDENTITY(1,1))"),
    (r"\bGENERATED\b", "GENERATED ... AS IDENTITY is not T-SQL (use IDENTITY(1,1))"),
    (r"\bN?TEXT\b", "TEXT/NTEXT is not a usable T-SQL column type (use NVARCHAR(n) or NVARCHAR(MAX))"),
    (r"\b(?:TRUE|FALSE)\b", "TRUE/FALSE literals do not exist in T-SQL (use 1/0)"),
    (r"\bLIMIT\b", "LIMIT is not T-SQL (use TOP (n) or OFFSET ... FETCH)"),
    (r"\bRETURNING\b", "RETURNING is not T-SQL (use OUTPUT INSERTED.col)"),
    (r"\bON\s+CONFLICT\b", "ON CONFLICT is not T-SQL (use MERGE or a guarded INSERT)"),
    (r"\|\|", "|| is not string concatenation in T-SQL (use + or CONCAT)"),
    (r"\$\d+", "$N placeholders are PostgreSQL (MSSQL needs @pN)"),
    (r"\?", "? placeholders are not rewritten for MSSQL (use @pN)"),
]
FORBIDDEN_RE = [(re.compile(p, re.IGNORECASE), m) for p, m in FORBIDDEN]

ANSI_ESCAPE_RE = re.compile(r"\x1b\[[0-9;]*m")  # sqlglot underlines the bad token with these

GO_LINE_RE = re.compile(r"^\s*GO(?:\s+\d+)?\s*$", re.IGNORECASE)

# Known gaps of one parser for valid T-SQL: (parser, statement pattern, message pattern,
# why the construct is valid). A failure is excused only when both patterns match.
ALLOWED_GAPS: list[tuple[str, re.Pattern[str], re.Pattern[str], str]] = [
    (
        "sqlfluff",
        re.compile(r"^\s*KILL\s+\d+\s*$"),
        re.compile(r"unparsable"),
        # The connector ends a revoked login's sessions with `KILL <session id>`. Microsoft's
        # KILL (Transact-SQL) page gives the syntax as
        # `KILL { session_id [ WITH STATUSONLY ] | UOW [ WITH STATUSONLY | COMMIT | ROLLBACK ] }`;
        # sqlfluff 4.5.0's tsql dialect has no KILL statement at all. sqlglot parses it.
        "KILL session_id is T-SQL; sqlfluff's tsql grammar lacks KILL",
    ),
]

# sqlfluff's T-SQL lexer ends a bracket-delimited identifier at the first ']' and so cannot
# read `[a]]b]`, though doubling the right bracket is how T-SQL escapes it (Microsoft's
# QUOTENAME page: "the right bracket ... is doubled to indicate an escape character"; the
# connector quotes hostile role and login names that way). For sqlfluff only, such an
# identifier is replaced by a plain one (`[escaped_name]`), so the rest of the statement is
# still checked; sqlglot reads the original text.

STORE_PREFIX = "store_"


class Statement:
    def __init__(self, number: int, line: int, text: str):
        self.number = number
        self.line = line
        self.text = text


def split_statements(source: str) -> tuple[list[Statement], list[str]]:
    """Split like the migration runner. Returns (statements, file-level problems)."""
    statements: list[Statement] = []
    problems: list[str] = []
    current: list[str] = []
    start_line = 0
    for lineno, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("--"):
            if ";" in stripped:
                problems.append(f"line {lineno}: ';' inside a comment line (the runner may split there)")
            if current:
                current.append("")  # keep line numbers within the statement
            continue
        if GO_LINE_RE.match(line):
            problems.append(f"line {lineno}: GO batch separator (the runner does not support GO)")
            if current:
                current.append("")
            continue
        if not current and not stripped:
            continue
        if not current:
            start_line = lineno
        if line.rstrip().endswith(";"):
            current.append(line.rstrip()[:-1])
            text = "\n".join(current).rstrip()
            if text.strip():
                statements.append(Statement(len(statements) + 1, start_line, text))
            else:
                problems.append(f"line {lineno}: empty statement (a lone ';')")
            current = []
        else:
            current.append(line)
    tail = "\n".join(current).rstrip()
    if tail.strip():
        statements.append(Statement(len(statements) + 1, start_line, tail))
    return statements, problems


def blank_literals(text: str) -> tuple[str, list[str]]:
    """Blank out string literals, quoted identifiers and comments (keeping line breaks).

    Returns the code-only text and a list of problems (';' found inside those parts,
    unterminated literals or comments)."""
    out: list[str] = []
    problems: list[str] = []
    i, n = 0, len(text)

    def keep_newlines(s: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        two = text[i : i + 2]
        if two == "--":
            end = text.find("\n", i)
            end = n if end == -1 else end
            if ";" in text[i:end]:
                problems.append("';' inside a comment")
            out.append(" " * (end - i))
            i = end
        elif two == "/*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                problems.append("unterminated /* comment")
            if ";" in text[i:j]:
                problems.append("';' inside a comment")
            out.append(keep_newlines(text[i:j]))
            i = j
        elif c in "'\"[":
            close = {"'": "'", '"': '"', "[": "]"}[c]
            j = i + 1
            while j < n:
                if text[j] == close:
                    if j + 1 < n and text[j + 1] == close:  # doubled quote is an escape
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                problems.append(f"unterminated {c}...{close}")
            j = min(j + 1, n)
            if c == "'" and ";" in text[i:j]:
                problems.append("';' inside a string literal")
            # keep an N prefix or identifier boundary intact: replace by a neutral token
            out.append("x" + keep_newlines(text[i + 1 : j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out), problems


_SQLGLOT: dict[str, tuple[list[str], bool]] = {}
_SQLFLUFF: dict[str, list[str]] = {}
_FLUFF_LINTER: Linter | None = None
PARSE_SECONDS = {"sqlglot": 0.0, "sqlfluff": 0.0}


def boolean_values(tree: exp.Expression) -> list[str]:
    """Boolean expressions used as values, which SQLite and PostgreSQL accept and T-SQL does
    not (it has no boolean type: `SELECT a = b AS f` or `SET flag = (x IS NULL)` fail there).
    Neither parser rejects them, so they are looked for in sqlglot's tree: selected values,
    SET values, inserted VALUES and CASE/IIF results."""
    found: list[str] = []

    def check(node: exp.Expression | None, where: str) -> None:
        while isinstance(node, (exp.Alias, exp.Paren)):
            node = node.this
        if isinstance(node, (exp.Predicate, exp.Connector, exp.Not)):
            found.append(
                f"{where} is a boolean expression ({node.sql(dialect='tsql')[:80]}): T-SQL has "
                "no boolean values (use CASE WHEN ... THEN 1 ELSE 0 END)"
            )

    for select in tree.find_all(exp.Select):
        for e in select.expressions:
            check(e, "a selected value")
    for update in tree.find_all(exp.Update):
        for e in update.expressions:
            if isinstance(e, exp.EQ):
                check(e.expression, "a SET value")
    for values in tree.find_all(exp.Values):
        for row in values.expressions:
            for e in row.expressions if isinstance(row, exp.Tuple) else [row]:
                check(e, "an inserted value")
    for branch in tree.find_all(exp.If):
        check(branch.args.get("true"), "a CASE/IIF result")
        check(branch.args.get("false"), "a CASE/IIF result")
    for case in tree.find_all(exp.Case):
        check(case.args.get("default"), "a CASE result")
    return found


def paging_rules(tree: exp.Expression) -> list[str]:
    """SQL Server's paging rules, which both parsers let through: ORDER BY in a subquery,
    derived table or CTE needs TOP or OFFSET ... FETCH (error 1033), and OFFSET needs an
    ORDER BY (error 10743). SQLite and PostgreSQL accept both."""
    found: list[str] = []
    for select in tree.find_all(exp.Select):
        outermost = select is tree or (
            isinstance(select.parent, exp.SetOperation) and select.parent is tree
        )
        order, limit, offset = (select.args.get(k) for k in ("order", "limit", "offset"))
        if order and not outermost and not (limit or offset):
            found.append(
                "ORDER BY in a subquery without TOP or OFFSET ... FETCH is refused by SQL Server"
            )
        if offset and not order:
            found.append("OFFSET ... FETCH without ORDER BY is refused by SQL Server")
    return found


def sqlglot_errors(text: str) -> tuple[list[str], bool]:
    """(errors, parsed only as an opaque Command) from sqlglot's T-SQL reader, cached."""
    if text not in _SQLGLOT:
        started = time.perf_counter()
        errors: list[str] = []
        command = False
        try:
            tree = sqlglot.parse_one(text, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
        except Exception as e:  # ParseError, TokenError, and anything else sqlglot raises
            errors.append(f"sqlglot {type(e).__name__}: " + ANSI_ESCAPE_RE.sub("", str(e)).strip())
        else:
            if tree is None:
                errors.append("sqlglot returned no expression")
            elif isinstance(tree, exp.Command):
                command = True
            else:
                errors.extend(boolean_values(tree))
                errors.extend(paging_rules(tree))
        PARSE_SECONDS["sqlglot"] += time.perf_counter() - started
        _SQLGLOT[text] = (errors, command)
    return _SQLGLOT[text]


def without_bracket_escapes(text: str) -> str:
    """`text` with every bracket-delimited identifier that contains `]]` replaced by
    `[escaped_name]` (string literals are skipped, so a `[` inside one stays)."""
    if "]]" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
        elif c == "[":
            j = i + 1
            while j < n:
                if text[j] == "]":
                    if j + 1 < n and text[j + 1] == "]":
                        j += 2
                        continue
                    break
                j += 1
            ident = text[i : j + 1]
            out.append("[escaped_name]" if "]]" in ident else ident)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sqlfluff_errors(text: str) -> list[str]:
    """Parse errors and unparsable sections from sqlfluff's T-SQL dialect, cached."""
    global _FLUFF_LINTER
    if text not in _SQLFLUFF:
        started = time.perf_counter()
        if _FLUFF_LINTER is None:
            # The raw templater: our SQL is not a Jinja template ('{' may appear in literals).
            _FLUFF_LINTER = Linter(config=FluffConfig(overrides={"dialect": "tsql", "templater": "raw"}))
        errors: list[str] = []
        try:
            parsed = _FLUFF_LINTER.parse_string(without_bracket_escapes(text))
        except Exception as e:  # a crash of the parser is a failure too
            errors.append(f"sqlfluff {type(e).__name__}: {e}")
        else:
            errors.extend(f"sqlfluff: {v.desc()}" for v in parsed.violations)
            if parsed.tree is None:
                errors.append("sqlfluff returned no parse tree")
            elif not parsed.violations:
                for seg in parsed.tree.recursive_crawl("unparsable"):
                    errors.append(f"sqlfluff: unparsable section {seg.raw!r}")
        PARSE_SECONDS["sqlfluff"] += time.perf_counter() - started
        _SQLFLUFF[text] = errors
    return _SQLFLUFF[text]


def allowed(parser: str, text: str, message: str) -> bool:
    return any(
        p == parser and stmt_rx.search(text) and msg_rx.search(message)
        for p, stmt_rx, msg_rx, _why in ALLOWED_GAPS
    )


TRIGGER_RE = re.compile(
    r"CREATE\s+TRIGGER\s+\S+\s+ON\s+\[?(\w+)\]?\s+(?:AFTER|FOR|INSTEAD\s+OF)\s+"
    r"((?:INSERT|UPDATE|DELETE)(?:\s*,\s*(?:INSERT|UPDATE|DELETE))*)",
    re.IGNORECASE,
)
DML_TARGET_RE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\[?(\w+)\]?", re.IGNORECASE)
OUTPUT_RE = re.compile(r"\bOUTPUT\b(?![^;]*\bINTO\b\s+[@#\w])", re.IGNORECASE)
_TRIGGERS: dict[str, set[str]] | None = None


def triggers() -> dict[str, set[str]]:
    """Table -> DML actions some trigger of migrations/mssql fires on."""
    global _TRIGGERS
    if _TRIGGERS is None:
        _TRIGGERS = {}
        for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
            for table, actions in TRIGGER_RE.findall(f.read_text(encoding="utf-8-sig")):
                for action in re.split(r"\s*,\s*", actions.upper()):
                    _TRIGGERS.setdefault(table.lower(), set()).add(action)
    return _TRIGGERS


def output_on_triggered_table(code: str) -> list[str]:
    """SQL Server refuses `OUTPUT` without `INTO` on a table with an enabled trigger for that
    action (error 334), a rule no parser knows; the triggers are read from migrations/mssql."""
    m = DML_TARGET_RE.match(code)
    if not m or not OUTPUT_RE.search(code):
        return []
    action = m.group(1).split()[0].upper()
    table = m.group(2).lower()
    if action in triggers().get(table, set()):
        return [
            f"OUTPUT without INTO on {table}, which has a trigger for {action}: SQL Server "
            "refuses this (error 334); use OUTPUT ... INTO a table variable"
        ]
    return []


def check_statement(stmt: Statement, fail_on_command: bool) -> tuple[list[str], list[str]]:
    """Returns (errors, notes) for one statement."""
    errors: list[str] = []
    notes: list[str] = []
    code, lit_problems = blank_literals(stmt.text)
    errors.extend(lit_problems)
    for rx, msg in FORBIDDEN_RE:
        m = rx.search(code)
        if m:
            line = stmt.line + code.count("\n", 0, m.start())
            errors.append(f"{msg} (found {m.group(0)!r} at line {line})")
    errors.extend(output_on_triggered_table(code))
    glot, command = sqlglot_errors(stmt.text)
    errors.extend(e for e in glot if not allowed("sqlglot", stmt.text, e))
    if command:
        msg = "sqlglot parsed it only as an opaque Command (syntax not validated by sqlglot)"
        (errors if fail_on_command else notes).append(msg)
    errors.extend(e for e in sqlfluff_errors(stmt.text) if not allowed("sqlfluff", stmt.text, e))
    return errors, notes


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."


def check_file(path: Path, fail_on_command: bool, seen: dict[str, set[str]]) -> bool:
    name = display(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"FAIL {name}: cannot read: {e}")
        return False
    statements, problems = split_statements(source)
    kind = kind_of(path)
    ok = True
    for p in problems:
        print(f"FAIL {name}: {p}")
        ok = False
    for stmt in statements:
        seen[kind].add(stmt.text)
        errors, notes = check_statement(stmt, fail_on_command)
        where = f"{name}: statement {stmt.number} (line {stmt.line}: {first_line(stmt.text)})"
        for note in notes:
            print(f"note {where}: {note}", file=sys.stderr)
        if errors:
            print(f"FAIL {where}:")
            if kind != "migration":
                print("    statement: " + stmt.text.strip().replace("\n", "\n    "))
            for err in errors:
                print("    " + err.replace("\n", "\n    "))
            ok = False
    if ok and kind == "migration":
        print(f"ok {name}: {len(statements)} statements")
    return ok


def kind_of(path: Path) -> str:
    """migration, store (captured from the store) or connector (anything else dumped)."""
    try:
        path.resolve().relative_to(MIGRATIONS_DIR.resolve())
        return "migration"
    except ValueError:
        pass
    return "store" if path.name.startswith(STORE_PREFIX) else "connector"


def collect(args: list[str]) -> tuple[list[Path], bool]:
    files: list[Path] = []
    ok = True
    defaults = sorted(MIGRATIONS_DIR.glob("*.sql"))
    if not defaults:
        print(f"FAIL {display(MIGRATIONS_DIR)}: no *.sql files found")
        ok = False
    files.extend(defaults)
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.sql") if q.is_file())
            if not found:
                print(f"note {arg}: directory has no .sql files", file=sys.stderr)
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            print(f"FAIL {arg}: no such file or directory")
            ok = False
    # de-duplicate while keeping order
    seen: set[Path] = set()
    unique = []
    for f in files:
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(f)
    return unique, ok


def main(argv: list[str]) -> int:
    fail_on_command = False
    require_store = False
    args = []
    for a in argv:
        if a == "--fail-on-command":
            fail_on_command = True
        elif a == "--require-store":
            require_store = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    # sqlglot logs its own warning for Command fallbacks; we report those ourselves.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    started = time.perf_counter()
    files, ok = collect(args)
    seen: dict[str, set[str]] = {"migration": set(), "store": set(), "connector": set()}
    failed_files = 0
    for f in files:
        if not check_file(f, fail_on_command, seen):
            ok = False
            failed_files += 1
    print(
        f"checked {len(seen['store'])} distinct store statements, "
        f"{len(seen['connector'])} distinct connector statements and "
        f"{len(seen['migration'])} migration statements with sqlglot and sqlfluff "
        f"({len(files)} files, {failed_files} failed) in {time.perf_counter() - started:.1f}s "
        f"(parsing: sqlglot {PARSE_SECONDS['sqlglot']:.1f}s, sqlfluff {PARSE_SECONDS['sqlfluff']:.1f}s)"
    )
    if require_store and not seen["store"]:
        print(
            "FAIL no store statement (store_*.sql) was captured: is JITEA_MSSQL_SQL_DUMP reaching "
            "the jitea processes, and does the store still record (api/src/store/query.rs)?"
        )
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
