"""examples/python run against the session broker, as a user would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import rustlog
from conftest import REPO, Broker

EXAMPLES = REPO / "examples" / "python"


def run(broker: Broker, script: str, *args: str) -> str:
    env = dict(os.environ, RUSTLOG_BROKER=broker.address)
    r = subprocess.run([sys.executable, str(EXAMPLES / script), *args], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


def test_producer_then_consumer_group_resumes(broker: Broker, client: rustlog.Client, topic_name: str) -> None:
    out = run(broker, "producer.py", "--topic", topic_name, "--count", "70")
    assert out.splitlines()[-1] == f"produced 70 records to {topic_name}"
    assert sum(int(n) for n in re.findall(r"^partition \d: (\d+) records", out, re.M)) == 70
    group = topic_name + "-group"
    first = run(broker, "consumer_group.py", "--topic", topic_name, "--group", group, "--max", "25")
    assert first.splitlines()[-1] == "consumed 25 records"
    rest = run(broker, "consumer_group.py", "--topic", topic_name, "--group", group)
    assert rest.splitlines()[-1] == "consumed 45 records"
    seen = first.splitlines()[:-1] + rest.splitlines()[:-1]
    assert len(set(seen)) == 70  # each record exactly once across the two runs
    again = run(broker, "consumer_group.py", "--topic", topic_name, "--group", group)
    assert again.splitlines() == ["consumed 0 records"]
    assert all(g.lag == 0 for g in client.describe_group(group))
    # A second producer run appends to the existing topic.
    run(broker, "producer.py", "--topic", topic_name, "--count", "5")
    assert run(broker, "consumer_group.py", "--topic", topic_name, "--group", group).splitlines()[-1] == \
        "consumed 5 records"


def readme_blocks() -> list:
    text = (REPO / "clients" / "python" / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_readme_snippets_run_as_written(broker: Broker, client: rustlog.Client) -> None:
    producer, consumer, compressed = readme_blocks()
    client.create_topic("orders", 3)
    env = dict(os.environ)
    run_block = [sys.executable, "-c"]
    p = subprocess.run(run_block + [producer.replace("127.0.0.1:9092", broker.address)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"offset \d+\n", p.stdout)
    c = subprocess.Popen(run_block + [consumer.replace("127.0.0.1:9092", broker.address)], env=env,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert c.stdout is not None
        line = c.stdout.readline()  # the consumer iterates forever: read one record, then stop it
    finally:
        c.kill()
        c.wait()
    offset = int(p.stdout.split()[1])
    partition = rustlog.partition_for_key(b"customer-7", 3)
    assert line == f"{partition} {offset} b'customer-7' b'order 1' [('source', b'web')]\n"
    client.create_topic("logs", 1)
    z = subprocess.run(run_block + [compressed.replace("127.0.0.1:9092", broker.address)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert z.returncode == 0, z.stderr
    assert z.stdout == "offset 0\n"
