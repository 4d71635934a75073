"""Pictures and narrow screens (issue 15, "lists and pictures"): the cluster picture's
legend explains the colours on screen and its labels are readable; the chain index fits
a phone without sideways scrolling."""

from __future__ import annotations

from tests.browser.conftest import PHONE, log_in, shot

_WIDER = """() => ({page: document.documentElement.scrollWidth, view: window.innerWidth,
    wide: Array.from(document.querySelectorAll('body *')).filter(e => {
        const r = e.getBoundingClientRect();
        return (r.right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
            && !e.closest('.table-wrap') && getComputedStyle(e).position !== 'fixed';
    }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 40))})"""


def test_chain_index_fits_a_phone(live, new_page):
    page = new_page(viewport=PHONE)
    log_in(page, live, "auditor@trellis.demo")
    page.goto(f"{live.url}/chain/")
    page.wait_for_load_state()
    shot(page, "pictures-chain-index-phone")
    found = page.evaluate(_WIDER)
    assert found["page"] <= found["view"], found


def test_cluster_legend_follows_the_colouring_and_labels_are_readable(live, new_page):
    page = new_page()
    log_in(page, live, "rm@trellis.demo")
    page.goto(f"{live.url}/network/")
    page.click("table a[href^='/network/']")
    page.wait_for_selector("#net-cy[data-ready=true]")
    legend = page.locator("#net-legend")
    mode = page.input_value("#net-colour")
    assert legend.get_attribute("data-colour") == mode
    assert page.locator(f"#net-legend .legend-{mode}").is_visible()
    other = "tier" if mode == "grade" else "grade"
    assert not page.locator(f"#net-legend .legend-{other}").is_visible()
    if mode == "grade":
        page.select_option("#net-colour", "tier")
        assert page.locator("#net-legend .legend-tier").is_visible()
        assert not page.locator("#net-legend .legend-grade").is_visible()
    sizes = page.evaluate("""() => { const cy = window.trellisNetwork, z = cy.zoom();
        const px = n => n.numericStyle('font-size') * z;
        const named = cy.nodes('.vendor').filter(n => n.style('label'));
        return {anchor: Math.min(...cy.nodes('.anchor').map(px)),
                vendor: Math.min(...named.map(px)),
                anchors_named: cy.nodes('.anchor').filter(n => n.style('label')).length,
                anchors: cy.nodes('.anchor').length,
                shown: named.length, vendors: cy.nodes('.vendor').length}; }""")
    shot(page, "pictures-cluster")
    # Every anchor is named; a vendor's name is drawn only where it has room (names never
    # cover each other: tests/browser/test_network_picture.py measures that), and every
    # name drawn is readable. In the 40-vendor demo park most vendors are named at once.
    assert sizes["anchors_named"] == sizes["anchors"], sizes
    assert sizes["anchor"] >= 14 and sizes["vendor"] >= 10, sizes
    assert sizes["shown"] >= sizes["vendors"] / 2, sizes
