"""Specs plus live data -> decisions and resources: the stack program's layer.

May import the resources, `provider.rules` and the provider core; the command line sits above.
"""
