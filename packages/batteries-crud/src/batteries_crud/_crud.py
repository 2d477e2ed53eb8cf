"""``BaseCRUD``: typed, async create/read/update/delete for one SQLModel table model."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin, overload

from pydantic import BaseModel as PydanticModel
from sqlalchemy import Executable, Result, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption
from sqlmodel import SQLModel

from batteries_crud._checks import check_window, require_exact_lookup, require_filter
from batteries_crud._conflicts import invalid_value_error, translate_integrity_error
from batteries_crud._cursor import decode_cursor, encode_cursor
from batteries_crud._filters import OrderBy, build_filters, build_order
from batteries_crud._keyset import keyset_keys, rows_after
from batteries_crud._model_info import ModelInfo, model_info
from batteries_crud._pages import CursorPage, Page
from batteries_crud._storable import BIGINT_MAX
from batteries_crud._values import (
    NO_ROW,
    check_row,
    check_rows,
    field_values,
    primary_key,
    validated,
)
from batteries_crud._writes import (
    dialect_name,
    in_input_order,
    require_conflict_values,
    rowcount,
    rows_by_shape,
    upsert_columns,
    upsert_statement,
)
from batteries_crud.exceptions import (
    CRUDDefinitionError,
    CRUDError,
    MultipleFoundError,
    NotFoundError,
)
from batteries_models.mixins import utcnow

__all__ = ["BaseCRUD", "CreateT", "ModelT", "UpdateT"]

ModelT = TypeVar("ModelT", bound=SQLModel)
"""The table model a CRUD class manages."""
CreateT = TypeVar("CreateT", bound=PydanticModel)
"""The schema ``create`` accepts (a plain dict works too)."""
UpdateT = TypeVar("UpdateT", bound=PydanticModel)
"""The schema ``update`` accepts; only the fields the caller set are written."""

Where = Any
"""A SQLAlchemy boolean expression (``col(Hero.price) > 10``)."""

_SA_EXECUTE = AsyncSession.execute


class BaseCRUD(Generic[ModelT, CreateT, UpdateT]):
    """Create, read, update and delete rows of one table model, in the caller's session.

    Subclass it with the model and the two schemas; the model is read from the parameters::

        class HeroCRUD(BaseCRUD[Hero, HeroCreate, HeroUpdate]):
            pass

        async with db.session() as session:      # the session scope commits
            heroes = HeroCRUD(session)
            hero = await heroes.create(HeroCreate(name="Deadpond"))
            page = await heroes.paginate(name__icontains="dead", order_by=("-created_at",))

    **Transactions**: every method works inside the session it was given and *flushes* (so
    keys, defaults and constraint violations show up at once) but never commits or rolls back:
    the session scope that opened the session (``Database.session()``, ``SessionDep``) commits
    or rolls back the whole unit of work. A :class:`~batteries_crud.exceptions.ConflictError`
    raised by a flush leaves the transaction to be rolled back by that scope.

    **Filters**: ``list``, ``count``, ``exists``, ``paginate``, ``paginate_keyset``, ``get_by``,
    ``update_many`` and ``delete_many`` take SQLAlchemy expressions as positional arguments and
    Django-style lookups as keywords (``price__gte=10``, ``name__icontains="x"``,
    ``id__in=[1, 2]``). Unknown fields or lookups and values of the wrong type raise
    :class:`~batteries_crud.exceptions.InvalidFilterError` before any SQL is sent.

    **Soft delete**: for models with :class:`~batteries_models.SoftDeleteMixin`, reads hide
    deleted rows unless ``with_deleted=True``; ``delete`` sets ``deleted_at`` unless
    ``hard=True``.

    **Hooks**: override ``before_create``, ``after_create``, ``before_update``,
    ``after_update``, ``before_delete`` or ``after_delete``; they run for the one-row methods
    (``create``, ``update``, ``delete``, and the create or update step of ``get_or_create`` and
    ``update_or_create``), not for the bulk ones (``create_many``, ``update_many``,
    ``upsert``, ``upsert_many``, ``delete_many``), which never load the rows.

    Args:
        session: The async session to work in (``Database.session()``, ``SessionDep``).

    Attributes:
        model: The table model (class attribute), taken from the generic parameters or set
            explicitly as ``model = Hero``.
        session: The session this instance works in.
    """

    model: ClassVar[type[Any]]
    _info: ClassVar[ModelInfo | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("model")
        if model is None:
            for base in cls.__dict__.get("__orig_bases__", ()):
                origin = get_origin(base)
                if isinstance(origin, type) and issubclass(origin, BaseCRUD):
                    args = get_args(base)
                    # A TypeVar or Any leaves the model to a subclass (a generic base class).
                    if args and isinstance(args[0], type) and args[0] is not Any:
                        model = args[0]
                        break
        if model is None:
            return  # a generic intermediate base, or a subclass of a concrete CRUD class
        if getattr(model, "__table__", None) is None:
            msg = (
                f"{cls.__name__} manages {model.__name__}, which is not a table model: "
                f"declare it with table=True, or give BaseCRUD the table model first"
            )
            raise CRUDDefinitionError(msg, crud=cls.__name__)
        cls.model = model
        cls._info = None  # inspected on first use: related models may not exist yet

    def __init__(self, session: AsyncSession) -> None:
        cls = type(self)
        if getattr(cls, "model", None) is None:
            msg = (
                f"{cls.__name__} has no model: subclass it as "
                f"class HeroCRUD(BaseCRUD[Hero, HeroCreate, HeroUpdate])"
            )
            raise CRUDDefinitionError(msg, crud=cls.__name__)
        info = cls.__dict__.get("_info")
        if info is None:
            info = model_info(cls.model)
            cls._info = info
        self.session = session
        self._model: type[ModelT] = cls.model
        self._i: ModelInfo = info

    # ------------------------------------------------------------------ hooks

    async def before_create(self, obj: ModelT) -> None:
        """Run before a new row is added to the session (the object is built, not flushed)."""

    async def after_create(self, obj: ModelT) -> None:
        """Run after a new row was flushed (its key is set)."""

    async def before_update(self, obj: ModelT, values: dict[str, Any]) -> None:
        """Run before ``values`` are applied to ``obj``; change ``values`` in place if needed."""

    async def after_update(self, obj: ModelT) -> None:
        """Run after an update was flushed."""

    async def before_delete(self, obj: ModelT) -> None:
        """Run before ``obj`` is deleted (or soft-deleted)."""

    async def after_delete(self, obj: ModelT) -> None:
        """Run after the delete (or soft delete) was flushed."""

    # ------------------------------------------------------------------ reads

    async def get(
        self, pk: Any, *, options: Sequence[ORMOption] = (), with_deleted: bool = False
    ) -> ModelT | None:
        """Return the row with primary key ``pk``, or ``None``.

        Args:
            pk: The key value; a tuple (in key column order) or a dict for composite keys.
            options: Loader options such as ``selectinload(Hero.team)``; with options, a row
                already in the session is read again so that they apply.
            with_deleted: Also return a soft-deleted row.

        A key the column cannot hold (``10**30`` for an INTEGER key) matches no row: ``None``,
        and no SQL is sent.

        Raises:
            InvalidFilterError: ``pk`` has the wrong shape or type (no SQL is sent).
        """
        ident = primary_key(self._i, pk)
        if ident is NO_ROW:
            return None
        # With loader options, re-read a row already in the session so the options apply
        # (otherwise its relationships would still lazy-load: MissingGreenlet in async code).
        try:
            obj = await self.session.get(
                self._model,
                ident,
                options=options or None,
                populate_existing=bool(options) or None,
            )
        except (StatementError, OverflowError, UnicodeEncodeError) as exc:
            error = self._database_error(exc)
            if error is None:
                raise
            raise error from exc
        if obj is not None and not with_deleted and self._is_deleted(obj):
            return None
        return obj

    async def get_or_raise(
        self, pk: Any, *, options: Sequence[ORMOption] = (), with_deleted: bool = False
    ) -> ModelT:
        """Return the row with primary key ``pk``.

        Raises:
            NotFoundError: No such row (or it is soft-deleted and ``with_deleted`` is false).
            InvalidFilterError: ``pk`` has the wrong shape or type.
        """
        obj = await self.get(pk, options=options, with_deleted=with_deleted)
        if obj is None:
            raise self._not_found(pk)
        return obj

    async def get_by(
        self,
        *where: Where,
        options: Sequence[ORMOption] = (),
        with_deleted: bool = False,
        **lookup: Any,
    ) -> ModelT | None:
        """Return the one row matching the filters, or ``None``.

        Raises:
            MultipleFoundError: Several rows match.
            InvalidFilterError: A filter is not valid (no SQL is sent).
        """
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        return await self._one_or_none(clauses, options, lookup)

    async def list(
        self,
        *where: Where,
        order_by: Sequence[OrderBy] | str = (),
        limit: int | None = None,
        offset: int = 0,
        options: Sequence[ORMOption] = (),
        with_deleted: bool = False,
        **lookup: Any,
    ) -> builtins.list[ModelT]:
        """Return the rows matching the filters.

        Args:
            *where: SQLAlchemy boolean expressions, ANDed with the lookups.
            order_by: Field names (``"-created_at"`` for descending) or SQLAlchemy expressions.
            limit: At most this many rows (at least 1); all rows when ``None``.
            offset: Skip this many rows first.
            options: Loader options such as ``selectinload(Hero.team)``.
            with_deleted: Include soft-deleted rows.
            **lookup: Django-style lookups: ``name="x"``, ``price__gte=10``...

        Raises:
            InvalidFilterError: A filter, ordering, limit or offset is not valid (no SQL sent).
        """
        check_window(self._i, 1 if limit is None else limit, offset)
        statement = select(self._model).where(
            *build_filters(self._i, where, lookup, with_deleted=with_deleted)
        )
        if order_by:
            statement = statement.order_by(*build_order(self._i, order_by))
        if limit is not None:
            statement = statement.limit(limit)
        if offset:
            statement = statement.offset(offset)
        if options:
            statement = statement.options(*options)
        result = await self._execute(statement)
        return builtins.list(result.scalars().all())

    async def count(self, *where: Where, with_deleted: bool = False, **lookup: Any) -> int:
        """Return how many rows match the filters."""
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        statement = select(func.count()).select_from(self._i.table).where(*clauses)
        return int((await self._execute(statement)).scalar_one())

    async def exists(self, *where: Where, with_deleted: bool = False, **lookup: Any) -> bool:
        """Return whether at least one row matches the filters."""
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        statement = select(exists().where(*clauses).select_from(self._i.table))
        return bool((await self._execute(statement)).scalar_one())

    async def paginate(
        self,
        *where: Where,
        limit: int = 50,
        offset: int = 0,
        order_by: Sequence[OrderBy] | str = (),
        options: Sequence[ORMOption] = (),
        with_deleted: bool = False,
        **lookup: Any,
    ) -> Page[ModelT]:
        """Return one page of the matching rows and the total count (two queries).

        Without ``order_by`` the rows are ordered by primary key, so pages never overlap.
        For deep pages of large tables prefer :meth:`paginate_keyset`.

        Raises:
            InvalidFilterError: ``limit`` < 1, ``offset`` < 0, or a filter is not valid.
        """
        check_window(self._i, limit, offset)
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        order = build_order(self._i, order_by) if order_by else self._pk_order()
        statement = select(self._model).where(*clauses).order_by(*order).limit(limit)
        if offset:
            statement = statement.offset(offset)
        if options:
            statement = statement.options(*options)
        items = builtins.list((await self._execute(statement)).scalars().all())
        if offset == 0 and len(items) < limit:
            total = len(items)  # the whole result fits on this first page: no COUNT needed
        else:
            count = select(func.count()).select_from(self._i.table).where(*clauses)
            total = int((await self._execute(count)).scalar_one())
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def paginate_keyset(
        self,
        *where: Where,
        limit: int = 50,
        after: str | None = None,
        order_by: Sequence[str] | str = (),
        options: Sequence[ORMOption] = (),
        with_deleted: bool = False,
        **lookup: Any,
    ) -> CursorPage[ModelT]:
        """Return the page after the cursor ``after``: as fast on page 10,000 as on page 1.

        The primary key is appended to ``order_by`` to make the order total. Sort columns
        should be NOT NULL (a NULL cannot be compared), and an index on them keeps it fast.

        Args:
            *where: SQLAlchemy boolean expressions, ANDed with the lookups.
            limit: The page size (at least 1).
            after: The ``next_cursor`` of the previous page; ``None`` for the first page.
            order_by: Field names only (``"-created_at"``), not expressions.
            options: Loader options.
            with_deleted: Include soft-deleted rows.
            **lookup: Django-style lookups.

        Raises:
            InvalidFilterError: A bad filter, ordering, limit or cursor (no SQL is sent).
        """
        check_window(self._i, limit, 0)
        keys = keyset_keys(self._i, order_by)
        order = build_order(self._i, keys)
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        if after is not None:
            values = decode_cursor(self._i, keys, after)
            clauses.append(rows_after(self._i, keys, values))
        # One row more tells whether there is a next page; LIMIT itself is a 64-bit integer.
        fetch = min(limit + 1, BIGINT_MAX)
        statement = select(self._model).where(*clauses).order_by(*order).limit(fetch)
        if options:
            statement = statement.options(*options)
        rows = builtins.list((await self._execute(statement)).scalars().all())
        items = rows[:limit]
        cursor = None
        if len(rows) > limit:
            last = items[-1]
            cursor = encode_cursor(keys, [getattr(last, k.removeprefix("-")) for k in keys])
        return CursorPage(items=items, limit=limit, next_cursor=cursor)

    # ------------------------------------------------------------------ writes

    async def create(self, data: CreateT | Mapping[str, Any]) -> ModelT:
        """Validate ``data`` into a new row, add it to the session and flush.

        Raises:
            ConflictError: A unique, foreign-key, not-null or check constraint refused the row.
            InvalidFilterError: A dict holds a key that is not a field of the model.
            InvalidValueError: A value does not validate against the model (``errors`` holds
                pydantic's field errors), or the column cannot hold it.
        """
        obj: ModelT = validated(self._i, field_values(self._i, data, partial=False))
        await self.before_create(obj)
        self.session.add(obj)
        await self._flush()
        await self.after_create(obj)
        return obj

    @overload
    async def create_many(
        self, items: Iterable[CreateT | Mapping[str, Any]], *, returning: Literal[True] = True
    ) -> builtins.list[ModelT]: ...

    @overload
    async def create_many(
        self, items: Iterable[CreateT | Mapping[str, Any]], *, returning: Literal[False]
    ) -> int: ...

    async def create_many(
        self, items: Iterable[CreateT | Mapping[str, Any]], *, returning: bool = True
    ) -> builtins.list[ModelT] | int:
        """Insert many rows with one statement per batch, not one round trip per row.

        With ``returning=True`` (the default) the rows go out as multi-row
        ``INSERT ... RETURNING`` statements of up to 1,000 rows (SQLAlchemy's
        "insertmanyvalues") and come back as model instances in the session, in input order.
        With ``returning=False`` they go out as a plain Core ``executemany`` and only the count
        comes back: about twice as fast when you do not need the objects.

        Model defaults (``default`` and ``default_factory``) are applied; dict values are not
        validated by pydantic (pass create schemas to validate). Hooks do not run.

        Returns:
            The created rows, or their count when ``returning=False``.

        Raises:
            ConflictError: A constraint refused a row; nothing of this call is kept.
            InvalidFilterError: A dict holds a key that is not a field of the model.
            InvalidValueError: A column cannot hold a value (range, length, characters).
        """
        rows = [self._i.row(field_values(self._i, item, partial=False)) for item in items]
        check_rows(self._i, rows)
        if not returning:
            await self._insert_rows(rows)
            return len(rows)
        if not rows:
            return []
        keys = self._i.pk_keys
        server_keys = any(k not in row for row in rows for k in keys)
        if server_keys and dialect_name(self.session) == "sqlite":
            # SQLAlchemy cannot tie SQLite's new ROWIDs to the parameter order, so an ordered
            # RETURNING would fall back to one INSERT per row. SQLite gives each row of a
            # multi-row INSERT the next ROWID in VALUES order: sorting by key restores it.
            statement = insert(self._model).returning(self._model)
            result = await self._execute(statement, rows)
            created = builtins.list(result.scalars().all())
            created.sort(key=lambda obj: tuple(getattr(obj, k) for k in keys))
            return created
        statement = insert(self._model).returning(self._model, sort_by_parameter_order=True)
        result = await self._execute(statement, rows)
        return builtins.list(result.scalars().all())

    async def update(
        self, pk_or_obj: Any, data: UpdateT | Mapping[str, Any], *, with_deleted: bool = False
    ) -> ModelT:
        """Apply the fields the caller set in ``data`` to one row and flush.

        A schema contributes only the fields that were set (``exclude_unset``), so a PATCH
        body with one field changes one column.

        Args:
            pk_or_obj: The row, or its primary key.
            data: An update schema or a dict of field values.
            with_deleted: Allow updating a soft-deleted row.

        Raises:
            NotFoundError: No row has that key.
            ConflictError: A constraint refused the change.
            InvalidFilterError: A key is not a field of the model.
            InvalidValueError: A value has the wrong type, or the column cannot hold it.
        """
        obj = await self._resolve(pk_or_obj, with_deleted=with_deleted)
        values = field_values(self._i, data, partial=True)
        await self.before_update(obj, values)
        check_row(self._i, values)  # again: the hook may have changed them
        for key, value in values.items():
            setattr(obj, key, value)
        self._touch(obj, values)
        await self._flush()
        await self.after_update(obj)
        return obj

    async def update_many(
        self,
        values: UpdateT | Mapping[str, Any],
        *where: Where,
        with_deleted: bool = False,
        **lookup: Any,
    ) -> int:
        """Set ``values`` on every row matching the filters with one UPDATE; return the count.

        A call without any filter is refused: pass ``sqlalchemy.true()`` to mean every row.

        Raises:
            InvalidFilterError: No filter, or a bad filter or field (no SQL is sent).
            InvalidValueError: A value has the wrong type, or the column cannot hold it.
            ConflictError: A constraint refused the change.
        """
        require_filter(self._i, "update_many", where, lookup)
        data = field_values(self._i, values, partial=True)
        if not data:
            return 0
        clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
        statement = update(self._model).where(*clauses).values(data)
        return rowcount(await self._execute(statement))

    async def upsert(
        self,
        data: CreateT | Mapping[str, Any],
        *,
        conflict: Sequence[str] | None = None,
        update: Sequence[str] | None = None,
    ) -> ModelT:
        """Insert a row, or update the existing one, in one ``INSERT ... ON CONFLICT``.

        Args:
            data: The row to insert.
            conflict: The unique columns that identify the row (default: the primary key).
            update: The fields to overwrite on conflict (default: the fields given in
                ``data`` other than ``conflict``).

        Returns:
            The inserted or updated row, as the database now holds it.

        Raises:
            CRUDError: The database has no ``ON CONFLICT`` (only PostgreSQL and SQLite do).
            ConflictError: Another constraint refused the row.
        """
        rows = await self.upsert_many([data], conflict=conflict, update=update)
        return rows[0]

    async def upsert_many(
        self,
        items: Iterable[CreateT | Mapping[str, Any]],
        *,
        conflict: Sequence[str] | None = None,
        update: Sequence[str] | None = None,
    ) -> builtins.list[ModelT]:
        """Insert or update many rows with ``INSERT ... ON CONFLICT DO UPDATE``, in input order.

        See :meth:`upsert` for the arguments. Hooks do not run.
        """
        given = [field_values(self._i, item, partial=False) for item in items]
        if not given:
            return []
        check_rows(self._i, given)
        target, changed = upsert_columns(self._i, given, conflict, update)
        statement = upsert_statement(self._i, dialect_name(self.session), target, changed)
        rows = [self._i.row(item) for item in given]
        require_conflict_values(self._i, rows, target)
        result = await self._execute(statement, rows)
        return in_input_order(self._i, result.scalars(), rows, target)

    async def delete(self, pk_or_obj: Any, *, hard: bool = False) -> ModelT:
        """Delete one row and flush; soft-delete it when the model has ``SoftDeleteMixin``.

        Args:
            pk_or_obj: The row, or its primary key.
            hard: Really DELETE a soft-delete model's row (even one already soft-deleted).

        Returns:
            The deleted row (detached after a hard delete).

        Raises:
            NotFoundError: No (visible) row has that key.
            ConflictError: Other rows still refer to it through a foreign key.
        """
        obj = await self._resolve(pk_or_obj, with_deleted=hard)
        await self.before_delete(obj)
        if self._i.soft_delete and not hard:
            values: dict[str, Any] = {"deleted_at": utcnow()}
            obj.deleted_at = values["deleted_at"]
            self._touch(obj, values)
        else:
            await self.session.delete(obj)
        await self._flush(deleting=not self._i.soft_delete or hard)
        await self.after_delete(obj)
        return obj

    async def delete_many(
        self, *where: Where, hard: bool = False, with_deleted: bool = False, **lookup: Any
    ) -> int:
        """Delete (or soft-delete) every row matching the filters; return how many.

        A call without any filter is refused: pass ``sqlalchemy.true()`` to mean every row.

        Raises:
            InvalidFilterError: No filter, or a bad filter (no SQL is sent).
            ConflictError: Other rows still refer to a deleted row.
        """
        require_filter(self._i, "delete_many", where, lookup)
        statement: Executable
        if self._i.soft_delete and not hard:
            clauses = build_filters(self._i, where, lookup, with_deleted=False)
            values: dict[str, Any] = {"deleted_at": utcnow()}
            statement = update(self._model).where(*clauses).values(values)
        else:
            clauses = build_filters(self._i, where, lookup, with_deleted=with_deleted)
            statement = delete(self._model).where(*clauses)
        return rowcount(await self._execute(statement, deleting=True))

    async def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[ModelT, bool]:
        """Return the row matching ``lookup``, creating it from ``lookup`` and ``defaults``.

        Race-safe when ``lookup`` is covered by a unique constraint: the insert runs in a
        savepoint, and when a concurrent caller won the race the unique violation is caught and
        the winner's row is returned. Works under READ COMMITTED (the default of PostgreSQL).

        Args:
            defaults: Extra field values used only when creating.
            **lookup: Exact field values (no ``__`` lookups) that identify the row.

        Returns:
            ``(row, created)``.

        Raises:
            ConflictError: The insert broke a constraint and still no row matches (for example
                a soft-deleted row holds the unique value).
        """
        require_exact_lookup(self._i, lookup)
        obj = await self.get_by(**lookup)
        if obj is not None:
            return obj, False
        return await self._create_or_reselect({**(defaults or {}), **lookup}, lookup)

    async def update_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[ModelT, bool]:
        """Update the row matching ``lookup`` with ``defaults``, or create it; race-safe.

        The existing row is read ``FOR UPDATE`` (on PostgreSQL), so concurrent callers apply
        their updates one after the other.

        Returns:
            ``(row, created)``.
        """
        require_exact_lookup(self._i, lookup)
        values = dict(defaults or {})
        obj = await self._for_update(lookup)
        if obj is None:
            obj, created = await self._create_or_reselect({**values, **lookup}, lookup)
            if created:
                return obj, True
            obj = await self._for_update(lookup) or obj
        return await self.update(obj, values), False

    # ------------------------------------------------------------------ internals

    async def _execute(
        self, statement: Executable, params: Any = None, *, deleting: bool = False
    ) -> Result[Any]:
        # SQLModel's AsyncSession marks execute() deprecated in favour of exec(), which cannot
        # take executemany parameters; SQLAlchemy's own method is the same code path.
        try:
            return await _SA_EXECUTE(self.session, statement, params)
        except (StatementError, OverflowError, UnicodeEncodeError) as exc:
            error = self._database_error(exc, deleting=deleting)
            if error is None:
                raise
            raise error from exc

    def _database_error(self, exc: Exception, *, deleting: bool = False) -> CRUDError | None:
        """The typed error for a database error, or ``None`` when it is not about the input.

        The one boundary where driver errors are translated (see ``_conflicts``).
        """
        if isinstance(exc, IntegrityError):
            return translate_integrity_error(self._i, exc, deleting=deleting)
        return invalid_value_error(self._i, exc)

    async def _insert_rows(self, rows: builtins.list[dict[str, Any]]) -> None:
        for same_keys in rows_by_shape(rows):
            await self._execute(insert(self._i.table), same_keys)

    async def _flush(self, *, deleting: bool = False) -> None:
        try:
            await self.session.flush()
        except (StatementError, OverflowError, UnicodeEncodeError) as exc:
            error = self._database_error(exc, deleting=deleting)
            if error is None:
                raise
            raise error from exc

    async def _create_or_reselect(
        self, data: dict[str, Any], lookup: dict[str, Any]
    ) -> tuple[ModelT, bool]:
        obj: ModelT = validated(self._i, field_values(self._i, data, partial=False))
        await self.before_create(obj)
        try:
            async with self.session.begin_nested():
                self.session.add(obj)
                await self.session.flush()
        except IntegrityError as exc:
            # A concurrent caller inserted the same key first; its row is committed by now,
            # since our insert waited for its transaction to end.
            existing = await self.get_by(**lookup)
            if existing is None:
                raise translate_integrity_error(self._i, exc) from exc
            return existing, False
        await self.after_create(obj)
        return obj, True

    async def _for_update(self, lookup: dict[str, Any]) -> ModelT | None:
        clauses = build_filters(self._i, (), lookup, with_deleted=False)
        statement = select(self._model).where(*clauses).limit(2).with_for_update()
        rows = (await self._execute(statement)).scalars().all()
        return self._single(rows, lookup)

    async def _one_or_none(
        self, clauses: Sequence[Any], options: Sequence[ORMOption], lookup: Mapping[str, Any]
    ) -> ModelT | None:
        statement = select(self._model).where(*clauses).limit(2)
        if options:
            statement = statement.options(*options)
        rows = (await self._execute(statement)).scalars().all()
        return self._single(rows, lookup)

    def _single(self, rows: Sequence[ModelT], lookup: Mapping[str, Any]) -> ModelT | None:
        if len(rows) > 1:
            msg = (
                f"Several rows of table {self._i.name!r} match {dict(lookup)}: "
                f"add filters that match one row, or use list()"
            )
            raise MultipleFoundError(msg, table=self._i.name, lookup=dict(lookup))
        return rows[0] if rows else None

    async def _resolve(self, pk_or_obj: Any, *, with_deleted: bool) -> ModelT:
        if isinstance(pk_or_obj, self._model):
            return pk_or_obj
        return await self.get_or_raise(pk_or_obj, with_deleted=with_deleted)

    def _touch(self, obj: Any, values: dict[str, Any]) -> None:
        # Set onupdate columns (updated_at) in Python so the object holds the new value after
        # the flush instead of an expired attribute that would lazy-load (MissingGreenlet).
        for key, now in self._i.onupdate.items():
            if key not in values:
                setattr(obj, key, now())

    def _is_deleted(self, obj: Any) -> bool:
        return self._i.soft_delete and obj.deleted_at is not None

    def _not_found(self, pk: Any) -> NotFoundError:
        msg = f"No row of table {self._i.name!r} has the key {pk!r}: check the id"
        return NotFoundError(msg, table=self._i.name, key=pk)

    def _pk_order(self) -> builtins.list[Any]:
        return [self._i.columns[k].asc() for k in self._i.pk_keys]
