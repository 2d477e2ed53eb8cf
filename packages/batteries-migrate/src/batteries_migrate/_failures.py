"""Turn an exception raised by a revision file into one line naming revision, statement, reason.

A migration fails with whatever its code raises: a driver error (``duplicate column name``), a
``RuntimeError`` it raises itself, a ``NameError`` in the file, a ``SyntaxError`` when Alembic
imports it. The traceback already says where: the innermost frame in the migrations folder gives
the file and the line, and the file's syntax tree gives the statement on that line.
"""

from __future__ import annotations

import ast
import traceback
from pathlib import Path
from types import FrameType

from sqlalchemy.exc import DBAPIError, StatementError

from batteries_migrate._project import MigrationTarget
from batteries_migrate._sqlite_transactions import DanglingReferencesError
from batteries_migrate.exceptions import MigrationFailedError, RevisionFileError

__all__ = ["reason_of", "revision_failure"]

_MAX_OPERATION = 100


def revision_failure(
    exc: BaseException, target: MigrationTarget, current: tuple[str, ...] | None = None
) -> MigrationFailedError | RevisionFileError | None:
    """The one-line error for ``exc``, or ``None`` when no revision file is to blame.

    Args:
        exc: What the command raised.
        target: The database the command ran on.
        current: The revisions the database is at after the rollback, when it could be read.
    """
    if isinstance(exc, SyntaxError) and exc.filename and _is_revision_path(exc.filename, target):
        path = Path(exc.filename)
        msg = (
            f"Revision file {path} has a syntax error at line {exc.lineno}: {exc.msg}; "
            "fix the file, nothing was applied"
        )
        return RevisionFileError(msg, database=target.database, path=str(path), line=exc.lineno)
    found = _innermost_revision_frame(exc, target)
    reason = reason_of(exc)
    where = f" (the database is at {', '.join(current) or 'base'})" if current is not None else ""
    if found is not None:
        frame, line = found
        path = Path(frame.f_code.co_filename)
        if frame.f_code.co_name == "<module>":
            msg = f"Revision file {path} cannot be loaded, line {line}: {reason}; fix the file"
            return RevisionFileError(msg, database=target.database, path=str(path), line=line)
        revision = str(frame.f_globals.get("revision") or path.stem)
        message = (frame.f_globals.get("__doc__") or "").strip().splitlines()
        title = f' "{message[0]}"' if message else ""
        operation = _statement(path, line) or f"line {line}"
        msg = (
            f"Migration {revision}{title} failed at {operation} ({path.name}, line {line}): "
            f"{reason}; nothing was applied{where}"
        )
        return MigrationFailedError(
            msg,
            database=target.database,
            revision=revision,
            operation=operation,
            reason=reason,
            path=str(path),
            line=line,
            current=current or (),
        )
    if isinstance(exc, DanglingReferencesError | StatementError):
        failed = exc.revision if isinstance(exc, DanglingReferencesError) else None
        after = f" after migration {failed}" if failed else ""
        msg = (
            f"Migrating database {target.database!r} failed{after}: {reason}; "
            f"nothing was applied{where}"
        )
        return MigrationFailedError(
            msg,
            database=target.database,
            revision=failed,
            operation=None,
            reason=reason,
            current=current or (),
        )
    return None


def reason_of(exc: BaseException) -> str:
    """The first line of ``exc``: the driver's message for a database error, else ``Type: text``."""
    if isinstance(exc, DBAPIError):
        text = str(exc).strip()
    elif isinstance(exc, DanglingReferencesError):
        text = f"foreign key check: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}".strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first.rstrip(":").strip()


def _is_revision_path(filename: str, target: MigrationTarget) -> bool:
    path = Path(filename)
    if path.suffix != ".py" or path.name == "env.py":
        return False
    if path.parent.name == "versions":
        return True
    try:
        path.resolve().relative_to(target.directory.resolve())
    except ValueError:
        return False
    return True


def _innermost_revision_frame(
    exc: BaseException, target: MigrationTarget
) -> tuple[FrameType, int] | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    # The frame may sit on an exception this one was raised from (Alembic re-raises some).
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found: tuple[FrameType, int] | None = None
        for frame, line in traceback.walk_tb(current.__traceback__):
            code = frame.f_code
            is_revision = "down_revision" in frame.f_globals or (
                code.co_name == "<module>" and _is_revision_path(code.co_filename, target)
            )
            if is_revision and Path(code.co_filename).name != "env.py":
                found = (frame, line)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _statement(path: Path, line: int) -> str | None:
    """The innermost statement on ``line`` of ``path``, shortened: ``op.drop_table('hero')``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    best: ast.stmt | None = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.stmt)
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and (best is None or node.lineno >= best.lineno)
        ):
            best = node
    if best is None:
        return None
    if isinstance(best, ast.With | ast.AsyncWith) and best.lineno == line:
        # The error came out of the block's exit: a batch operation runs there.
        return _shorten(best.items[0].context_expr)
    if isinstance(best, ast.Expr):
        return _shorten(best.value)
    return _clip(ast.unparse(best))


def _shorten(node: ast.expr) -> str:
    if not isinstance(node, ast.Call):
        return _clip(ast.unparse(node))
    args = [_argument(arg) for arg in node.args]
    shown = [arg for arg in args if arg is not None]
    if len(shown) < len(args):
        shown.append("...")
    return _clip(f"{ast.unparse(node.func)}({', '.join(shown)})")


def _argument(node: ast.expr) -> str | None:
    """Names and literals stay; a ``sa.Column('email', ...)`` shows as its name."""
    if isinstance(node, ast.Constant | ast.List | ast.Tuple):
        return ast.unparse(node)
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        return repr(node.args[0].value)
    return None


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_OPERATION else flat[: _MAX_OPERATION - 3] + "..."
