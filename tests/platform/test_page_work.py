"""The work a page does per row stays small (issue 15: the loan book answered 66 requests/s,
the queue and the vendor's list about 108, bound by the templates): the words of a list's
headers, labels and badges are looked up once per catalogue, not once per row; a page
reads whom the person may see once; and the fast paths give exactly what Babel and Jinja
give."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from jinja2 import Environment
from sqlalchemy import event

from tests.platform.conftest import login
from trellis.trade.models import ClusterManager


class Lookups:
    """Counts the catalogue's lookups (``ugettext``) while a page is built."""

    def __init__(self, monkeypatch) -> None:
        from babel.support import NullTranslations, Translations

        self.n = 0
        for cls in (Translations, NullTranslations):
            monkeypatch.setattr(cls, "ugettext", self._counting(cls.ugettext))

    def _counting(self, original):
        def counted(translations, message):
            self.n += 1
            return original(translations, message)

        return counted


ROWS = "{% for i in range(50) %}<td data-label=\"{{ _('Amount') }}\">{{ _('Open') }}</td>" \
       "{% endfor %}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_words_of_a_list_are_looked_up_once_not_per_row(app, monkeypatch, locale):
    lookups = Lookups(monkeypatch)
    with app.test_request_context("/"), force_locale(locale):
        first = app.jinja_env.from_string(ROWS).render()
        assert first.count("<td") == 50
        lookups.n = 0
        again = app.jinja_env.from_string(ROWS).render()
    assert again == first
    assert lookups.n == 0   # (Jinja's own gettext: 100 lookups a render)
    assert ("金额" in first) == (locale == "zh_CN")


CASES = [
    ("Loans", {}),
    ("Page %(page)s of %(pages)s", {"page": 2, "pages": 9}),
    ("Select %(number)s", {"number": "<b>INV&1</b>"}),
    ("100%% sure", {}),            # a message written as a format string
    ("Nothing waits for your decision.", {}),
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_template_gettext_gives_what_jinja_gives(app, autoescape, locale):
    from trellis.platform.i18n import _translations

    with app.test_request_context("/"), force_locale(locale):
        reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
        reference.install_gettext_callables(
            gettext=lambda s: _translations().ugettext(s),
            ngettext=lambda s, p, n: _translations().ungettext(s, p, n), newstyle=True)
        ours = app.jinja_env.overlay(autoescape=autoescape)
        for message, params in CASES:
            source = "{{ _(m, **p) }}|{{ gettext(m, **p) }}|{{ _(m, **p) ~ '<i>' }}"
            for _twice in range(2):   # the second time from what was kept
                assert ours.from_string(source).render(m=message, p=params) == \
                    reference.from_string(source).render(m=message, p=params)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_money_and_numbers_read_as_babel_writes_them(app, locale):
    from babel.numbers import format_currency, format_decimal

    from trellis.platform.i18n import money, number

    amounts = [0, 1, -1, 99, 100, 101, -12_345, 123_456_789, -61_044_300, 10**15 + 7]
    with app.test_request_context("/"), force_locale(locale):
        for fen in amounts:
            yuan = Decimal(fen) / 100
            assert money(fen) == format_currency(yuan, "CNY", locale=locale)
            assert money(fen, with_symbol=False) == format_decimal(yuan, format="#,##0.00",
                                                                   locale=locale)
            assert number(fen) == format_decimal(fen, locale=locale)
        for value in (Decimal("1234.5"), 0.25, Decimal("-9876543.21"), 1234567.891, -0.5,
                      12.3, 0.0, 1e-7, 2.675, Decimal("0.0005"), 1e16):
            assert number(value) == format_decimal(value, locale=locale)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_percentages_read_as_babel_writes_them(app, locale):
    from babel.numbers import format_percent

    from trellis.platform.i18n import percent

    with app.test_request_context("/"), force_locale(locale):
        for value in (0, 0.5, 0.12345, -0.0375, 1.0, 12.5, 0.99995, 1e-9, 0.125, 0.135):
            for digits in (0, 1, 2, 3):
                assert percent(value, digits) == format_percent(
                    Decimal(str(value)), format="#,##0." + "0" * digits + "%", locale=locale)


def test_the_loan_book_reads_whom_the_rm_may_see_once(app, client, session, make_user,
                                                       make_cluster, connection):
    """The loan book has four lists and counts, each limited to the RM's clusters."""
    rm = make_user("rm")
    session.add(ClusterManager(cluster_id=make_cluster().id, user_id=rm.id))
    session.commit()
    login(client, rm)
    reads = []

    def seen(conn, cursor, statement, *args) -> None:
        if "cluster_managers" in statement:
            reads.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        assert client.get("/ledger/").status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert len(reads) == 1, reads


@pytest.mark.parametrize("endpoint, key, values", [
    ("anchor.document", "doc_id", {"kind": "invoice"}),
    ("vendor.document", "doc_id", {"kind": "order"}),
    ("ledger.loan", "loan_id", {}),
    ("ledger.application", "application_id", {"next": "/ledger/?q=a b&page=2"}),
])
def test_row_links_are_what_url_for_gives(app, endpoint, key, values):
    from flask import url_for

    from trellis.platform.links import row_links

    with app.test_request_context("/"):
        link = row_links(endpoint, key, **values)
        for row_id in (1, 9, 10, 12345, 2**40):
            assert link(row_id) == url_for(endpoint, **values, **{key: row_id})


def test_row_links_fall_back_to_url_for_when_the_marker_is_not_found(app, monkeypatch):
    from flask import url_for

    from trellis.platform import links

    with app.test_request_context("/"):
        monkeypatch.setattr(links, "_MARK", "77")   # also in the query: not found once
        link = links.row_links("ledger.loan", "loan_id", next="/77/77")
        assert link(5) == url_for("ledger.loan", loan_id=5, next="/77/77")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_fast_gettext_and_lazy_text_give_what_flask_babel_gives(app, locale):
    from flask_babel import gettext as babel_gettext

    from trellis.platform.i18n import gettext, text
    from trellis.platform.scoring import readable

    with app.test_request_context("/"), force_locale(locale):
        for label in [*readable.FEATURE_LABELS.values(), *readable.DOC_STATUS.values()]:
            assert text(label) == str(label)
        assert text("plain") == "plain" and text(3) == "3"
        assert gettext("%(n)s days", n="1.5") == babel_gettext("%(n)s days", n="1.5")
        assert gettext("yes") == babel_gettext("yes")
        features = {"sales_12m_fen": 123456, "buyer_hhi_12m": 0.25, "tier": 2,
                    "anchor_tenure_days": 400.26, "role": "vendor", "unknown_x": 1.5}
        rows = readable.feature_rows(features, {})
        assert [r["label"] for r in rows] == [
            str(readable.FEATURE_LABELS.get(n) or "") or r["label"] for n, r in
            zip(features, rows, strict=True)]
        assert all(isinstance(r["label"], str) and isinstance(r["value"], str) for r in rows)
