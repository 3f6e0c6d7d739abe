"""Tests for `helpers.validation`."""

import pytest

from helpers.validation import (
    parse_int_list,
    require_int_list,
    require_positive_int,
    require_timeout,
)


def test_good_values_pass_through():
    assert require_positive_int(4, "processes") == 4
    assert require_int_list([1, -2, 3]) == [1, -2, 3]
    assert parse_int_list(" 1, 2  3 ") == [1, 2, 3]
    assert require_timeout(2) == 2.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: require_positive_int(0, "processes"),
            ValueError,
            "processes must be at least 1, not 0",
        ),
        (
            lambda: require_positive_int(2.5, "processes"),
            TypeError,
            "processes must be a whole number, not float 2.5",
        ),
        (
            lambda: require_positive_int(True, "n"),
            TypeError,
            "n must be a whole number, not bool True",
        ),
        (lambda: require_positive_int(9, "n", maximum=8), ValueError, "n must be at most 8, not 9"),
        (
            lambda: require_int_list("1234"),
            TypeError,
            "numbers must be a list of whole numbers, not str '1234'",
        ),
        (
            lambda: require_int_list([1, "2"]),
            TypeError,
            "numbers[1] must be a whole number, not str '2'",
        ),
        (lambda: parse_int_list("1, two"), ValueError, "numbers: 'two' is not a whole number"),
        (lambda: parse_int_list("  "), ValueError, "numbers is empty"),
        (
            lambda: require_timeout(0),
            ValueError,
            "timeout must be a positive, finite number of seconds, not 0",
        ),
        (
            lambda: require_timeout("5"),
            TypeError,
            "timeout must be a number of seconds, not str '5'",
        ),
    ],
)
def test_bad_values_name_what_is_wrong(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
