#!/usr/bin/env python3
"""Summarises bench/broker_bench.sh's results.txt as a Markdown table: the
median of every figure over the runs, beside the fio and Redis baselines of
the same run, with the issue's targets and pass/fail.

Usage: broker_bench_report.py results.txt
"""
import re
import statistics
import sys
from collections import defaultdict


def parse(path):
    lines = defaultdict(list)  # kind -> [dict]
    for raw in open(path):
        raw = raw.strip()
        if not raw or " " not in raw:
            continue
        kind, rest = raw.split(" ", 1)
        d = {}
        for m in re.finditer(r'(\w+)=("[^"]*"|\S+)', rest):
            d[m.group(1)] = m.group(2).strip('"')
        lines[kind].append(d)
    return lines


def med(values):
    values = [float(v) for v in values if v not in (None, "")]
    return statistics.median(values) if values else None


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s + unit


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def main():
    L = parse(sys.argv[1])

    def result(label, key):
        return med(d.get(key) for d in L["RESULT"] if d.get("label") == label and key in d)

    def result_at(offset, key):
        return med(d.get(key) for d in L["RESULT"]
                   if d.get("label") == "fetch_at" and d.get("offset") == str(offset))

    def fio(job, key):
        return med(d.get(key) for d in L["FIO"] if d.get("job") == job)

    def redis(job, clients, key):
        return med(d.get(key) for d in L["REDIS"] if d.get("job") == job and d.get("clients") == str(clients))

    def rss(label, key):
        return med(d.get(key) for d in L["RSS"] if d.get("label") == label)

    runs = len({d.get("run") for d in L["RESULT"]})
    out = []
    for d in L["MACHINE"]:
        out.append(f"Machine: {d.get('cpus')} CPUs ({d.get('cpu')}), {d.get('mem_gib')} GiB, kernel {d.get('kernel')}, "
                   f"{d.get('fs')} at {d.get('dir')}, load average at start {d.get('loadavg')}.")
    for d in L["VERSIONS"]:
        out.append(f"Versions: {d.get('fio')}, Redis {d.get('redis')}, kafka-lite at git {d.get('git')}.")
    for d in L["END"]:
        out.append(f"Load average at the end: {d.get('loadavg')}.")
    out.append(f"Medians of {runs} run(s).")
    out.append("")

    sync4k_p50 = fio("fdatasync_4k", "sync_p50_us")
    sync4k_p99 = fio("fdatasync_4k", "sync_p99_us")
    app4k_p50 = fio("fdatasync_4k_append", "sync_p50_us")
    app4k_p99 = fio("fdatasync_4k_append", "sync_p99_us")
    batch_iops = fio("fdatasync_batch", "iops")
    fio_rec_bound = batch_iops * 100 if batch_iops else None

    out.append("Baselines (same run, same disk):")
    out.append("")
    out.append("| baseline | figure |")
    out.append("|---|---|")
    out.append(f"| fio 4 KiB write + fdatasync (preallocated file): fdatasync p50 / p99 | {fmt(sync4k_p50, ' µs')} / {fmt(sync4k_p99, ' µs')} |")
    out.append(f"| fio 4 KiB write + fdatasync (file grown by appends): fdatasync p50 / p99 | {fmt(app4k_p50, ' µs')} / {fmt(app4k_p99, ' µs')} |")
    ow_p50 = fio("fdatasync_4k_overwrite", "sync_p50_us")
    ow_p99 = fio("fdatasync_4k_overwrite", "sync_p99_us")
    out.append(f"| fio 4 KiB write + fdatasync (overwriting a file written before): fdatasync p50 / p99 | {fmt(ow_p50, ' µs')} / {fmt(ow_p99, ' µs')} |")
    out.append(f"| fio 10,879 B (one 100 x 100 B batch) append + fdatasync | {fmt(batch_iops, ' writes/s')} = {fmt(fio_rec_bound, ' rec/s')} for one synchronous writer |")
    out.append(f"| Redis XADD, appendfsync always, -P 100, 1 client | {fmt(redis('xadd_p100', 1, 'rps'), ' /s')} |")
    out.append(f"| Redis XADD, appendfsync always, -P 100, 4 clients | {fmt(redis('xadd_p100', 4, 'rps'), ' /s')} |")
    out.append(f"| Redis XADD, appendfsync always, -P 1, 1 client: p50 / p99 | {fmt(redis('xadd_p1', 1, 'p50_ms'), ' ms')} / {fmt(redis('xadd_p1', 1, 'p99_ms'), ' ms')} |")
    out.append("")

    rows = []

    def row(name, measured, target, ok, vs):
        rows.append(f"| {name} | {measured} | {target} | {'PASS' if ok else ('FAIL' if ok is not None else 'n/a')} | {vs} |")

    r1 = result("always_1c", "rec_per_s")
    r_redis1 = redis("xadd_p100", 1, "rps")
    row("produce, batch 100, 1 conn waiting, flush always", fmt(r1, " rec/s"), ">= 500,000 rec/s",
        r1 is not None and r1 >= 500000,
        f"{ratio(r1, r_redis1)} Redis 1 client; {ratio(r1, fio_rec_bound)} fio bound (100 rec per batch fdatasync); "
        f"request p50 {fmt(result('always_1c', 'p50_us'), ' µs')}")
    r4 = result("always_4c", "rec_per_s")
    r_redis4 = redis("xadd_p100", 4, "rps")
    row("produce, batch 100, 4 conns on 4 partitions, flush always", fmt(r4, " rec/s"), ">= 1,200,000 rec/s",
        r4 is not None and r4 >= 1200000,
        f"{ratio(r4, r_redis4)} Redis 4 clients; {ratio(r4, fio_rec_bound)} fio one-writer bound; "
        f"request p50 {fmt(result('always_4c', 'p50_us'), ' µs')}")
    rn = result("never_1c", "rec_per_s")
    row("produce, batch 100, 1 conn waiting, flush never", fmt(rn, " rec/s"), ">= 1,500,000 rec/s",
        rn is not None and rn >= 1500000,
        f"{ratio(rn, r_redis1)} Redis 1 client (always); request p50 {fmt(result('never_1c', 'p50_us'), ' µs')}")
    lp50 = result("always_lat", "p50_us")
    lp99 = result("always_lat", "p99_us")
    row("single-record produce latency p50, flush always", fmt(lp50, " µs"),
        f"<= 1.3 x fio fdatasync p50 = {fmt(sync4k_p50 * 1.3 if sync4k_p50 else None, ' µs')}",
        lp50 is not None and sync4k_p50 is not None and lp50 <= 1.3 * sync4k_p50,
        f"{ratio(lp50, sync4k_p50)} fio p50; {ratio(lp50, app4k_p50)} fio append p50; "
        f"{ratio(lp50 / 1000 if lp50 else None, redis('xadd_p1', 1, 'p50_ms'))} Redis -P 1 p50")
    row("single-record produce latency p99, flush always", fmt(lp99, " µs"),
        f"<= 2 x fio fdatasync p50 = {fmt(sync4k_p50 * 2 if sync4k_p50 else None, ' µs')}",
        lp99 is not None and sync4k_p50 is not None and lp99 <= 2 * sync4k_p50,
        f"{ratio(lp99, sync4k_p50)} fio p50; {ratio(lp99, sync4k_p99)} fio p99; "
        f"{ratio(lp99 / 1000 if lp99 else None, redis('xadd_p1', 1, 'p99_ms'))} Redis -P 1 p99")
    fr = result("fetch_drain", "rec_per_s")
    row("fetch 2,000,000 records from 0, max_bytes 1 MiB", fmt(fr, " rec/s"), ">= 2,000,000 rec/s",
        fr is not None and fr >= 2000000, f"per fetch p50 {fmt(result('fetch_drain', 'p50_us'), ' µs')}")
    f0, f1, f2 = result_at(0, "p50_us"), result_at(1000000, "p50_us"), result_at(1999000, "p50_us")
    n0, n1, n2 = result_at(0, "records_per_fetch"), result_at(1000000, "records_per_fetch"), result_at(1999000, "records_per_fetch")
    same = None
    if f0 and f1 and f2 and n0 and n1 and n2:
        per = [f0 / n0, f1 / n1, f2 / n2]
        same = max(f1, f2) <= 1.5 * f0 and max(per) <= 1.5 * min(per[:2])
    row("one fetch at offsets 0 / 1,000,000 / 1,999,000 (p50)",
        f"{fmt(f0, ' µs')} / {fmt(f1, ' µs')} / {fmt(f2, ' µs')} ({fmt(n0)} / {fmt(n1)} / {fmt(n2)} records)",
        "same cost at every offset (<= 1.5 x the cost at 0)", same,
        f"the fetch at 1,999,000 returns only the records left ({fmt(n2)})")
    for pol in ("always", "never"):
        a = result(f"mixed_{pol}_alone", "p99_us")
        c = result(f"mixed_{pol}_consumer", "p99_us")
        row(f"producer p99 beside a consumer draining another partition, flush {pol}",
            f"{fmt(c, ' µs')} vs {fmt(a, ' µs')} alone ({ratio(c, a)})", "<= 2 x without the consumer",
            a is not None and c is not None and c <= 2 * a,
            f"consumer {fmt(result(f'mixed_{pol}_consumer', 'consume_rec_per_s'), ' rec/s')}; producer "
            f"{fmt(result(f'mixed_{pol}_consumer', 'produce_rec_per_s'), ' rec/s')} vs "
            f"{fmt(result(f'mixed_{pol}_alone', 'produce_rec_per_s'), ' rec/s')} alone")
    disk = med(d.get("data_mb") for d in L["DISK"])
    for label in ("after_write", "after_fetch"):
        v = rss(label, "VmRSS_kib")
        row(f"broker RSS with {fmt(disk, ' MB')} over 100 partitions, {label.replace('_', ' ')}",
            fmt(v / 1024 if v else None, " MiB"), "< 64 MiB", v is not None and v < 64 * 1024,
            f"anon {fmt((rss(label, 'RssAnon_kib') or 0) / 1024, ' MiB')}, file {fmt((rss(label, 'RssFile_kib') or 0) / 1024, ' MiB')}, "
            f"peak {fmt((rss(label, 'VmHWM_kib') or 0) / 1024, ' MiB')}")

    out.append("| target | measured (median) | target | result | beside the baselines |")
    out.append("|---|---|---|---|---|")
    out.extend(rows)
    print("\n".join(out))


if __name__ == "__main__":
    main()
