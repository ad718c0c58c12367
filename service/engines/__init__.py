"""Engines turn an operation into changes: the Pulumi Automation API, or the simulator.

Only this package imports `pulumi.automation` or Pulumi's mock runtime, and both run inside the
operation's own child process (see `child.py`), never in the API or the worker.
"""
