"""A parser for CloudWatch composite alarm rules, so the pack reads a rule as CloudWatch evaluates it.

Grammar (CloudWatch ``AlarmRule``)::

    rule     := or
    or       := and ("OR" and)*
    and      := not ("AND" not)*
    not      := "NOT" not | primary
    primary  := "(" rule ")" | "TRUE" | "FALSE"
              | STATE "(" alarm ")"                       STATE: ALARM, OK, INSUFFICIENT_DATA
              | "AT_LEAST" "(" n["%"] "," STATE2 "," "(" alarm ("," alarm)* ")" ")"
    alarm    := "quoted name or ARN" | unquoted-name-or-ARN

:func:`paging_children` folds the constants (``ALARM(x) AND FALSE`` is ``FALSE``) and returns the alarms whose
ALARM state can drive the rule to ALARM: those under an even number of NOTs in ``ALARM(x)`` (or under an odd
number in ``OK(x)``, since ``NOT OK(x)`` holds while x is in ALARM). ``NOT ALARM(x)`` does not page for x.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_TOKEN = re.compile(r'\s*(?:(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<punct>[(),])|(?P<word>[^\s(),"]+))')


class RuleError(ValueError):
    """An alarm rule that does not follow the grammar (CloudWatch refuses it)."""


@dataclass(frozen=True)
class Node:
    op: str                       # const, state, not, and, or, at_least
    value: bool = False           # const
    state: str = ""               # state / at_least (ALARM, OK, INSUFFICIENT_DATA, NOT_ALARM...)
    alarms: tuple[str, ...] = ()  # state (one) / at_least (many)
    children: tuple[Node, ...] = ()


def _tokens(rule: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(rule):
        if not rule[position:].strip():
            break
        match = _TOKEN.match(rule, position)
        if match is None or match.end() == position:
            raise RuleError(f"unexpected text at character {position}")
        kind = match.lastgroup or "word"
        text = match.group(kind)
        tokens.append((kind, text[1:-1].replace('\\"', '"') if kind == "quoted" else text))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, rule: str) -> None:
        self.tokens = _tokens(rule)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (expected is not None and token[1].upper() != expected):
            raise RuleError(f"expected {expected or 'more'} but found {token[1] if token else 'the end'}")
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].upper() == word:
            self.index += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise RuleError(f"unexpected {self.peek()[1]!r} after a complete rule")  # type: ignore[index]  # peek() is not None here: checked just before
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.keyword("OR"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Node("or", children=tuple(parts))

    def and_(self) -> Node:
        parts = [self.not_()]
        while self.keyword("AND"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else Node("and", children=tuple(parts))

    def not_(self) -> Node:
        if self.keyword("NOT"):
            return Node("not", children=(self.not_(),))
        return self.primary()

    def alarm(self) -> str:
        kind, text = self.take()
        if kind not in ("quoted", "word") or not text.strip():
            raise RuleError(f"expected an alarm name but found {text!r}")
        return text.strip()

    def primary(self) -> Node:
        token = self.take()
        kind, text = token
        word = text.upper() if kind == "word" else ""
        if kind == "punct" and text == "(":
            node = self.or_()
            self.take(")")
            return node
        if word in ("TRUE", "FALSE"):
            return Node("const", value=word == "TRUE")
        if word in STATES:
            self.take("(")
            name = self.alarm()
            self.take(")")
            return Node("state", state=word, alarms=(name,))
        if word == "AT_LEAST":
            self.take("(")
            threshold = self.take()[1]
            self.take(",")
            state = self.take()[1].upper()
            if state.removeprefix("NOT_") not in STATES:
                raise RuleError(f"AT_LEAST names no state ({state!r})")
            self.take(",")
            self.take("(")
            names = [self.alarm()]
            while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]  # peek() is not None here: checked just before
                self.take(",")
                names.append(self.alarm())
            self.take(")")
            self.take(")")
            if not re.fullmatch(r"\d+%?", threshold) or int(threshold.rstrip("%")) == 0:
                raise RuleError(f"AT_LEAST threshold {threshold!r} is not a positive count or percentage")
            return Node("at_least", state=state, alarms=tuple(names))
        raise RuleError(f"unexpected {text!r}")


def parse_rule(rule: str) -> Node:
    """The rule's syntax tree; raises :class:`RuleError` for a rule CloudWatch would refuse."""
    if len(rule) > 10240:
        raise RuleError("the rule is longer than CloudWatch's 10240 characters")
    return _Parser(rule).parse()


def fold(node: Node) -> Node:
    """The rule with constants folded away (``x AND FALSE`` -> FALSE, ``x OR TRUE`` -> TRUE, ``NOT TRUE`` -> FALSE)."""
    if node.op == "not":
        inner = fold(node.children[0])
        return Node("const", value=not inner.value) if inner.op == "const" else Node("not", children=(inner,))
    if node.op in ("and", "or"):
        absorbing = node.op == "or"  # TRUE absorbs OR, FALSE absorbs AND
        kept = []
        for child in (fold(c) for c in node.children):
            if child.op == "const":
                if child.value == absorbing:
                    return Node("const", value=absorbing)
                continue  # the neutral constant drops out
            kept.append(child)
        if not kept:
            return Node("const", value=not absorbing)
        return kept[0] if len(kept) == 1 else Node(node.op, children=tuple(kept))
    return node


def paging_children(rule: str) -> set[str]:
    """The alarm names/ARNs whose ALARM state can put the rule into ALARM (empty for a constant rule)."""
    found: set[str] = set()

    def walk(node: Node, positive: bool) -> None:
        if node.op == "not":
            walk(node.children[0], not positive)
        elif node.op in ("and", "or"):
            for child in node.children:
                walk(child, positive)
        elif node.op == "state":
            if (node.state == "ALARM") == positive and node.state != "INSUFFICIENT_DATA":
                found.update(node.alarms)
        elif node.op == "at_least":
            alarm_side = {"ALARM", "NOT_OK", "NOT_INSUFFICIENT_DATA"} if positive else {"OK", "NOT_ALARM"}
            if node.state in alarm_side:
                found.update(node.alarms)

    walk(fold(parse_rule(rule)), True)
    return found
