"""Worker functions, checkers and plumbing for the inter-process communication course.

Children started under spawn or forkserver import this package, so it stays
light: no numpy, ipywidgets or matplotlib at import time (the benchmark and
widget code import theirs inside the functions that need them).
"""

from helpers.context import describe_start_method, get_context, start_method_from_env

__all__ = ["describe_start_method", "get_context", "start_method_from_env"]
__version__ = "1.0.0"
