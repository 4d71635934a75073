"""Issue 15, what the vendor and RM pages say about a document another application already
asks for, and the words around it (the vendor's and RM's pages, in Chinese):

* the vendor's apply page and voucher page mark a document or part in a live application
  (已在申请 N 中, linked) and offer no way to apply for it again; the server still refuses;
* the application page's status word is the refusal's (one word: 待审批);
* the RM's review page names another live application on the same document, linked;
* the refusal of a part too small to finance gives the advance it would give and the
  smallest part that can be financed, from the product's settings;
* the lineage picture names a part by its number and state in words, never ``#1``.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from tests.platform.conftest import csrf_token, login
from tests.platform.vendor_portal.test_finance import apply_for, confirmed_invoice, demo  # noqa: F401
from tests.platform.vendor_portal.test_vouchers_web import issued, logout  # noqa: F401
from tests.vouchers.test_financing_route import no_limit, scorer_for
from trellis.demo.seed import PASSWORD
from trellis.ledger.models import Application, Product
from trellis.vouchers import financing
from trellis.vouchers import services as vs
from trellis.vouchers.models import VoucherFragment


def chinese(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def checkbox(page: str, doc_id: int) -> str:
    return re.search(rf'<input[^>]*id="doc-{doc_id}"[^>]*>', page).group(0)


def finance(client, voucher_id: int, part_id: int):
    return client.post(f"/vendor/vouchers/parts/{part_id}/finance", data={
        "csrf_token": csrf_token(client, f"/vendor/vouchers/{voucher_id}")})


def test_a_part_in_an_application_is_marked_and_refused_in_one_word(
        client, session, demo, issued):  # noqa: F811
    vendor = demo["vendor"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    chinese(client)
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    assert f"/vendor/vouchers/parts/{root.id}/finance" in page
    # the part goes to an RM (a flag): a live application waiting for review
    app, _ = financing.quote(session=session, holder_id=vendor.firm_id, fragment_id=root.id,
                             scorer=scorer_for("C", flagged=True), limiter=no_limit)
    assert app.status == "review"
    session.commit()
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    mark = page.split(f'id="claimed-{root.id}"')[1].split("</p>")[0]
    assert f"已在申请 {app.id} 中" in mark and f'href="/vendor/applications/{app.id}"' in mark
    assert f"/vendor/vouchers/parts/{root.id}/finance" not in page   # no button to file again
    # a form posted from a page loaded before (another tab) is still refused, by the ledger
    refused = finance(client, issued.id, root.id)
    assert refused.status_code == 422
    said = text_of(refused.get_data(as_text=True))
    assert f"已在申请 {app.id}" in said and "（待审批）" in said
    assert session.scalar(select(Application.id).where(Application.id > app.id)) is None
    # the application's own page uses the refusal's word for its state
    own = text_of(client.get(f"/vendor/applications/{app.id}").get_data(as_text=True))
    assert "待审批" in own and "审批中" not in own
    listed = text_of(client.get("/vendor/applications").get_data(as_text=True))
    assert "待审批" in listed and "审批中" not in listed
    # and it names the part by its voucher, holder and amount, not "#id"
    assert issued.code in own and f"#{root.id}" not in own


def test_an_invoice_in_an_application_is_marked_on_the_apply_page(client, session, demo):  # noqa: F811
    vendor = demo["vendor"]
    login(client, vendor, PASSWORD)
    chinese(client)
    inv = confirmed_invoice(session, vendor.firm_id)
    page = client.get(f"/vendor/apply?q={inv.number}").get_data(as_text=True)
    assert "disabled" not in checkbox(page, inv.id)
    response = apply_for(client, [inv.id])
    assert response.status_code == 303, text_of(response.get_data(as_text=True))[:1500]
    app_id = int(response.location.rsplit("/", 1)[1])
    # approved at once with an open offer: still a live claim on the invoice
    page = client.get(f"/vendor/apply?q={inv.number}").get_data(as_text=True)
    assert "disabled" in checkbox(page, inv.id)
    mark = page.split(f'id="claimed-{inv.id}"')[1].split("</a>")[0]
    assert f"已在申请 {app_id} 中" in mark and f"/vendor/applications/{app_id}" in page
    again = apply_for(client, [inv.id])
    assert again.status_code == 422
    assert f"已在申请 {app_id}" in text_of(again.get_data(as_text=True))


def test_the_rm_sees_another_application_on_the_same_part(
        client, session, demo, issued):  # noqa: F811
    """Two applications on one part (filed before the rule, as in tests/ledger/
    test_one_claim.py): each review page names and links the other."""
    vendor = demo["vendor"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    review = {"scorer": scorer_for("C", flagged=True), "limiter": no_limit}
    first, _ = financing.quote(session=session, holder_id=vendor.firm_id,
                               fragment_id=root.id, **review)
    first.status = "declined"                  # out of the way while the second is filed
    session.flush()
    second, _ = financing.quote(session=session, holder_id=vendor.firm_id,
                                fragment_id=root.id, **review)
    first.status = "review"
    session.commit()
    login(client, demo["rm"], PASSWORD)
    chinese(client)
    page = client.get(f"/ledger/applications/{second.id}").get_data(as_text=True)
    rivals = page.split('id="rivals"')[1].split("</div>")[0]
    assert f'href="/ledger/applications/{first.id}"' in rivals
    said = text_of(rivals)
    assert f"也在申请 {first.id} 中（待审批）" in said and issued.code in said
    assert "提交在先" in said                       # the first filed is decided first
    other = client.get(f"/ledger/applications/{first.id}").get_data(as_text=True)
    said = text_of(other.split('id="rivals"')[1].split("</div>")[0])
    assert f"也在申请 {second.id} 中" in said and "提交在先" not in said
    # an application with no rival says nothing of the kind
    first.status = "declined"
    session.commit()
    assert 'id="rivals"' not in client.get(
        f"/ledger/applications/{second.id}").get_data(as_text=True)


def test_a_part_too_small_is_refused_with_its_advance_and_the_smallest_part(
        client, session, demo, issued):  # noqa: F811
    vendor = demo["vendor"]
    rf = session.exec(select(Product).where(Product.code == "RF-STD")).one()
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    small = rf.min_amount_fen   # its advance is the rate of it: below the minimum
    vs.split(session=session, holder_id=vendor.firm_id, fragment_id=root.id,
             amounts=[root.amount_fen - small, small])
    session.commit()
    part = session.exec(select(VoucherFragment).where(
        VoucherFragment.voucher_id == issued.id, VoucherFragment.amount_fen == small)).one()
    login(client, vendor, PASSWORD)
    chinese(client)
    refused = finance(client, issued.id, part.id)
    assert refused.status_code == 422
    said = text_of(refused.get_data(as_text=True))
    advance = small * rf.advance_rate_bps // 10_000
    smallest = -(-rf.min_amount_fen * 10_000 // rf.advance_rate_bps)
    assert (rf.min_amount_fen, rf.advance_rate_bps) == (100_000, 8000)   # the figures below
    assert (advance, smallest) == (80_000, 125_000)
    assert "放款金额为 ¥800.00" in said and "最低放款金额为 ¥1,000.00" in said
    assert "金额不低于 ¥1,250.00 的部分可以融资" in said and "80" in said
    # the smallest part named is financeable: its advance reaches the minimum
    assert financing.smallest_part(rf) * rf.advance_rate_bps // 10_000 >= rf.min_amount_fen
    assert (financing.smallest_part(rf) - 1) * rf.advance_rate_bps // 10_000 \
        < rf.min_amount_fen


def test_the_lineage_names_a_part_by_number_and_state(
        client, session, demo, issued):  # noqa: F811
    vendor = demo["vendor"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    chinese(client)
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    box = svg.split(f'data-node="f{root.id}"')[1].split("</g>")[0]
    assert "第 1 号部分 · 持有中" in box   # its place in the voucher, not its id
    assert not re.search(r">[^<]*#\d", svg)         # no "#1" in any text of the picture
    # its tooltip is the part's full name: voucher, amount, holder
    tip = box.split("<title>")[1].split("</title>")[0]
    assert issued.code in tip and "持有" in tip and "¥" in tip
    assert "…" not in svg                          # nothing cut


def test_a_part_in_an_application_cannot_be_split_or_passed_on(
        client, session, demo, issued):  # noqa: F811
    """Reader Q13: a part in a live application was split and each piece financed again
    (¥12,000 asked against ¥10,000 of voucher). While the application is live the part
    stays whole and with its holder: the page offers no pass or split form, a form posted
    from an older page is refused (409, in Chinese, naming the application) and nothing
    changes; once the application is declined the part can be split again."""
    vendor, vendor2 = demo["vendor"], demo["vendor2"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    chinese(client)
    before = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    token = csrf_token(client, f"/vendor/vouchers/{issued.id}")
    app, _ = financing.quote(session=session, holder_id=vendor.firm_id, fragment_id=root.id,
                             scorer=scorer_for("C", flagged=True), limiter=no_limit)
    session.commit()
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    assert f"/vendor/vouchers/parts/{root.id}/split" in before
    assert f"/vendor/vouchers/parts/{root.id}/split" not in page
    assert f"/vendor/vouchers/parts/{root.id}/pass" not in page
    assert "不能转让或拆分" in text_of(page.split(f'id="claimed-{root.id}"')[1].split("</p>")[0])
    half = root.amount_fen // 2
    split = client.post(f"/vendor/vouchers/parts/{root.id}/split", data={
        f"s{root.id}-csrf_token": token,
        f"s{root.id}-amounts": f"{half / 100:.2f} {(root.amount_fen - half) / 100:.2f}"})
    passed = client.post(f"/vendor/vouchers/parts/{root.id}/pass", data={
        f"p{root.id}-csrf_token": token, f"p{root.id}-to_firm_id": str(vendor2.firm_id),
        f"p{root.id}-amount": "100.00"})
    for refused in (split, passed):
        assert refused.status_code == 409
        said = text_of(refused.get_data(as_text=True))
        assert f"已在申请 {app.id} 中" in said and "不能拆分或转让" in said
    session.expire_all()
    assert session.get(VoucherFragment, root.id).status == "held"
    assert len(vs.fragments(session=session, voucher_id=issued.id)) == 1
    app.status = "declined"
    session.commit()
    again = client.post(f"/vendor/vouchers/parts/{root.id}/split", data={
        f"s{root.id}-csrf_token": token,
        f"s{root.id}-amounts": f"{half / 100:.2f} {(root.amount_fen - half) / 100:.2f}"})
    assert again.status_code == 303
    session.expire_all()
    assert session.get(VoucherFragment, root.id).status == "split"


@pytest.mark.parametrize("minimum, shown", [(0, None), (500, "最低 ¥5.00")])
def test_the_fee_states_a_minimum_only_when_there_is_one(
        client, session, demo, issued, minimum, shown):  # noqa: F811
    """Reader Q11: 「借款金额的 0.3%，最低 ¥0.00」 stated a minimum that is none."""
    product = session.exec(select(Product).where(
        Product.code == financing.PRODUCT_CODE)).one()
    product.fee_bps, product.fee_min_fen = 30, minimum
    session.commit()
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, demo["vendor"], PASSWORD)
    chinese(client)
    said = text_of(client.get(f"/vendor/vouchers/parts/{root.id}/finance").get_data(
        as_text=True))
    assert "借款金额的 0.3%" in said
    assert ("最低" not in said) if shown is None else (shown in said)


def test_a_search_that_finds_nothing_to_finance_says_where_vouchers_go(
        client, session, demo):  # noqa: F811
    """Reader Q7: a search for an invoice issued as a voucher said 「请录入发票并请买方
    确权」, though the tab lists dozens of invoices; the empty search now says that an
    invoice issued as a voucher is financed part by part, with a link to the vouchers."""
    login(client, demo["vendor"], PASSWORD)
    chinese(client)
    page = client.get("/vendor/apply?product=RF-STD&q=NO-SUCH-NUMBER-42").get_data(
        as_text=True)
    found = text_of(page.split('id="none-found"')[1].split("</p>")[0])
    assert "没有符合搜索条件、目前可以融资的单据" in found and "按部分申请融资" in found
    assert 'href="/vendor/vouchers"' in page.split('id="none-found"')[1].split("</p>")[0]
    assert "请录入发票并请买方确权" not in text_of(page)


def test_a_voucher_with_several_held_parts_links_to_its_lineage_at_the_top(
        client, session, demo, issued):  # noqa: F811
    """Reader Q4: with many held parts the lineage came after one form block per part,
    thousands of pixels down on a phone; the summary links to it."""
    vendor = demo["vendor"]
    (root,) = vs.fragments(session=session, voucher_id=issued.id)
    login(client, vendor, PASSWORD)
    chinese(client)
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    assert 'id="to-lineage"' not in page                 # one part: nothing to jump over
    third = root.amount_fen // 3
    vs.split(session=session, holder_id=vendor.firm_id, fragment_id=root.id,
             amounts=[third, third, root.amount_fen - 2 * third])
    session.commit()
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    link = page.split('id="to-lineage"')[1].split("</a>")[0]
    assert "查看全部部分（您持有 3 个）" in link and '<a href="#parts" id="to-lineage">' in page
    assert page.index('id="to-lineage"') < page.index('/split"') < page.index('id="parts"')
    # reader Q4 (tenth session): only a link led to the picture; it now comes before the
    # forms, so the reader sees where each part went before acting
    assert page.index('class="lineage"') < page.index('/split"')
