"""engines/parquet.py WriteBehind: the Parquet output written on a thread of its own, in
order, with the writer's errors raised in the caller."""

from __future__ import annotations

import pytest

pytest.importorskip("pyarrow", reason="pyarrow is not installed")
parquet = pytest.importorskip("redflag.engines.parquet")


def test_every_batch_is_written_in_order_before_the_block_ends():
    written: list[int] = []
    with parquet.WriteBehind(written.append) as write:
        for i in range(100):
            write(i)
    assert written == list(range(100))


def test_a_write_error_is_raised_in_the_caller_and_later_batches_are_not_written():
    written: list[int] = []

    def write(batch: int) -> None:
        if batch == 3:
            raise OSError("disk full")
        written.append(batch)

    with pytest.raises(OSError, match="disk full"), parquet.WriteBehind(write) as behind:
        for i in range(100):
            behind(i)
    assert written == [0, 1, 2]


def test_an_error_of_the_caller_still_ends_the_thread():
    behind = parquet.WriteBehind(lambda batch: None)
    with pytest.raises(KeyError), behind:
        behind(1)
        raise KeyError("stop")
    assert not behind._thread.is_alive()
