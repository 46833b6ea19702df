"""A JQL subset: parse a query and select issues the way Jira's search does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jirasim.model import Issue
from jirasim.state import SimState

TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|!~|=|~|>|<)
      | (?P<punct>[(),])
      | (?P<word>issue\.property\[[^\]]+\](?:\.[\w.]+)?|[\w.\-/:+*]+)
    )""",
    re.VERBOSE,
)
LIST_FIELDS = {"project", "id", "key", "issue", "issuekey", "status", "issuetype", "type", "labels"}
DATE_FIELDS = {"updated", "created", "updateddate", "createddate"}
TEXT_FIELDS = {"summary", "description", "text"}
RELATIVE = re.compile(r"^([-+]?\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SORTABLE = {"updated", "created", "key", "id", "issuekey", "summary"}


class JqlError(ValueError):
    """A query Jira would refuse, with its message."""


@dataclass
class Clause:
    field: str
    op: str
    values: list[str]


@dataclass
class Query:
    clauses: list[Clause] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[pos:].strip()[:1]}' is a reserved "
                f"JQL character. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        pos = match.end()
    return tokens


def parse(text: str) -> Query:
    tokens = tokenize(text)
    query = Query()
    i = 0

    def peek(offset: int = 0) -> tuple[str, str] | None:
        return tokens[i + offset] if i + offset < len(tokens) else None

    def word(tok: tuple[str, str] | None, value: str) -> bool:
        return tok is not None and tok[0] == "word" and tok[1].lower() == value

    while i < len(tokens) and not word(peek(), "order"):
        tok = peek()
        assert tok is not None
        name = tok[1]
        i += 1
        op_tok = peek()
        if op_tok is None:
            raise JqlError(
                "Error in the JQL Query: Expecting operator but got the end of the query."
            )
        if op_tok[0] == "op":
            op = op_tok[1]
            i += 1
        elif word(op_tok, "in"):
            op, i = "in", i + 1
        elif word(op_tok, "not") and word(peek(1), "in"):
            op, i = "not in", i + 2
        else:
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but got '{op_tok[1]}'. "
                f"(line 1, character {text.find(op_tok[1]) + 1})"
            )
        values: list[str] = []
        if op in ("in", "not in"):
            if peek() != ("punct", "("):
                raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
            i += 1
            while peek() is not None and peek() != ("punct", ")"):
                tok = peek()
                assert tok is not None
                if tok != ("punct", ","):
                    values.append(tok[1])
                i += 1
            if peek() is None:
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            i += 1
        else:
            tok = peek()
            if tok is None or tok[0] not in ("str", "word"):
                raise JqlError(
                    "Error in the JQL Query: Expecting either a value, list or function."
                )
            values.append(tok[1])
            i += 1
        query.clauses.append(
            Clause(name.lower() if not name.startswith("issue.property") else name, op, values)
        )
        if peek() is not None and not word(peek(), "order"):
            if word(peek(), "and"):
                i += 1
            else:
                tok = peek()
                assert tok is not None
                raise JqlError(
                    f"Error in the JQL Query: Expecting either 'AND' or 'ORDER BY' but got "
                    f"'{tok[1]}'. This simulator supports AND only."
                )
    if word(peek(), "order"):
        if not word(peek(1), "by"):
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        i += 2
        while i < len(tokens):
            tok = peek()
            assert tok is not None
            if tok == ("punct", ","):
                i += 1
                continue
            name = tok[1].lower()
            if name not in SORTABLE:
                raise JqlError(f"Not able to sort using field '{tok[1]}'.")
            i += 1
            desc = word(peek(), "desc")
            if desc or word(peek(), "asc"):
                i += 1
            query.order.append((name, desc))
    return query


def search(state: SimState, text: str) -> list[Issue]:
    """The issues matching a JQL query, in the query's order (default: created, newest first)."""
    query = parse(text or "")
    predicates = [_predicate(state, c) for c in query.clauses]
    indexed_before = state.now() - state.search_lag
    found = [
        i
        for i in state.issues.values()
        if i.created <= indexed_before and all(p(i) for p in predicates)
    ]
    order = query.order or [("created", True)]
    found.sort(key=lambda i: int(i.id), reverse=order[0][1])
    for name, desc in reversed(order):
        found.sort(key=_sort_key(name), reverse=desc)
    return found


def _sort_key(name: str) -> Callable[[Issue], Any]:
    if name in ("key", "issuekey"):
        return lambda i: (i.key.rsplit("-", 1)[0], i.number)
    if name == "id":
        return lambda i: int(i.id)
    if name == "summary":
        return lambda i: str(i.values.get("summary", "")).lower()
    if name == "updated":
        return lambda i: i.updated
    return lambda i: i.created


def _predicate(state: SimState, clause: Clause) -> Callable[[Issue], bool]:
    name, op, values = clause.field, clause.op, clause.values
    negate = op in ("!=", "not in", "!~")
    if name.startswith("issue.property"):
        return _property_predicate(clause)
    if name in LIST_FIELDS:
        if op not in ("=", "!=", "in", "not in"):
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        wanted = _resolve_list(state, name, values)
        getter = _list_getter(state, name)
        return lambda i: bool(getter(i) & wanted) != negate
    if name in DATE_FIELDS:
        if op not in (">=", ">", "<=", "<", "="):
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        moment = _parse_date(state, values[0], name)
        attr = "updated" if name.startswith("updated") else "created"
        compare: dict[str, Callable[[datetime], bool]] = {
            ">=": lambda d: d >= moment,
            ">": lambda d: d > moment,
            "<=": lambda d: d <= moment,
            "<": lambda d: d < moment,
            "=": lambda d: d == moment,
        }
        return lambda i: compare[op](getattr(i, attr))
    if name in TEXT_FIELDS:
        if op not in ("~", "!~"):
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        needle = values[0].replace("*", "").lower()
        keys = ("summary", "description") if name == "text" else (name,)
        return lambda i: any(needle in str(i.values.get(k) or "").lower() for k in keys) != negate
    raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _resolve_list(state: SimState, name: str, values: list[str]) -> set[str]:
    out: set[str] = set()
    for value in values:
        if name == "project":
            project = state.projects.get(value.upper()) or next(
                (p for p in state.projects.values() if value in (p.id, p.name)), None
            )
            if project is None:
                raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
            out.add(project.id)
        elif name == "id":
            # Like Jira (validateQuery strict): an id of an issue that does not exist, e.g. one
            # deleted since, fails the whole query rather than being left out.
            if value not in state.issues:
                raise JqlError(f"An issue with key '{value}' does not exist for field 'id'.")
            out.add(value)
        elif name in ("key", "issue", "issuekey"):
            issue = state.find_issue(value)
            if issue is None:
                raise JqlError(f"An issue with key '{value}' does not exist for field '{name}'.")
            out.add(issue.id)
        elif name == "status":
            status = state.status_by_name(value) or state.statuses.get(value)
            if status is None:
                raise JqlError(f"The value '{value}' does not exist for the field 'status'.")
            out.add(status.id)
        elif name in ("issuetype", "type"):
            it = state.issue_type_by_name(value) or state.issue_types.get(value)
            if it is None:
                raise JqlError(f"The value '{value}' does not exist for the field '{name}'.")
            out.add(it.id)
        else:
            out.add(value)
    return out


def _list_getter(state: SimState, name: str) -> Callable[[Issue], set[str]]:
    getters: dict[str, Callable[[Issue], set[str]]] = {
        "project": lambda i: {i.project_id},
        "id": lambda i: {i.id},
        "status": lambda i: {i.status_id},
        "issuetype": lambda i: {i.issue_type_id},
        "type": lambda i: {i.issue_type_id},
        "labels": lambda i: set(i.values.get("labels") or []),
    }
    return getters.get(name, lambda i: {i.id})


def _parse_date(state: SimState, value: str, name: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    relative = RELATIVE.match(value)
    if relative:
        delta = timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
        return state.now() + delta
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' for field '{name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
        "e.g. '-5d', '4w 2d'."
    )


def _property_predicate(clause: Clause) -> Callable[[Issue], bool]:
    match = re.match(r"issue\.property\[([^\]]+)\](?:\.(.+))?$", clause.field)
    assert match is not None
    key, path = match.group(1).strip("'\""), match.group(2)
    if clause.op not in ("=", "!=", "in", "not in"):
        raise JqlError(f"The operator '{clause.op}' is not supported by entity properties.")
    wanted = set(clause.values)
    negate = clause.op in ("!=", "not in")

    def lookup(issue: Issue) -> bool:
        value: Any = issue.properties.get(key)
        for part in (path or "").split(".") if path else []:
            value = value.get(part) if isinstance(value, dict) else None
        return (value is not None and str(value) in wanted) != negate

    return lookup
