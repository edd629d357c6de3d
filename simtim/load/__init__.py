"""Locust glue (DESIGN rule 4: the only package, with locustfiles/, that imports locust or gevent).

Import it only from a locustfile: Locust has monkey-patched the process by then.
"""
