"""Which events reach a service queue, and that every name carries the run's namespace."""

import pytest

from shared.topology import SERVICES, Topology, is_consumed


@pytest.mark.parametrize(
    ("routing_key", "consumed"),
    [
        ("worcester-ma.request.filed", True),
        ("cary-nc.request.deadlines_set", True),
        ("x.apikey.issued", True),
        ("cary-nc.apikey.revoked", True),
        ("cary-nc.notification.sent", False),
        ("worcester-ma.request.acknowledged", False),
        ("worcester-ma.request.filed.extra", False),
        ("request.filed", False),
    ],
)
def test_only_events_some_service_listens_for_are_published(
    routing_key: str, consumed: bool
) -> None:
    assert is_consumed(routing_key) is consumed


def test_every_broker_name_carries_the_namespace_prefix() -> None:
    topology = Topology(namespace="test-abc.", retry_delay_ms=200)
    assert topology.exchange_name == "test-abc.recordsdesk.events"
    assert topology.dead_letter_exchange_name == "test-abc.recordsdesk.dead-letter"
    for service in SERVICES:
        assert topology.queue_name(service) == f"test-abc.recordsdesk.{service}"
        assert topology.retry_queue_name(service) == f"test-abc.recordsdesk.{service}.retry-200ms"
        assert topology.dead_queue_name(service) == f"test-abc.recordsdesk.{service}.dead"
