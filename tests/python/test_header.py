"""include/brs.h against python/gobrs/_lib.py: every function, struct and
callback type the header declares is declared the same way to ctypes.

The header is parsed, not listed here, so a function added to brs.h without
its ctypes declaration (or with another signature) fails this test. A
function the Python package does not call goes in ``NOT_USED_BY_PYTHON``
with the reason.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from gobrs import _lib

REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "include" / "brs.h"

#: brs.h functions that python/gobrs does not declare to ctypes, and why.
NOT_USED_BY_PYTHON: Dict[str, str] = {}

#: Exports the Python package declares that brs.h does not: private to the
#: binding, with the reason.
PRIVATE_TO_PYTHON: Dict[str, str] = {
    "brs_close_all": "the bounded close of every session at interpreter exit (capi/shim.c)",
}

_SCALARS: Dict[str, Any] = {
    "int": ctypes.c_int,
    "unsigned int": ctypes.c_uint,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "size_t": ctypes.c_size_t,
    "uintptr_t": ctypes.c_size_t,
    "double": ctypes.c_double,
}


@dataclass
class Header:
    """What brs.h declares: functions, typedefs, structs, function types."""

    functions: Dict[str, Tuple[str, List[str]]]
    typedefs: Dict[str, str]
    structs: Dict[str, Optional[List[Tuple[str, str]]]]  # None: opaque
    fntypes: Dict[str, Tuple[str, List[str]]]


def _params(text: str) -> List[str]:
    """The types of a parameter list, names dropped."""

    text = text.strip()
    if text in ("", "void"):
        return []
    types = []
    for param in text.split(","):
        m = re.fullmatch(r"(.*?[\s*])([A-Za-z_]\w*)", param.strip())
        assert m, f"cannot read the parameter {param!r} of brs.h"
        types.append(m.group(1).strip())
    return types


def parse_header(path: Path = HEADER) -> Header:
    text = path.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#[^\n]*(\\\n[^\n]*)*", " ", text, flags=re.M)  # preprocessor lines
    text = re.sub(r'extern\s+"C"\s*\{|^\s*\}\s*$', " ", text, flags=re.M)
    text = re.sub(r"\bBRS_[A-Z_]*API\b|\bextern\b", " ", text)  # visibility macros
    text = re.sub(r"\s+", " ", text)

    structs: Dict[str, Optional[List[Tuple[str, str]]]] = {}
    typedefs: Dict[str, str] = {}

    def struct(m: "re.Match[str]") -> str:
        fields = []
        for decl in m.group(2).split(";"):
            decl = decl.strip()
            if decl:
                fm = re.fullmatch(r"(.*?[\s*])([A-Za-z_]\w*)", decl)
                assert fm, f"cannot read the field {decl!r} of struct {m.group(1)}"
                fields.append((fm.group(2), fm.group(1).strip()))
        structs[m.group(1)] = fields
        return f" struct {m.group(1)} "

    text = re.sub(r"struct (\w+) \{(.*?)\}", struct, text)
    fntypes: Dict[str, Tuple[str, List[str]]] = {}
    for m in re.finditer(r"typedef ([^;()]*?) ?\( ?\* ?(\w+) ?\) ?\(([^;]*?)\) ?;", text):
        fntypes[m.group(2)] = (m.group(1).strip(), _params(m.group(3)))
    for m in re.finditer(r"typedef ([^;()]*?) (\w+) ?;", text):
        target = m.group(1).strip()
        typedefs[m.group(2)] = target
        sm = re.fullmatch(r"struct (\w+)", target)
        if sm and sm.group(1) not in structs:
            structs[sm.group(1)] = None
    body = re.sub(r"typedef [^;]*;", " ", text)
    body = re.sub(r"struct \w+ ;", " ", body)
    functions: Dict[str, Tuple[str, List[str]]] = {}
    for m in re.finditer(r"([A-Za-z_][\w *]*?) ?\b(brs_\w+) ?\(([^;()]*)\) ?;", body):
        functions[m.group(2)] = (m.group(1).strip(), _params(m.group(3)))
    return Header(functions=functions, typedefs=typedefs, structs=structs, fntypes=fntypes)


def _norm(ctype: str) -> str:
    ctype = re.sub(r"\bconst\b", " ", ctype)
    ctype = re.sub(r"\s*\*", " *", ctype)
    return re.sub(r"\s+", " ", ctype).strip()


class Checker:
    """Checks a ctypes declaration against a C type spelled in brs.h."""

    def __init__(self, header: Header) -> None:
        self.h = header
        self.structs_seen: Dict[str, Any] = {}

    def resolve(self, ctype: str) -> str:
        ctype = _norm(ctype)
        while ctype in self.h.typedefs:
            ctype = _norm(self.h.typedefs[ctype])
        base, stars = ctype.rstrip(" *"), ctype.count("*")
        if stars and base in self.h.typedefs:
            return self.resolve(self.h.typedefs[base]) + " *" * stars
        return ctype

    def check(self, ctype: str, decl: Any, where: str) -> None:
        c = self.resolve(ctype)
        if c == "void":
            assert decl is None, f"{where}: brs.h says void, ctypes says {decl!r}"
            return
        if c in _SCALARS:
            assert decl is _SCALARS[c] or (
                isinstance(decl, type)
                and issubclass(decl, ctypes._SimpleCData)
                and ctypes.sizeof(decl) == ctypes.sizeof(_SCALARS[c])
                and decl._type_ == _SCALARS[c]._type_
            ), f"{where}: brs.h says {ctype}, ctypes says {decl!r}"
            return
        if c in self.h.fntypes:
            self.check_function(self.h.fntypes[c], decl, where, callback=True)
            return
        assert c.endswith("*"), f"{where}: no ctypes rule for the C type {ctype!r}"
        pointee = c[:-1].strip()
        if decl is ctypes.c_void_p:
            return  # any data pointer may be passed opaquely
        if pointee == "char":
            assert decl is ctypes.c_char_p, f"{where}: brs.h says {ctype}, ctypes says {decl!r}"
            return
        assert isinstance(decl, type) and issubclass(decl, ctypes._Pointer), (
            f"{where}: brs.h says {ctype}, ctypes says {decl!r}"
        )
        target = decl._type_
        sm = re.fullmatch(r"struct (\w+)", pointee)
        if sm:
            fields = self.h.structs.get(sm.group(1))
            assert fields is not None, f"{where}: struct {sm.group(1)} is opaque in brs.h: use c_void_p"
            self.check_struct(sm.group(1), fields, target, where)
            return
        self.check(pointee, target, where + " (pointee)")

    def check_struct(self, name: str, fields: List[Tuple[str, str]], decl: Any, where: str) -> None:
        assert isinstance(decl, type) and issubclass(decl, ctypes.Structure), (
            f"{where}: struct {name} must be a ctypes.Structure, not {decl!r}"
        )
        self.structs_seen[name] = decl
        declared = list(decl._fields_)
        assert [f[0] for f in declared] == [f[0] for f in fields], (
            f"{where}: struct {name} fields: brs.h {[f[0] for f in fields]}, ctypes {[f[0] for f in declared]}"
        )
        for (fname, ftype), (_n, fdecl) in zip(fields, declared, strict=True):
            self.check(ftype, fdecl, f"{where}: struct {name}.{fname}")

    def check_function(self, sig: Tuple[str, List[str]], decl: Any, where: str, callback: bool = False) -> None:
        ret, params = sig
        if callback:
            assert isinstance(decl, type) and issubclass(decl, ctypes._CFuncPtr), (
                f"{where}: brs.h says a function pointer, ctypes says {decl!r}"
            )
            restype, argtypes = decl._restype_, list(decl._argtypes_)
        else:
            restype, argtypes = decl.restype, list(decl.argtypes)
        self.check(ret, restype, f"{where} result")
        assert len(argtypes) == len(params), f"{where}: brs.h has {len(params)} parameters, ctypes {len(argtypes)}"
        for i, (ptype, adecl) in enumerate(zip(params, argtypes, strict=True)):
            self.check(ptype, adecl, f"{where} parameter {i + 1}")


class _Recorder:
    """Stands in for the CDLL: records what _lib._declare sets."""

    def __init__(self) -> None:
        self.fns: Dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.fns.setdefault(name, type(name, (), {"restype": ctypes.c_int, "argtypes": None})())


def declared() -> Dict[str, Any]:
    rec = _Recorder()
    _lib._declare(rec)  # type: ignore[arg-type]
    return rec.fns


def test_the_header_parses() -> None:
    h = parse_header()
    # a few names the parser must find, whatever else brs.h holds
    assert {"brs_version", "brs_new_session", "brs_credentials", "brs_close_session", "brs_error_clear"} <= set(
        h.functions
    )
    assert h.functions["brs_version"] == ("const char *", [])
    assert h.structs["brs_credentials"] and h.structs["brs_error"]
    assert h.structs["brs_result"] is None  # opaque
    assert "brs_callback" in h.fntypes


def test_every_function_in_brs_h_is_declared_to_ctypes_with_its_signature() -> None:
    h = parse_header()
    fns = declared()
    missing = sorted(set(h.functions) - set(fns) - set(NOT_USED_BY_PYTHON))
    assert not missing, f"declared in brs.h, not in _lib._declare (or NOT_USED_BY_PYTHON): {missing}"
    extra = sorted(set(fns) - set(h.functions) - set(PRIVATE_TO_PYTHON))
    assert not extra, f"declared to ctypes, not in brs.h: {extra}"
    stale = sorted(set(NOT_USED_BY_PYTHON) & set(fns))
    assert not stale, f"listed as unused but declared: {stale}"
    checker = Checker(h)
    for name, fn in sorted(fns.items()):
        if name in PRIVATE_TO_PYTHON:
            continue
        assert fn.argtypes is not None, f"{name}: argtypes not set"
        checker.check_function(h.functions[name], fn, name)
    # the structs the Python package reads are all checked field by field
    assert {"brs_credentials", "brs_error"} <= set(checker.structs_seen)
    assert checker.structs_seen["brs_credentials"] is _lib.BrsCredentials
    assert checker.structs_seen["brs_error"] is _lib.BrsError


@pytest.mark.parametrize(
    "header, fault",
    [
        ("int brs_close_session(brs_session session, int extra);", "2 parameters"),
        ("int brs_close_session(int session);", "brs_close_session parameter 1"),
        ("void brs_close_session(brs_session session);", "brs_close_session result"),
        ("int brs_new_function(void);", "not in _lib._declare"),
    ],
)
def test_a_mismatch_is_caught(tmp_path: Path, header: str, fault: str) -> None:
    text = HEADER.read_text()
    if "brs_new_function" in header:
        text = text.replace("#endif /* BRS_H */", header + "\n#endif /* BRS_H */")
    else:
        text = re.sub(r"int brs_close_session\([^)]*\);", lambda _m: header, text)
    bad = tmp_path / "brs.h"
    bad.write_text(text)
    h = parse_header(bad)
    with pytest.raises(AssertionError, match=fault):
        fns = declared()
        missing = sorted(set(h.functions) - set(fns) - set(NOT_USED_BY_PYTHON))
        assert not missing, f"declared in brs.h, not in _lib._declare (or NOT_USED_BY_PYTHON): {missing}"
        Checker(h).check_function(h.functions["brs_close_session"], fns["brs_close_session"], "brs_close_session")
