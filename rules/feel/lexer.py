"""FEEL tokenizer: turns text into a flat list of tokens for the parser.

Names may contain spaces in FEEL ("Monthly Salary"); the tokenizer yields one token per word and
the parser joins adjacent name tokens, because only the parser knows where a name may stand.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.feel.errors import FeelSyntaxError

MAX_EXPRESSION_LENGTH = 10_000

KEYWORDS = frozenset(
    {
        "and", "or", "if", "then", "else", "for", "in", "return", "some", "every", "satisfies",
        "between", "instance", "of", "function", "external", "true", "false", "null",
    }
)  # fmt: skip

# Longest first, so "**" wins over "*" and "<=" over "<".
OPERATORS = ("..", "**", "<=", ">=", "!=", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}",
             ",", ":", ".", "@")  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "string", "name", "keyword", "op", "end"
    value: str
    position: int


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char in "_?"


def _is_name_part(char: str) -> bool:
    return char.isalnum() or char in "_?'"


def tokenize(text: str, names: tuple[str, ...] = ()) -> list[Token]:
    """Split FEEL text into tokens. Raises FeelSyntaxError on characters FEEL does not allow.

    ``names`` are names the model declares that hold spaces, hyphens or keywords ("Pre-bureau
    risk", "Date and Time"); where one appears it becomes a single name token, longest first.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise FeelSyntaxError(f"expression is longer than {MAX_EXPRESSION_LENGTH:,} characters")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise FeelSyntaxError("unclosed comment", i)
            i = end + 2
            continue
        if char.isdigit() or (char == "." and i + 1 < n and text[i + 1].isdigit()):
            start = i
            while i < n and text[i].isdigit():
                i += 1
            # "1..5" is a range, not the number "1." followed by ".5"
            if i < n and text[i] == "." and not text.startswith("..", i):
                i += 1
                while i < n and text[i].isdigit():
                    i += 1
            if i < n and text[i] in "eE":
                j = i + 1
                if j < n and text[j] in "+-":
                    j += 1
                if j < n and text[j].isdigit():
                    i = j
                    while i < n and text[i].isdigit():
                        i += 1
            tokens.append(Token("number", text[start:i], start))
            continue
        if char == '"':
            start = i
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise FeelSyntaxError("unclosed string", start)
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n:
                    nxt = text[i + 1]
                    simple = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}
                    if nxt in simple:
                        chars.append(simple[nxt])
                        i += 2
                        continue
                    if nxt == "u" and i + 6 <= n:
                        chars.append(chr(int(text[i + 2 : i + 6], 16)))
                        i += 6
                        continue
                    if nxt == "U" and i + 8 <= n:
                        chars.append(chr(int(text[i + 2 : i + 8], 16)))
                        i += 8
                        continue
                chars.append(c)
                i += 1
            tokens.append(Token("string", "".join(chars), start))
            continue
        known = _known_name_at(text, i, names) if names else None
        if known:
            tokens.append(Token("name", known, i))
            i += len(known)
            continue
        if _is_name_start(char):
            start = i
            while i < n and _is_name_part(text[i]):
                i += 1
            word = text[start:i]
            tokens.append(Token("keyword" if word in KEYWORDS else "name", word, start))
            continue
        for op in OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise FeelSyntaxError(f"unexpected character {char!r}", i)
    tokens.append(Token("end", "", n))
    return tokens


def _known_name_at(text: str, i: int, names: tuple[str, ...]) -> str | None:
    if i > 0 and _is_name_part(text[i - 1]):
        return None
    for name in names:  # longest first
        if text.startswith(name, i):
            end = i + len(name)
            if end >= len(text) or not _is_name_part(text[end]):
                return name
    return None


def special_names(names) -> tuple[str, ...]:
    """Of the given names, those the plain tokenizer would split, longest first."""
    special = {
        name.strip()
        for name in names
        if name
        and name.strip()
        and (not all(_is_name_part(c) for c in name.strip()) or name.strip() in KEYWORDS)
    }
    return tuple(sorted(special, key=len, reverse=True))
