"""The RM confirms or edits the proposed column mapping on the import page; it is saved
for the source and the next file from the same source imports without asking."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from tests.onboarding.test_importer import csv_bytes
from tests.platform.conftest import csrf_token
from trellis.onboarding import mapping as colmap
from trellis.onboarding import templates
from trellis.onboarding.importer import import_file
from trellis.onboarding.kinds import EX_ANCHOR, EX_VENDOR_1
from trellis.onboarding.models import ImportRun
from trellis.trade.models import ClusterManager, Invoice

HEADER = ["甲方代码", "乙方代码", "invoice_no", "金额", "开票日期", "到期", "备注"]


def _upload(client, code, data, source):
    token = csrf_token(client, f"/network/{code}/import")
    return client.post(f"/network/{code}/import", data={
        "csrf_token": token, "kind": "invoices", "source": source,
        "file": (io.BytesIO(data), "bank.csv")}, content_type="multipart/form-data")


def test_mapping_is_confirmed_saved_and_reused(client, logged_in, session, make_cluster):
    c = make_cluster()
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=c.id, user_id=rm.id))
    import_file(session=session, cluster_id=c.id, kind="firms",
                data=templates.template_csv("firms"))
    session.flush()
    data = csv_bytes(HEADER, [[EX_VENDOR_1, EX_ANCHOR, "X1", "10.00", "2026-01-02",
                               "2026-02-02", "月结"]])
    r = _upload(client, c.code, data, "某银行导出")
    assert r.status_code == 303 and "/mapping" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "missing-fields" in page  # the seller and buyer columns were not recognised
    run = session.execute(select(ImportRun)).scalars().one()
    assert run.status == "mapping"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    chosen = {"col-0": "seller_uscc", "col-1": "buyer_uscc", "col-2": "number",
              "col-3": "amount", "col-4": "issue_date", "col-5": "due_date", "col-6": ""}
    bad = client.post(r.headers["Location"], data={"csrf_token": token, **chosen,
                                                   "col-1": "seller_uscc", "save": "1"})
    assert bad.status_code == 200 and session.get(ImportRun, run.id).status == "mapping"
    ok = client.post(r.headers["Location"], data={"csrf_token": token, **chosen, "save": "1"})
    assert ok.status_code == 303
    session.refresh(run)
    assert run.status == "succeeded" and run.unmapped == ["备注"]
    assert session.execute(select(Invoice).where(Invoice.number == "X1")).scalar_one()
    assert colmap.saved(session=session, cluster_id=c.id, source="某银行导出",
                        kind="invoices")["甲方代码"] == "seller_uscc"
    # the next file from the same source goes straight through with the saved mapping
    data2 = csv_bytes(HEADER, [[EX_VENDOR_1, EX_ANCHOR, "X2", "11.00", "2026-01-03",
                                "2026-02-03", ""]])
    r2 = _upload(client, c.code, data2, "某银行导出")
    assert "/mapping" not in r2.headers["Location"]
    assert session.execute(select(Invoice).where(Invoice.number == "X2")).scalar_one()
    shown = client.get(r2.headers["Location"]).get_data(as_text=True)
    assert "备注" in shown


def test_a_large_upload_runs_as_a_task_not_a_thread(app, client, logged_in, session,
                                                    make_cluster, monkeypatch):
    import threading

    app.config["NETWORK_IMPORT_INLINE_MAX_BYTES"] = 0  # every upload counts as large
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    c = make_cluster()
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=c.id, user_id=rm.id))
    session.flush()
    token = csrf_token(client, f"/network/{c.code}/import")
    r = client.post(f"/network/{c.code}/import", data={
        "csrf_token": token, "kind": "firms", "source": "",
        "file": (io.BytesIO(templates.template_csv("firms")), "firms.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 303
    run = session.execute(select(ImportRun)).scalars().one()
    session.refresh(run)
    assert run.status == "succeeded" and run.created == 3  # the task ran (immediate mode)
    assert started == []  # and no thread was started by the request


def test_a_wrong_file_waiting_for_its_mapping_is_named_in_words_and_can_be_withdrawn(
        client, logged_in, session, make_cluster):
    """Outside reader 10, R16: the fields no column fed were listed by their keys
    ("seller_uscc, buyer_uscc, number, ..."), and a wrong upload stayed "等待确认列映射" for
    good, with no way to withdraw it. The fields are named in Chinese; withdrawing ends the
    run with nothing written, and its file is not kept."""
    from trellis.onboarding.models import ImportFile

    c = make_cluster()
    rm = logged_in("rm")
    session.add(ClusterManager(cluster_id=c.id, user_id=rm.id))
    session.flush()
    r = _upload(client, c.code, csv_bytes(["名称", "备注"], [["某物", "x"]]), "")
    assert r.status_code == 303 and "/mapping" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    missing = page.split('data-testid="missing-fields">', 1)[1].split("</p>", 1)[0]
    assert "卖方统一社会信用代码" in missing and "seller_uscc" not in missing
    run = session.execute(select(ImportRun)).scalars().one()
    withdraw = page.split('data-testid="withdraw-form"', 1)[1]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', withdraw).group(1)
    gone = client.post(f"/network/imports/{run.id}/withdraw", data={"csrf_token": token})
    assert gone.status_code == 303 and gone.headers["Location"].endswith(f"/{c.code}/import")
    session.refresh(run)
    assert run.status == "refused" and session.get(ImportFile, run.id) is None
    listing = client.get(f"/network/{c.code}/import").get_data(as_text=True)
    assert f"导入 {run.id} 已撤回：未写入任何数据。" in listing
    again = client.post(f"/network/imports/{run.id}/withdraw", data={"csrf_token": token})
    assert again.status_code == 303                     # not waiting any more: said, no 500
    assert "该导入不在等待列映射确认" in client.get(again.headers["Location"]).get_data(
        as_text=True)
