"""Rate limits that hold across the nodes of a province (issue 16, item 4): two web nodes (gunicorn,
one worker each, separate data directories, the same database) count logins in one Redis, so 11
login attempts spread over both trip the limit of 10 a minute, where per-process counting would let
20 through. A Redis that goes down loosens the limits for a while; it never takes the login with it."""

from __future__ import annotations

import pytest

from .nodes import Node

pytestmark = pytest.mark.slow


def try_login(node: Node) -> int:
    """A wrong password, as a guesser sends it (the login form's CSRF token first)."""
    return node.user().login("holder_a", "đoán-thử").status_code


@pytest.fixture
def nodes(db_url, tmp_path, world):
    started = []

    def start(storage_uri: str) -> tuple[Node, Node]:
        env = {"DATABASE_URL": db_url, "RATELIMIT_STORAGE_URI": storage_uri}
        pair = (Node(tmp_path / f"node-a-{len(started)}", env), Node(tmp_path / f"node-b-{len(started)}", env))
        started.extend(pair)
        return pair

    yield start
    for node in started:
        node.stop()


def test_logins_spread_over_two_nodes_share_one_limit_in_redis(nodes, redis_url):
    a, b = nodes(redis_url)
    answers = [try_login(a if n % 2 == 0 else b) for n in range(11)]
    assert answers[:10] == [200] * 10, answers  # the form again, "wrong password"
    assert answers[10] == 429
    assert try_login(b) == 429 and try_login(a) == 429  # on either node


def test_without_shared_storage_each_node_counts_alone(nodes):
    """Why Redis: counted in each process, the same 11 attempts never reach any node's limit."""
    a, b = nodes("memory://")
    assert [try_login(a if n % 2 == 0 else b) for n in range(11)] == [200] * 11


def test_a_redis_that_goes_down_loosens_the_limits_and_keeps_the_login(nodes, redis_url, redis_server):
    a, b = nodes(redis_url)
    assert try_login(a) == 200
    redis_server.stop()
    try:
        assert [try_login(a), try_login(b)] == [200, 200]  # counted in each process meanwhile
    finally:
        redis_server.start()
