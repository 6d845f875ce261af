"""The shipped gunicorn.conf.py, as the README's production section runs it."""

import os

from bench.serving import Browser, gunicorn


def test_each_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_reach():
    """post_worker_init: a full collection no longer scans the app's own objects (a pause of
    about 150 ms inside some request every hundred or so)."""
    with gunicorn("tests.gc_probe:app", dict(os.environ), workers=1) as base_url:
        status, _, body = Browser(base_url).request("GET", "/")
    assert status == 200 and int(body) > 1000, body
