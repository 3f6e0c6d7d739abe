"""Programs a learner might write for lesson 02's exercise 2: the right one and typical slips.

Test-only. The workers are top-level functions here, so a spawned child can
import them (pytest puts this folder on ``sys.path``, and children inherit it).
"""

from __future__ import annotations

TIMEOUT = 30


def add_points(scores, name, points):
    """Runs in a child: add ``points`` to ``name``'s list in the managed dict, and store it back."""
    so_far = scores[name]
    so_far.extend(points)
    scores[name] = so_far


def add_points_to_a_copy(scores, name, points):
    """The nested-mutation trap: extends a copy the child then throws away."""
    scores[name].extend(points)


def replace_points(scores, name, points):
    """Stores the new points in place of the old ones."""
    scores[name] = list(points)


def _start_and_join(ctx, worker, scores, games):
    players = [
        ctx.Process(target=worker, args=(scores, name, points)) for name, points in games.items()
    ]
    for player in players:
        player.start()
    for player in players:
        player.join(timeout=TIMEOUT)


def merge_scores(ctx, history, games):
    """The reference solution."""
    with ctx.Manager() as manager:
        scores = manager.dict(history)
        _start_and_join(ctx, add_points, scores, games)
        return scores.copy()


def nested_mutation(ctx, history, games):
    with ctx.Manager() as manager:
        scores = manager.dict(history)
        _start_and_join(ctx, add_points_to_a_copy, scores, games)
        return scores.copy()


def replaces_history(ctx, history, games):
    with ctx.Manager() as manager:
        scores = manager.dict(history)
        _start_and_join(ctx, replace_points, scores, games)
        return scores.copy()


def returns_the_proxy(ctx, history, games):
    with ctx.Manager() as manager:
        scores = manager.dict(history)
        _start_and_join(ctx, add_points, scores, games)
    return scores


def never_shuts_down(ctx, history, games):
    manager = ctx.Manager()
    scores = manager.dict(history)
    _start_and_join(ctx, add_points, scores, games)
    return scores
