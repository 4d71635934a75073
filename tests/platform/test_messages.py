"""Core messages in the reader's language: every error class and every template a core
marks with ``N_`` renders in Chinese with no English left and no amount in fen, and in
English; money in yuan, dates as dates.

The templates are found the way a translator finds them, by Babel's extractor over the
source with the ``N_`` keyword (babel.cfg), so a new template without a Chinese entry fails.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from flask import Flask
from flask_babel import Babel, force_locale

import trellis
from trellis.errors import TrellisError, ValidationError
from trellis.messages import N_, Message, Money, Percent, msg, texts
from trellis.platform import i18n

ROOT = Path(trellis.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
# Words that stay in Latin letters on a Chinese page: codes, hashes, units, names.
ALLOWED = {"SHA", "sha256", "USCC", "rpc", "URL", "CSV", "XLSX", "Trellis",
           "PSI",   # population stability index, a standard measure (as in the reader walk)
           "LPR",   # the loan prime rate, as Chinese banks write it
           "AUC",   # a scorecard's area under the curve, as the scoring pages write it
           "JSON", "UTF", "GBK", "xlsx", "xls", "Excel", "PDF",  # file formats
           "anvil", "Sepolia", "Holesky"}  # chains' names (trellis.chain.scope.CHAIN_NAMES)
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture(scope="module")
def app():
    i18n.compile_catalogs()
    app = Flask(__name__)
    app.config.update(BABEL_DEFAULT_LOCALE="zh_CN")
    Babel(app, default_translation_directories=";".join(str(p) for p in
                                                        i18n.translation_dirs()))
    return app


def _templates() -> list[str]:
    found = extract_from_dir(str(ROOT), method_map=[("**.py", "python")],
                             keywords={"N_": None})
    return sorted({message for _file, _line, message, _comments, _ctx in found})


def _sample(name: str):
    if name in {"eligible", "minimum", "requested", "limit", "available", "owed",
                "amount", "total", "part"}:
        return Money(61_044_300)
    if name in {"apr", "cap", "rate"}:
        return Percent("0.2958")
    if name == "day":
        return date(2026, 12, 13)
    if name in {"problem", "why", "first", "what", "flag"}:
        return Message(N_("required value missing"))
    if name in {"column"}:
        return {"en": "founded_on", "zh": "成立日期"}
    if name in {"fields"}:
        return [{"en": "amount", "zh": "金额"}]
    if name in {"parts"}:
        return [3, 4]
    if name in {"digest", "hash", "claimed", "reached", "root", "expected", "address"}:
        return "0x5f1c"
    return 7


def _foreign_words(text: str) -> list[str]:
    return [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED]


def _core_trees() -> list[tuple[str, str, ast.Module]]:
    """(path, module, syntax tree) of every core module: trellis/ but the web layer and
    the migrations."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        if rel.parts[1] in {"platform", "migrations"}:
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        out.append((str(rel), module, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _error_modules() -> set[str]:
    """The core modules that define a subclass of TrellisError, found by following class
    bases through the sources (so a class outside an ``errors`` module is not missed)."""
    trees = _core_trees()
    names, modules, grew = {"TrellisError"}, set(), True
    while grew:
        grew = False
        for _rel, module, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        (b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")) in names
                        for b in node.bases):
                    names.add(node.name)
                    modules.add(module)
                    grew = True
    return modules


def _all_error_classes() -> list[type]:
    for mod in pkgutil.walk_packages([str(ROOT)], "trellis."):
        if mod.name.endswith(".errors") or mod.name.rsplit(".", 1)[-1] in {"rpc", "payouts"}:
            importlib.import_module(mod.name)
    for module in sorted(_error_modules()):
        importlib.import_module(module)
    seen, todo = [], [TrellisError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def _instance(cls):
    """An instance of *cls*, filling required arguments a class adds with samples."""
    import inspect

    kwargs = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "message", "template") or p.default is not inspect.Parameter.empty:
            continue
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            kwargs[name] = (0 if name.endswith("_fen") else
                            [] if name in ("errors", "problems", "subjects") else "x")
    try:
        return cls(**kwargs)
    except TypeError:
        return cls(TrellisError.template, **kwargs)


def test_templates_are_found():
    templates = _templates()
    assert "You can borrow at most %(eligible)s against these documents." in templates
    assert len(templates) > 50


@pytest.mark.parametrize("template", _templates())
def test_every_template_renders_in_chinese_and_english(app, template):
    params = {name: _sample(name) for name in PLACEHOLDER.findall(template)}
    with app.test_request_context(), force_locale("zh_CN"):
        zh = i18n.render(Message(template, params))
    with app.test_request_context(), force_locale("en"):
        en = i18n.render(Message(template, params))
    assert zh != template, f"no Chinese entry for {template!r}"
    assert not _foreign_words(zh), (template, zh)
    assert "fen" not in zh and "61044300" not in zh and "61,044,300" not in zh, zh
    assert "fen" not in en.replace("fenc", "") or "fen" in template, en
    if "61044300" in str(params):
        assert "¥610,443.00" in zh and "¥610,443.00" in en


def test_every_error_class_renders_in_both_languages(app):
    classes = _all_error_classes()
    assert len(classes) > 40
    for cls in classes:
        exc = _instance(cls)
        assert str(exc), cls
        with app.test_request_context(), force_locale("zh_CN"):
            zh = i18n.error_text(exc)
        with app.test_request_context(), force_locale("en"):
            en = i18n.error_text(exc)
        assert zh and not _foreign_words(zh), (cls, zh)
        assert en == str(exc), cls


#: core files whose errors may keep English text: never shown on a page, in a flash, an
#: API body or a job's outcome (each says why)
ENGLISH_ALLOWED = {
    # start-up settings: read while the app is built, before it serves any request; the
    # command line (or the service manager's log) shows them to the administrator
    "trellis/config.py",
}


def _is_text(node) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    return False


def test_core_errors_are_raised_with_templates():
    """Every core error is raised with a template (``N_``/``msg``) and parameters, never an
    English string or f-string the catalogue cannot know (issue 15): the templates are then
    extracted and rendered above."""
    names = {cls.__name__ for cls in _all_error_classes()}
    assert {"CanonicalFormError", "DeliveryFailed", "IllegalTransition", "CellError"} \
        - names == {"CellError"}   # a cell's problem is a message, not a TrellisError
    english = []
    for rel, _module, tree in _core_trees():
        if rel in ENGLISH_ALLOWED:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            args = node.exc.args
            if (name in names or name in {"CellError", "error", "exc"}) and args \
                    and _is_text(args[0]):
                english.append(f"{rel}:{node.lineno}")
    assert not english, english


def test_every_core_message_gets_its_parameters():
    """``msg(N_(template), **params)`` in the cores names every placeholder of its template:
    a missing one fails when the error is raised (str() of the message), a 500 instead of
    the message."""
    missing = []
    for rel, _module, tree in _core_trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "msg"
                    and node.args and isinstance(node.args[0], ast.Call)
                    and getattr(node.args[0].func, "id", "") == "N_"):
                continue
            template = node.args[0].args[0]
            if any(k.arg is None for k in node.keywords) or not isinstance(template,
                                                                            ast.Constant):
                continue
            wanted = set(re.findall(r"%\((\w+)\)[sdif]", template.value))
            given = {k.arg for k in node.keywords}
            if wanted - given:
                missing.append(f"{rel}:{node.lineno} {sorted(wanted - given)}")
    assert not missing, missing


def test_the_scan_finds_an_english_raise():
    """The scan above finds what it looks for (so it cannot pass by matching nothing)."""
    tree = ast.parse('raise NotFound(f"Loan {loan_id} does not exist.")')
    raised = next(n for n in ast.walk(tree) if isinstance(n, ast.Raise))
    assert _is_text(raised.exc.args[0])
    tree = ast.parse('raise NotFound(msg(N_("Loan %(loan_id)s does not exist."), loan_id=1))')
    raised = next(n for n in ast.walk(tree) if isinstance(n, ast.Raise))
    assert not _is_text(raised.exc.args[0])


def test_a_core_error_reaches_the_page_in_yuan(app):
    exc = ValidationError(N_("You can borrow at most %(eligible)s against these documents."),
                          params={"eligible": Money(61_044_300)}, field="amount_fen")
    assert str(exc) == "You can borrow at most ¥610,443.00 against these documents."
    with app.test_request_context(), force_locale("zh_CN"):
        assert i18n.error_text(exc) == "凭这些单据最多可借 ¥610,443.00。"


def test_stored_messages_round_trip_and_read_old_strings(app):
    stored = msg(N_("due date is before the issue date %(day)s"),
                 day=date(2026, 6, 12)).dumps()
    assert Message.loads(stored).params["day"] == date(2026, 6, 12)
    assert texts([stored, "Buyer disputes the goods.", {"en": "Flag", "zh": "警示"}]) == [
        "due date is before the issue date 2026-06-12", "Buyer disputes the goods.", "Flag"]
    nested = msg(N_("No offer: %(why)s"), why=msg(N_("not a number")))
    back = Message.from_json(nested.to_json())
    assert back == nested
    with app.test_request_context(), force_locale("zh_CN"):
        assert i18n.render(stored) == "到期日早于开票日 2026-06-12"
        assert i18n.render(back.to_json()) == "无法报价：不是数字"
        assert i18n.render({"en": "Flag", "zh": "警示"}) == "警示"
        assert i18n.render(Message(N_("%(apr)s"), {"apr": Percent(Decimal("0.12"))})) \
            == "12.00%"


@pytest.mark.parametrize("locale", ["zh_CN", "en", "de_DE"])
def test_ids_are_never_grouped_like_money(app, locale):
    """Outside reader 7: a Chinese message showed the chain id as 31,337. An id (a
    record's, a chain's, a block number) is its digits in every locale; a count keeps the
    locale's grouping. Every template of the cores with an id parameter is checked."""
    from trellis.chain.errors import ChainMisconfigured
    from trellis.messages import Ident, is_ident_name, render

    refused = ChainMisconfigured(msg(N_("the node is on chain %(chain_id)s, not %(setting)s="
                                        "%(expected_chain_id)s: anchoring is stopped"),
                                     chain_id=31337, setting="TRELLIS_CHAIN_ID",
                                     expected_chain_id=1_000_001))
    with app.test_request_context(), force_locale(locale):
        text = i18n.error_text(refused)
        assert "31337" in text and "1000001" in text, text
        assert "31,337" not in text and "31.337" not in text, text
    for template in _templates():
        names = set(PLACEHOLDER.findall(template))
        ids = {n for n in names if is_ident_name(n)}
        if not ids:
            continue
        params = {n: 123456789 for n in names}
        shown = render(Message(template, params), locale=locale)
        assert shown.count("123456789") >= len(ids), (template, shown)
    assert render(msg("%(v)s", v=Ident(4_500_001)), locale=locale) == "4500001"
    assert render(msg("%(loan_ids)s", loan_ids=[12345, 23456]), locale="en") == "12345, 23456"
    counted = render(msg("%(n)s rows", n=12345), locale=locale)
    assert "12345" not in counted, counted   # a count is still grouped for the locale
    assert Message.from_json(msg("%(v)s", v=Ident(7)).to_json()).params["v"] == Ident(7)
