"""Done when: a park exported unlike the demo (other header names, no deliveries, no
payment references, confirmation status in its own file, tax with periods) is onboarded
end to end through the public commands only, in subprocesses: create the cluster, record
the data basis, import with a saved mapping, rescore, build the invitation whitelist with
indicative limits; and no flag comes from a missing kind of data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.onboarding import park as park_files
from trellis import clock

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "苏州银行导出"


@pytest.fixture(scope="module")
def trellis(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("park")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TRELLIS_ENV="development",
               TRELLIS_INSTANCE_PATH=str(tmp), TRELLIS_DATABASE_URL=f"sqlite:///{tmp}/t.db",
               TRELLIS_LOG_LEVEL="WARNING")

    def run(*args, ok=True):
        out = subprocess.run([sys.executable, "-c",
                              "from trellis.platform.cli import main; main()", *map(str, args)],
                             env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        if ok:
            assert out.returncode == 0, f"{args}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
        return out

    run("db", "upgrade")
    run.tmp = tmp
    return run


def test_onboard_a_park_through_the_commands(trellis):
    tmp = trellis.tmp
    files = park_files.write(tmp, vendors=24, months=18)
    assert "no cluster" in trellis("import", "SZ-SIP", tmp / "firms.csv", "--kind", "firms",
                                   ok=False).stderr

    trellis("clusters", "create", "SZ-SIP", "--name", "苏州工业园区配套园",
            "--region", "苏州市")
    listed = json.loads(trellis("clusters", "list", "--json").stdout)["clusters"]
    assert [c["code"] for c in listed] == ["SZ-SIP"]
    trellis("clusters", "basis", "SZ-SIP", "--party", "苏州示范核心企业1有限公司",
            "--reference", "DSA-2026-017", "--scope", "供应商的订单、发票、确权和付款数据",
            "--expires-on", (clock.today() + timedelta(days=365)).isoformat())

    # Firms: Trellis proposes a mapping; the RM corrects it ("注册地" is the region, not an
    # address) and imports with it, saved for the source.
    trellis("import", "SZ-SIP", tmp / "firms.csv", "--kind", "firms", "--propose",
            tmp / "firms-map.json")
    proposal = json.loads((tmp / "firms-map.json").read_text(encoding="utf-8"))
    assert proposal["mapping"]["社会信用代码"] == "uscc"  # a fuzzy match, proposed
    mapping = dict(proposal["mapping"], 注册地="region")
    (tmp / "firms-map.json").write_text(json.dumps(mapping, ensure_ascii=False),
                                        encoding="utf-8")
    out = trellis("import", "SZ-SIP", tmp / "firms.csv", "--kind", "firms", "--source",
                  SOURCE, "--mapping", tmp / "firms-map.json")
    assert "26 new" in out.stdout

    # Relationships: a proposal with fuzzy matches is not used unconfirmed...
    refused = trellis("import", "SZ-SIP", tmp / "relationships.csv", "--kind",
                      "relationships", ok=False)
    assert refused.returncode != 0 and "missing required column" in refused.stderr
    trellis("import", "SZ-SIP", tmp / "relationships.csv", "--kind", "relationships",
            "--propose", tmp / "rel-map.json")
    rel = json.loads((tmp / "rel-map.json").read_text(encoding="utf-8"))
    assert not rel["missing"], rel
    (tmp / "rel-map.json").write_text(json.dumps(rel["mapping"], ensure_ascii=False),
                                      encoding="utf-8")
    trellis("import", "SZ-SIP", tmp / "relationships.csv", "--kind", "relationships",
            "--source", SOURCE, "--mapping", tmp / "rel-map.json")
    # ...and the saved mapping is used for the next file from the same source.
    again = trellis("import", "SZ-SIP", tmp / "relationships.csv", "--kind",
                    "relationships", "--source", SOURCE)
    assert "0 new" in again.stdout and "24 unchanged" in again.stdout

    trellis("import", "SZ-SIP", tmp / "orders.csv", "--kind", "orders", "--source", SOURCE)
    out = trellis("import", "SZ-SIP", tmp / "invoices.csv", "--kind", "invoices",
                  "--source", SOURCE)
    assert f"{files.invoices} new" in out.stdout
    assert "columns not imported" in out.stdout and "备注" in out.stdout  # listed, not lost
    out = trellis("import", "SZ-SIP", tmp / "confirmations.csv", "--kind", "confirmations",
                  "--source", SOURCE)
    assert f"{files.invoices} updated" in out.stdout
    out = trellis("import", "SZ-SIP", tmp / "payments.csv", "--kind", "payments",
                  "--source", SOURCE)
    assert re.search(r"\d+ new", out.stdout)
    tax_map = tmp / "tax-map.json"
    tax_map.write_text(json.dumps({"纳税人识别号": "uscc", "税款所属期": "period",
                                   "申报销售额": "vat_sales", "已缴税额": "tax_paid"},
                                  ensure_ascii=False), encoding="utf-8")
    trellis("import", "SZ-SIP", tmp / "tax.csv", "--kind", "tax_filings", "--source", SOURCE,
            "--mapping", tax_map)

    coverage = json.loads(trellis("clusters", "coverage", "SZ-SIP", "--json").stdout)
    kinds = {r["kind"]: r for r in coverage["coverage"]}
    assert kinds["deliveries"]["rows"] == 0 and kinds["confirmations"]["rows"] > 0
    assert kinds["tax_filings"]["rows"] > 0

    out = trellis("scoring", "rescore").stdout
    found = re.search(r"rescored (\d+) firms .*: (\d+) scored, (\d+) insufficient, "
                      r"(\d+) flagged", out)
    assert found, out
    firms, scored, insufficient, flagged = map(int, found.groups())
    assert firms == 26 and scored >= 24, out  # every vendor pre-assessed without consent
    assert flagged == 0, out  # nothing read a missing kind of data as fraud

    whitelist = json.loads(trellis("invitations", "candidates", "SZ-SIP", "--limits",
                                   "--json").stdout)["candidates"]
    assert len(whitelist) == 24
    assert all(c["indicative_limit_fen"] and c["indicative_limit_fen"] > 0
               for c in whitelist), whitelist[:3]

    # A pre-assessment is not a credit decision: the vendor has not consented.
    decision = json.loads(trellis("score", files.vendors[0], "--json").stdout)
    assert decision["score"] is None and decision["insufficient"]
