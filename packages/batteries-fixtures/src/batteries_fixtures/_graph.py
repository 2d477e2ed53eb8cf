"""Foreign-key dependency graph: table order, cycles, and where to break them."""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from batteries_fixtures.exceptions import ForeignKeyCycleError

__all__ = ["Edge", "LoadPlan", "plan_load", "sort_tables", "strongly_connected"]


@dataclass(frozen=True)
class Edge:
    """A foreign key: rows of ``child`` point at rows of ``parent``.

    Attributes:
        child: The referencing table.
        parent: The referenced table.
        key: What identifies the foreign key for the caller (its constraint object).
        nullable: Every column of the foreign key accepts NULL (insert NULL, UPDATE later).
        deferrable: The database can check this foreign key at commit instead.
    """

    child: str
    parent: str
    key: Hashable = None
    nullable: bool = False
    deferrable: bool = False


@dataclass(frozen=True)
class LoadPlan:
    """The order to insert tables in, and how cycles are broken.

    Attributes:
        order: Tables, parents first; ties (and members of one deferred cycle) by name.
        broken: Foreign keys inserted as NULL then set by a later UPDATE.
        deferred: Whether some cycle needs deferred constraint checks.
    """

    order: list[str]
    broken: list[Edge] = field(default_factory=list)
    deferred: bool = False


def strongly_connected(nodes: Iterable[str], edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components of the graph (Tarjan), each sorted by name."""
    graph: dict[str, set[str]] = {n: set() for n in nodes}
    for edge in edges:
        if edge.child in graph and edge.parent in graph:
            graph[edge.child].add(edge.parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        # Iterative Tarjan: deep FK chains must not hit the recursion limit.
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def sort_tables(nodes: Iterable[str], edges: Iterable[Edge]) -> list[str]:
    """Order tables parents first, ties by name; the tables of one cycle stay together, by name."""
    node_list = sorted(set(nodes))
    edge_list = [e for e in edges if e.child in node_list and e.parent in node_list]
    components = strongly_connected(node_list, edge_list)
    component_of = {n: i for i, comp in enumerate(components) for n in comp}
    parents: dict[int, set[int]] = {i: set() for i in range(len(components))}
    children: dict[int, set[int]] = {i: set() for i in range(len(components))}
    for edge in edge_list:
        child, parent = component_of[edge.child], component_of[edge.parent]
        if child != parent:
            parents[child].add(parent)
            children[parent].add(child)
    waiting = {i: len(p) for i, p in parents.items()}
    ready = [(components[i][0], i) for i, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.extend(components[i])
        for child in children[i]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (components[child][0], child))
    return order


def plan_load(nodes: Iterable[str], edges: Iterable[Edge], *, can_defer_all: bool) -> LoadPlan:
    """Plan a load: break each cycle at its nullable foreign keys, else defer, else fail.

    Args:
        nodes: The tables to load.
        edges: Their foreign keys (edges to tables outside ``nodes`` are ignored).
        can_defer_all: The database can defer every foreign key (SQLite's
            ``PRAGMA defer_foreign_keys``), not only those declared DEFERRABLE.

    Raises:
        ForeignKeyCycleError: A cycle has no nullable foreign key to break and cannot be deferred.
    """
    node_list = sorted(set(nodes))
    edge_list = [e for e in edges if e.child in node_list and e.parent in node_list]
    component_of = {
        n: i for i, comp in enumerate(strongly_connected(node_list, edge_list)) for n in comp
    }
    in_cycle = [e for e in edge_list if component_of[e.child] == component_of[e.parent]]
    broken = [e for e in in_cycle if e.nullable]
    kept = [e for e in edge_list if e not in broken]
    deferred = False
    for component in strongly_connected(node_list, kept):
        members = set(component)
        inner = [e for e in kept if e.child in members and e.parent in members]
        if len(component) == 1 and not inner:
            continue
        if can_defer_all or all(e.deferrable for e in inner):
            deferred = True
            continue
        cycle = _a_cycle(component, inner)
        path = " -> ".join((*cycle, cycle[0]))
        msg = (
            f"Foreign keys form a cycle {path} with no nullable or DEFERRABLE foreign key to "
            "break it: make one of them nullable or DEFERRABLE INITIALLY IMMEDIATE"
        )
        raise ForeignKeyCycleError(msg, cycle=cycle)
    return LoadPlan(order=sort_tables(node_list, kept), broken=broken, deferred=deferred)


def _a_cycle(component: list[str], edges: list[Edge]) -> tuple[str, ...]:
    """One cycle through the first table of a strongly connected component, for messages."""
    start = component[0]
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.child, []).append(e.parent)
    path = [start]
    seen = {start}
    while True:
        options = sorted(graph.get(path[-1], []))
        if start in options:
            return tuple(path)
        nxt = next((o for o in options if o not in seen), None)
        if nxt is None:
            return tuple(path)
        path.append(nxt)
        seen.add(nxt)
