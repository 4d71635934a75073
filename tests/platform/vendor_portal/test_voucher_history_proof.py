"""Outside reader 8, R25: the voucher's history read "签发凭证 · 第 1 号 · 链上文件 46671", an
internal number that led nowhere. Each step now shows the content hash of its chain
document and, once anchored, a link to download its proof (which the reader may open)."""

from __future__ import annotations

from tests.platform.conftest import login
from tests.platform.vendor_portal.test_finance import confirmed_invoice, demo  # noqa: F401
from tests.platform.vendor_portal.test_vouchers_web import issued, logout  # noqa: F401
from trellis.chain.models import Batch, BatchState, Document
from trellis.demo.seed import PASSWORD
from trellis.vouchers import services as vs


def _chinese(client):
    with client.session_transaction() as s:
        s["locale"] = "zh_CN"


def test_history_shows_hash_and_proof_link_not_a_number(client, session, demo, issued):  # noqa: F811
    (event,) = vs.events(session=session, voucher_id=issued.id)
    doc = session.get(Document, event.document_id)
    assert doc is not None
    pages = ((demo["anchor"], f"/anchor/vouchers/{issued.id}"),
             (demo["vendor"], f"/vendor/vouchers/{issued.id}"))
    for i, (user, url) in enumerate(pages):
        if i:
            logout(client)
        login(client, user, PASSWORD)
        _chinese(client)
        page = client.get(url).get_data(as_text=True)
        assert "链上文件" not in page, url
        # shortened, the whole hash on hover and in a copy (reader Q10, tenth session)
        h = doc.content_hash
        assert f'内容哈希 <span class="mono hash" translate="no" title="{h}" data-hash="{h}">' \
               f'{h[:10]}<span class="hash-gap" aria-hidden="true">…</span>' \
               f'<span class="hash-mid">{h[10:-6]}</span>{h[-6:]}</span>' in page, url
        assert "等待上链" in page, url                       # not anchored yet: no link
        assert f"/vendor/proofs/{doc.id}" not in page, url
    # once anchored, the step links its proof, and the reader may download it
    batch = Batch(state=BatchState.FINALIZED, root="0x" + "ab" * 32, leaf_count=1,
                  manifest_hash="0x" + "cd" * 32)
    session.add(batch)
    session.flush()
    doc.batch_id = batch.id
    session.add(doc)
    session.commit()
    page = client.get(f"/vendor/vouchers/{issued.id}").get_data(as_text=True)
    assert f'href="/vendor/proofs/{doc.id}"' in page and "下载证明文件" in page
