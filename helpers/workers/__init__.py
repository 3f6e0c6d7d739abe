"""What runs in a child: one module per lesson module, standard library only.

Under spawn and forkserver a child rebuilds its target by importing the module
that pickling recorded (the function's ``__module__``), so every worker, task,
initializer and server function of the course lives here, and a child imports
this light package instead of the notebook's side. ``helpers.queues`` (the
parent's side of lesson 03) re-exports the workers of ``helpers.workers.queues``,
so notebooks keep writing ``from helpers.queues import put_squares``.

Besides one module per lesson, :mod:`helpers.workers.running` holds the bounded
child entry point of :mod:`helpers.running`, and :mod:`helpers.workers.timeline`
the timeline's recording side. NumPy is imported only inside a worker that
computes with it, so only its child pays for it.
"""
