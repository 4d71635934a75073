"""Column mapping: which header of an uploaded file feeds which field of the import kind.

:func:`propose` suggests a mapping for a file's headers: a saved mapping for the same
source first, then the field's own key, its Chinese name and its known aliases (Chinese
and English, e.g. ``invoice_no``, ``发票号码``, ``order_no``, ``date``, ``开票日期``),
then fuzzy matches (:mod:`difflib`, ratio at least :data:`FUZZY_MIN`) for the rest. The RM
confirms or edits it; :func:`resolve` turns a confirmed mapping into column positions and
lists the headers that feed no field, so nothing is dropped without a word.

A mapping is ``{header: field key}``; an empty key means "deliberately not imported".
Saved mappings (:func:`save`, :func:`saved`) are kept per cluster, source and kind.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session
from sqlmodel import col as sql_col

from trellis import safejson
from trellis.clock import utcnow
from trellis.errors import ValidationError
from trellis.messages import N_, msg
from trellis.onboarding.kinds import KINDS, Kind
from trellis.onboarding.models import ImportMapping

FUZZY_MIN = 0.75  # difflib ratio of normalised names for a fuzzy proposal


def norm(name: str) -> str:
    """A header without case, spaces, underscores, hyphens, dots or brackets."""
    return re.sub(r"[\s_\-.（）()\[\]【】:：/]", "", str(name)).lower()


def _names(kind: Kind) -> dict[str, str]:
    names: dict[str, str] = {}
    for col in kind.columns:
        for name in (col.key, col.zh, *col.aliases):
            if name:
                names.setdefault(norm(name), col.key)
    return names


@dataclass
class Proposal:
    """A proposed mapping: ``fields`` header -> key (or ""), ``how`` header -> saved,
    exact, alias, fuzzy or none; ``missing`` required keys no header feeds."""

    kind: str
    header: list[str]
    fields: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def unmapped(self) -> list[str]:
        """The file's column headers no field is mapped to."""
        return [h for h in self.header if h and not self.fields.get(h)]

    def to_dict(self) -> dict:
        """The proposal as JSON data (kind, mapping, how each was found, missing and unmapped)."""
        return {"kind": self.kind, "mapping": dict(self.fields), "how": dict(self.how),
                "missing": list(self.missing), "unmapped": self.unmapped}


def propose(kind_name: str, header: list[str], saved_mapping: dict | None = None
            ) -> Proposal:
    """Suggest a mapping of *header* to *kind_name*'s fields (see the module docstring)."""
    kind = KINDS[kind_name]
    names = _names(kind)
    keys = {c.key for c in kind.columns}
    out = Proposal(kind_name, list(header))
    taken: set[str] = set()
    saved_mapping = saved_mapping or {}
    pending = []
    for h in header:
        if not h:
            continue
        if h in saved_mapping and (saved_mapping[h] in keys or saved_mapping[h] == ""):
            out.fields[h], out.how[h] = saved_mapping[h], "saved"
            taken.add(saved_mapping[h])
            continue
        key = names.get(norm(h))
        if key and key not in taken:
            exact = norm(h) in (norm(kind.column(key).key), norm(kind.column(key).zh))
            out.fields[h], out.how[h] = key, "exact" if exact else "alias"
            taken.add(key)
        else:
            pending.append(h)
    for h in pending:
        best, score = "", 0.0
        for name, key in names.items():
            if key in taken:
                continue
            ratio = difflib.SequenceMatcher(None, norm(h), name).ratio()
            if ratio > score:
                best, score = key, ratio
        if best and score >= FUZZY_MIN:
            out.fields[h], out.how[h] = best, "fuzzy"
            taken.add(best)
        else:
            out.fields[h], out.how[h] = "", "none"
    out.missing = [c.key for c in kind.columns if c.required and c.key not in taken]
    return out


def resolve(kind_name: str, header: list[str], mapping: dict[str, str],
            optional: tuple[str, ...] = ()) -> tuple[dict[str, int], list[str], list[tuple]]:
    """Positions of the kind's fields in *header* under *mapping*.

    Returns ``(key -> column index, unmapped headers, problems)``; problems are
    ``(field key, message)``: a mapping to an unknown field, a field fed by two headers,
    a missing required field (*optional* keys are not required: e.g. the seller column of
    a vendor's own upload).
    """
    kind = KINDS[kind_name]
    keys = {c.key for c in kind.columns}
    positions: dict[str, int] = {}
    problems, unmapped = [], []
    for i, h in enumerate(header):
        if not h:
            continue
        key = mapping.get(h, "")
        if not key:
            unmapped.append(h)
            continue
        if key not in keys:
            problems.append(("", msg(N_("column '%(header)s' is mapped to '%(key)s', which is "
                                        "not a field of this file: use one of %(keys)s"),
                                     header=h, key=key, keys=sorted(keys))))
        elif key in positions:
            problems.append((key, msg(N_("columns '%(first)s' and '%(second)s' both feed "
                                         "%(key)s"), first=header[positions[key]], second=h,
                                      key=key)))
        else:
            positions[key] = i
    for col in kind.columns:
        if col.required and col.key not in positions and col.key not in optional:
            problems.append((col.key, msg(N_("missing required column %(column)s"),
                                          column={"en": col.key, "zh": col.zh or col.key})))
    return positions, unmapped, problems


def load_file(text: str) -> dict[str, str]:
    """A mapping from a JSON file: ``{"header": "field"}`` or ``{"mapping": {...}}``."""
    try:
        data = safejson.loads(text)
    except ValueError as exc:
        raise ValidationError(msg(N_("The mapping file is not valid JSON."),
                                  detail=str(exc)), field="mapping",
                              zh="映射文件不是有效的 JSON。") from None
    if isinstance(data, dict) and isinstance(data.get("mapping"), dict):
        data = data["mapping"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str | None)
                                             for k, v in data.items()):
        raise ValidationError(N_('The mapping file must be a JSON object {"header": "field"}.'),
                              field="mapping", zh='映射文件须为 JSON 对象 {"表头": "字段"}。')
    return {k: v or "" for k, v in data.items()}


def saved(*, session: Session, cluster_id: int, source: str, kind: str) -> dict | None:
    """The column mapping saved for files of *source* and *kind* in the cluster, or None."""
    row = session.execute(select(ImportMapping).where(
        sql_col(ImportMapping.cluster_id) == cluster_id, sql_col(ImportMapping.source) == source,
        sql_col(ImportMapping.kind) == kind)).scalar_one_or_none()
    return None if row is None else dict(row.mapping)


def save(*, session: Session, cluster_id: int, source: str, kind: str, mapping: dict,
         user_id: int | None = None) -> ImportMapping:
    """Keep *mapping* for the next file of *kind* from *source*. Flushes."""
    source = (source or "").strip()
    if not source or len(source) > 120:
        raise ValidationError(N_("Name the source of the file (at most 120 characters)."),
                              field="source", zh="请填写文件来源（最多120个字符）。")
    if kind not in KINDS:
        raise ValidationError(msg(N_("Unknown kind %(kind)s."), kind=kind), field="kind",
                              zh=f"未知的数据类型 {kind!r}。")
    keys = {c.key for c in KINDS[kind].columns}
    bad = sorted({v for v in mapping.values() if v and v not in keys})
    if bad:
        raise ValidationError(msg(N_("Not fields of %(kind)s: %(fields)s."),
                                  kind=kind, fields=list(bad)), field="mapping",
                              zh=f"不是{kind}的字段：{'、'.join(bad)}。")
    row = session.execute(select(ImportMapping).where(
        sql_col(ImportMapping.cluster_id) == cluster_id, sql_col(ImportMapping.source) == source,
        sql_col(ImportMapping.kind) == kind)).scalar_one_or_none()
    if row is None:
        row = ImportMapping(cluster_id=cluster_id, source=source, kind=kind)
    row.mapping, row.updated_by_id, row.updated_at = dict(mapping), user_id, utcnow()
    session.add(row)
    session.flush()
    return row
