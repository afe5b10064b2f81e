"""publish_async's DeliveryFuture and the bound on records in flight: pure logic, threads synchronised
on events (no broker: the connector's use of both runs in the connector's own tests)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from kafka.future import Future as KafkaFuture

from bus import TransportError
from bus.transport import SendFuture, answers_sends
from connectors import Delivery, DeliveryFuture
from connectors._in_flight import InFlight

_DELIVERY = Delivery("cases", 0, 7, "ce-1")


def test_a_settled_future_gives_its_delivery_or_its_failure():
    future = DeliveryFuture()
    assert not future.done() and not future.cancel() and not future.cancelled()
    future.set_result(_DELIVERY)
    assert future.done() and future.result(timeout=0) == _DELIVERY and future.exception() is None

    failed = DeliveryFuture()
    failed.set_exception(TransportError("cases refused the record", topic="cases"))
    assert isinstance(failed.exception(timeout=0), TransportError)
    with pytest.raises(TransportError, match="refused"):
        failed.result()


def test_a_future_settles_once():
    future = DeliveryFuture()
    future.set_result(_DELIVERY)
    with pytest.raises(RuntimeError, match="settled once"):
        future.set_exception(TransportError("late"))
    assert future.result() == _DELIVERY


def test_waiting_without_an_answer_times_out_as_concurrent_futures_does():
    with pytest.raises(TimeoutError, match=r"0\.01s"):
        DeliveryFuture().result(timeout=0.01)
    with pytest.raises(TimeoutError):
        DeliveryFuture().exception(timeout=0.01)


def test_a_caller_waiting_is_woken_by_the_answer_from_another_thread():
    future = DeliveryFuture()
    waiting, got = threading.Event(), []

    def wait() -> None:
        waiting.set()
        got.append(future.result(timeout=30))

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert waiting.wait(10)
    future.set_result(_DELIVERY)
    waiter.join(10)
    assert got == [_DELIVERY]


def test_done_callbacks_run_once_in_order_and_one_failing_does_not_stop_the_others(caplog):
    future, called = DeliveryFuture(), []
    future.add_done_callback(lambda f: called.append(("first", f.result())))
    future.add_done_callback(lambda f: 1 / 0)
    future.add_done_callback(lambda f: called.append(("third", f.result())))
    assert called == []
    future.set_result(_DELIVERY)
    assert called == [("first", _DELIVERY), ("third", _DELIVERY)]
    assert "a delivery callback failed" in caplog.text
    future.add_done_callback(lambda f: called.append(("late", f.done())))  # at once, when already done
    assert called[-1] == ("late", True)


def test_past_the_bound_a_publisher_waits_for_answers():
    in_flight = InFlight(3, wait_s=30)
    for _ in range(3):
        in_flight.enter()
    entered = threading.Event()

    def publish() -> None:
        in_flight.enter()
        entered.set()

    publisher = threading.Thread(target=publish)
    publisher.start()
    assert not entered.wait(0.2), "a fourth record went through with three unanswered"
    answering = threading.Thread(target=in_flight.leave)  # an answer, on another thread
    answering.start()
    answering.join(10)
    assert entered.wait(10)
    publisher.join(10)
    assert in_flight.count == 3


def test_the_thread_that_answers_never_waits_and_a_publisher_gives_up_with_a_retriable_error():
    in_flight = InFlight(1, wait_s=0.05)
    in_flight.enter()
    with pytest.raises(TransportError, match="1 published records have waited") as raised:
        in_flight.enter()
    assert raised.value.retriable
    assert in_flight.count == 1, "a publisher that gave up is not counted"

    class _PublishesAgain:  # a receiver of a send's answer that publishes twice, as a callback may
        def acknowledged(self, meta):
            in_flight.leave()
            in_flight.enter()
            in_flight.enter()

        def failed(self, exc):
            raise AssertionError(exc)

    answer = KafkaFuture()  # kafka-python's future, answered on the thread below as its I/O thread would
    SendFuture(answer, "cases").notify(_PublishesAgain())
    answering = threading.Thread(target=answer.success, args=(SimpleNamespace(topic="cases", partition=0, offset=1),))
    answering.start()
    answering.join(10)
    assert not answering.is_alive() and in_flight.count == 2, "the answering thread went past the bound"
    assert not answers_sends(), "only the thread that ran the callbacks is marked"
