"""Programs a learner might write for lesson 02's exercises: the right ones and typical slips.

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


# ---- exercise 2: a job board --------------------------------------------------------------


def take_jobs(jobs, done):
    """Runs in a child: pop jobs until none is left; the pop is the test and the take."""
    while True:
        try:
            job = jobs.pop()
        except IndexError:  # the list is empty: every job is taken
            return
        done.append((job, job * job))


def take_jobs_under_a_lock(jobs, done, lock):
    """Runs in a child: the test and the take under a managed lock."""
    while True:
        with lock:
            job = jobs.pop() if len(jobs) else None
        if job is None:
            return
        done.append((job, job * job))


def do_every_job(jobs, done):
    """Every worker goes through the whole list."""
    for job in jobs[:]:
        done.append((job, job * job))


def pop_until_error(jobs, done):
    """Pops until the list is empty, and then raises IndexError."""
    while True:
        job = jobs.pop()
        done.append((job, job * job))


def take_one_job(jobs, done):
    job = jobs.pop()
    done.append((job, job * job))


def _board(ctx, jobs, workers, worker, *, with_lock=False, give_proxy=False):
    with ctx.Manager() as manager:
        todo, done = manager.list(jobs), manager.list()
        extra = (manager.Lock(),) if with_lock else ()
        children = [ctx.Process(target=worker, args=(todo, done, *extra)) for _ in range(workers)]
        for child in children:
            child.start()
        for child in children:
            child.join(timeout=TIMEOUT)
        result = done if give_proxy else list(done)
    return result


def run_jobs(ctx, jobs, workers):
    """The reference solution."""
    return _board(ctx, jobs, workers, take_jobs)


def run_jobs_with_a_lock(ctx, jobs, workers):
    return _board(ctx, jobs, workers, take_jobs_under_a_lock, with_lock=True)


def run_jobs_every_worker_all(ctx, jobs, workers):
    return _board(ctx, jobs, workers, do_every_job)


def run_jobs_pop_until_error(ctx, jobs, workers):
    return _board(ctx, jobs, workers, pop_until_error)


def run_jobs_one_each(ctx, jobs, workers):
    return _board(ctx, jobs, workers, take_one_job)


def run_jobs_returns_the_proxy(ctx, jobs, workers):
    return _board(ctx, jobs, workers, take_jobs, give_proxy=True)
