"""A WSGI app that says how many objects its worker has frozen out of the garbage collector's
reach (gc.freeze), for tests/test_gunicorn_config.py."""

import gc


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]
