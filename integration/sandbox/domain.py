"""Tryton domain evaluation, e.g. `[["state", "=", "draft"], ["OR", [...], [...]]]`.

Every operator in the reference: = != < <= > >= in, not in, like, not like, ilike, not ilike,
child_of, not child_of, parent_of, not parent_of, where, not where. Dotted paths follow relations;
through a to-many relation a clause holds when it holds for any related record (Tryton's rule).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from integration.sandbox.errors import SandboxBadRequest

if TYPE_CHECKING:
    from integration.sandbox.store import Env

OPERATORS = {
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "child_of",
    "not child_of",
    "parent_of",
    "not parent_of",
    "where",
    "not where",
}


def is_clause(item: Any) -> bool:
    return (
        isinstance(item, list)
        and len(item) >= 3
        and isinstance(item[0], str)
        and item[0] not in ("OR", "AND")
    )


def matches(env: Env, model: str, record: dict, domain: list) -> bool:
    if not domain:
        return True
    mode = "AND"
    items = domain
    if isinstance(domain[0], str) and domain[0] in ("OR", "AND"):
        mode, items = domain[0], domain[1:]
    elif is_clause(domain):
        return _clause(env, model, record, domain)
    results = (_item(env, model, record, item) for item in items)
    return any(results) if mode == "OR" else all(results)


def _item(env: Env, model: str, record: dict, item: Any) -> bool:
    if is_clause(item):
        return _clause(env, model, record, item)
    if isinstance(item, list):
        return matches(env, model, record, item)
    raise SandboxBadRequest(f"Invalid domain element {item!r}")


def _like_regex(pattern: str, *, insensitive: bool) -> re.Pattern:
    out = []
    for ch in str(pattern):
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL if insensitive else re.DOTALL)


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def compare(value: Any, operator: str, target: Any) -> bool:
    if isinstance(value, list):  # to-many: any related value
        if operator in ("!=", "not in", "not like", "not ilike"):
            return not any(compare(v, _positive(operator), target) for v in value)
        return any(compare(v, operator, target) for v in value)
    value, target = (
        _norm(value),
        _norm(target) if not isinstance(target, list) else [_norm(t) for t in target],
    )
    if operator == "=":
        return value == target or ((target is None or target is False) and value in (None, False, ""))
    if operator == "!=":
        return not compare(value, "=", target)
    if operator == "in":
        return value in (target or [])
    if operator == "not in":
        return value not in (target or [])
    if operator in ("like", "ilike", "not like", "not ilike"):
        if value is None:
            return operator.startswith("not")
        hit = bool(_like_regex(target, insensitive="ilike" in operator).match(str(value)))
        return not hit if operator.startswith("not") else hit
    if value is None or target is None:
        return False
    try:
        if operator == "<":
            return value < target
        if operator == "<=":
            return value <= target
        if operator == ">":
            return value > target
        if operator == ">=":
            return value >= target
    except TypeError as exc:
        raise SandboxBadRequest(f"Cannot compare {value!r} with {target!r}") from exc
    raise SandboxBadRequest(f"Unknown operator {operator!r}")


def _positive(operator: str) -> str:
    return {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}[operator]


def _clause(env: Env, model: str, record: dict, clause: list) -> bool:
    path, operator, target = clause[0], clause[1], clause[2]
    if operator not in OPERATORS:
        raise SandboxBadRequest(f"Unknown operator {operator!r}")
    if operator in ("child_of", "not child_of", "parent_of", "not parent_of"):
        return _hierarchy(env, model, record, clause)
    if operator in ("where", "not where"):
        related_model, ids = env.related(model, record, path)
        hit = any(matches(env, related_model, env.get(related_model, i), target) for i in ids)
        return hit if operator == "where" else not hit
    value = env.path_value(model, record, path)
    return compare(value, operator, target)


def _hierarchy(env: Env, model: str, record: dict, clause: list) -> bool:
    path, operator, target = clause[0], clause[1], clause[2]
    parent_field = clause[3] if len(clause) > 3 else "parent"
    roots = target if isinstance(target, list) else [target]
    if path == "id":
        related_model, ids = model, [record["id"]]
    else:
        related_model, ids = env.related(model, record, path)
    if operator.endswith("child_of"):
        allowed = env.descendants(related_model, roots, parent_field)
    else:
        allowed = env.ancestors(related_model, roots, parent_field)
    hit = any(i in allowed for i in ids)
    return not hit if operator.startswith("not") else hit
