"""Dask's pane in JupyterLab's sidebar (dask-labextension), as ``make lab`` installs it.

With a cluster's dashboard address typed in, the pane lists the dashboard's charts
(task stream, progress, …) that a learner drags next to lesson 09's notebook.
"""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.browser


def test_the_dask_pane_lists_a_clusters_charts(page, lab_server) -> None:
    from distributed import LocalCluster

    page.goto(f"{lab_server.base_url}/lab?reset&token={lab_server.token}")
    tab = page.locator(".jp-SideBar .lm-TabBar-tab[title='Dask']")
    tab.wait_for(timeout=60_000)
    tab.click()
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as cluster:
        search = page.get_by_placeholder("DASK DASHBOARD URL")
        search.fill(cluster.dashboard_link.removesuffix("/status"))
        search.press("Enter")
        for chart in ("Task Stream", "Progress"):
            page.get_by_text(chart, exact=True).first.wait_for(timeout=30_000)
