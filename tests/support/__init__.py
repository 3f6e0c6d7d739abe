"""Programs and workers the tests run: one module per lesson module (``support.queues`` for
``helpers.queues``), plus ``checking``, ``timeline``, ``stress`` and ``messages``.

Children import them by name (pytest puts ``tests/`` on ``sys.path`` and spawned
children inherit it), so a worker here can be a ``Process`` target under spawn.
"""
