"""Checkers for the course's exercises, one module per lesson.

Each checker takes the learner's answer, runs it for real (in a child process
where the exercise is about processes), and returns a
:class:`helpers.checking.Verdict`: a short success line, or a specific hint.
"""
