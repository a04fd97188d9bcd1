#!/usr/bin/env python3
"""Check that JITEA's SQL Server statements are T-SQL that sqlglot can parse.

Usage:
    python scripts/check_mssql_sql.py [--fail-on-command] [PATH ...]

Always checks every migrations/mssql/*.sql of the repository (found from this script's own
location). Each extra PATH is a .sql file or a directory whose *.sql files (recursively) are
checked the same way, e.g. a directory the Rust code dumped its generated T-SQL into.

Each file is split the way the migration runner splits it: a statement ends at a ';' that
ends a line, and lines that start with '--' are ignored. Text after the last such ';' counts
as one more statement (a dumped statement may have no ';'). Each statement must:

  * parse with sqlglot.parse_one(stmt, read="tsql", error_level=ErrorLevel.RAISE), and
  * not contain syntax of other dialects that sqlglot's T-SQL reader lets through
    (BOOLEAN, TIMESTAMPTZ, AUTOINCREMENT, SERIAL, GENERATED, TEXT, TRUE/FALSE, LIMIT,
    RETURNING, ON CONFLICT, $N or ? placeholders), looked for outside string literals,
    quoted identifiers and comments.

Files must also have no GO batch separators and no ';' inside comments or string literals
(the runner would cut the statement there).

sqlglot parses some valid T-SQL (e.g. ALTER ROLE ... ADD MEMBER) only as an opaque
"Command"; such statements are reported as notes, and fail only with --fail-on-command.

Prints "ok <file>: N statements" per good file. On any problem prints the file, the
statement number (and its first line) and the error, and exits with status 1.
Run it with the python printed by scripts/ensure_sqlglot.sh.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

try:
    import sqlglot
    from sqlglot import exp
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write(
        "check_mssql_sql: sqlglot is not installed for this python.\n"
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
    (r"\$\d+", "$N placeholders are PostgreSQL (MSSQL needs @pN)"),
    (r"\?", "? placeholders are not rewritten for MSSQL (use @pN)"),
]
FORBIDDEN_RE = [(re.compile(p, re.IGNORECASE), m) for p, m in FORBIDDEN]

ANSI_ESCAPE_RE = re.compile(r"\x1b\[[0-9;]*m")  # sqlglot underlines the bad token with these

GO_LINE_RE = re.compile(r"^\s*GO(?:\s+\d+)?\s*$", re.IGNORECASE)


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
    try:
        tree = sqlglot.parse_one(stmt.text, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    except Exception as e:  # ParseError, TokenError, and anything else sqlglot raises
        errors.append(f"sqlglot {type(e).__name__}: " + ANSI_ESCAPE_RE.sub("", str(e)).strip())
    else:
        if tree is None:
            errors.append("sqlglot returned no expression")
        elif isinstance(tree, exp.Command):
            msg = "sqlglot parsed it only as an opaque Command (syntax not validated)"
            (errors if fail_on_command else notes).append(msg)
    return errors, notes


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:97] + "..."


def check_file(path: Path, fail_on_command: bool) -> bool:
    name = display(path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        print(f"FAIL {name}: cannot read: {e}")
        return False
    statements, problems = split_statements(source)
    ok = True
    for p in problems:
        print(f"FAIL {name}: {p}")
        ok = False
    for stmt in statements:
        errors, notes = check_statement(stmt, fail_on_command)
        where = f"{name}: statement {stmt.number} (line {stmt.line}: {first_line(stmt.text)})"
        for note in notes:
            print(f"note {where}: {note}", file=sys.stderr)
        for err in errors:
            print(f"FAIL {where}:\n    " + err.replace("\n", "\n    "))
            ok = False
    if ok:
        print(f"ok {name}: {len(statements)} statements")
    return ok


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
    args = []
    for a in argv:
        if a == "--fail-on-command":
            fail_on_command = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    # sqlglot logs its own warning for Command fallbacks; we report those ourselves.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    files, ok = collect(args)
    for f in files:
        if not check_file(f, fail_on_command):
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
