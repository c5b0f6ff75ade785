from itertools import product

from redflag.core.logic import Truth, and_, from_bool, not_, or_

F, U, T = Truth.FALSE, Truth.UNKNOWN, Truth.TRUE

AND_TABLE = {
    (F, F): F,
    (F, U): F,
    (F, T): F,
    (U, F): F,
    (U, U): U,
    (U, T): U,
    (T, F): F,
    (T, U): U,
    (T, T): T,
}
OR_TABLE = {
    (F, F): F,
    (F, U): U,
    (F, T): T,
    (U, F): U,
    (U, U): U,
    (U, T): T,
    (T, F): T,
    (T, U): T,
    (T, T): T,
}


def test_and_is_the_kleene_table():
    for a, b in product(Truth, Truth):
        assert and_(a, b) is AND_TABLE[a, b], (a, b)


def test_or_is_the_kleene_table():
    for a, b in product(Truth, Truth):
        assert or_(a, b) is OR_TABLE[a, b], (a, b)


def test_not_swaps_true_and_false_and_keeps_unknown():
    assert [not_(x) for x in (F, U, T)] == [T, U, F]


def test_from_bool_maps_none_to_unknown():
    assert [from_bool(v) for v in (False, None, True)] == [F, U, T]


def test_only_unknown_is_indefinite():
    assert [x.is_definite for x in (F, U, T)] == [True, False, True]
