#!/usr/bin/env python3
"""Keeps README.md and docs/*.md true to the code.

Run by CTest (test `check_docs`, label unit) and by hand:

    python3 tests/docs/check_docs.py --repo . \
        --kafka-lite build/release/kafka-lite --rustlog build/release/rustlog

It fails, printing `FILE:LINE: what is wrong` for each finding, when a doc
  1. cites a GoogleTest `Suite.Test` (or `Suite.*`, or a bare test name in
     backticks) that no TEST/TEST_F/TEST_P/TYPED_TEST(_P) in tests/ defines, or
     a qualified name (`PartitionLog::flush`) that the code no longer has;
  2. cites a repository path (`src/...`, `tests/...`, a file name such as
     `segment.h`) that does not exist, or any path outside the repository;
  3. cites a `kafka-lite` or `rustlog` flag that the program's `--help` (for
     rustlog: the subcommand's `--help`) does not list;
  4. names a metric (`rustlog_...`) that a running broker does not export, or
     the broker exports a metric docs/OPERATIONS.md does not describe, or a row
     of OPERATIONS.md's metric tables gives the wrong type or labels.
The broker is a real kafka-lite on 127.0.0.1 with ephemeral ports and a temp
data dir; the script produces and commits a little first, so per-partition and
per-group series exist when it scrapes /metrics.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE_DIRS = ("src", "tests", "bench", "examples", "clients", "scripts", "cmake")
# Top-level folders and files a doc may cite as `folder/...`.
REPO_ROOTS = ("src", "tests", "bench", "examples", "clients", "scripts", "cmake", "docs", ".ci")
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc", ".py", ".sh", ".cmake", ".md", ".toml")


class Findings:
    def __init__(self):
        self.items = []

    def add(self, path, line, msg):
        self.items.append((path, line, msg))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def doc_files(repo):
    files = [os.path.join(repo, "README.md")]
    files += sorted(glob.glob(os.path.join(repo, "docs", "*.md")))
    return [f for f in files if os.path.exists(f)]


def repo_files(repo):
    """Every file and directory of the repository (relative paths), build output excluded."""
    out = set()
    for root, dirs, files in os.walk(repo):
        rel = os.path.relpath(root, repo)
        dirs[:] = [d for d in dirs if not (rel == "." and (d == "build" or d == ".git"))
                   and d not in ("__pycache__", "node_modules")]
        if rel != ".":
            out.add(rel)
        for f in files:
            out.add(os.path.normpath(os.path.join(rel, f)))
    return out


# ---------------------------------------------------------------- 1. tests

TEST_RE = re.compile(r"\b(?:TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")
INSTANTIATE_RE = re.compile(r"\bINSTANTIATE_(?:TYPED_)?TEST_SUITE_P\s*\(\s*(\w+)\s*,\s*(\w+)")


def collect_tests(repo):
    tests, suites, names = set(), set(), set()
    prefixes = {}
    for path in glob.glob(os.path.join(repo, "tests", "**", "*.cpp"), recursive=True):
        text = read(path)
        for suite, name in TEST_RE.findall(text):
            tests.add((suite, name))
            suites.add(suite)
            names.add(name)
        for prefix, suite in INSTANTIATE_RE.findall(text):
            prefixes.setdefault(suite, set()).add(prefix)
    # A parameterized test also runs as Prefix/Suite.Name (with a /N suffix).
    for suite, plist in prefixes.items():
        for p in plist:
            suites.add(p + "/" + suite)
            for s, n in list(tests):
                if s == suite:
                    tests.add((p + "/" + suite, n))
    return tests, suites, names


def collect_words(repo):
    """Every identifier that appears in the code (to tell a stale bare test name from a type)."""
    words = set()
    for d in SOURCE_DIRS:
        for path in glob.glob(os.path.join(repo, d, "**", "*"), recursive=True):
            if os.path.isfile(path) and path.endswith(SOURCE_EXT + (".txt",)):
                try:
                    words.update(re.findall(r"[A-Za-z_]\w*", read(path)))
                except UnicodeDecodeError:
                    pass
    return words


SUITE_TEST_RE = re.compile(r"(?<![\w.:/])((?:\w+/)?[A-Z]\w*)\.([A-Z]\w*|\*(?!\*))(?![\w(*])")
CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")
BARE_TEST_RE = re.compile(r"^[A-Z][a-z]+(?:[A-Z0-9][a-z0-9]*){3,}$")


def check_tests(findings, rel, lines, tests, suites, names, words):
    for no, line in enumerate(lines, 1):
        for m in SUITE_TEST_RE.finditer(line):
            suite, name = m.group(1), m.group(2)
            if (suite, name) == ("Suite", "Test"):
                continue  # the notation itself
            if name == "*":
                if suite not in suites:
                    findings.add(rel, no, f"`{suite}.*`: no test suite {suite} in tests/")
            elif (suite, name) not in tests:
                hint = ""
                if suite not in suites:
                    hint = f" (no suite {suite} in tests/)"
                elif name in names:
                    hint = f" ({name} exists, in another suite)"
                findings.add(rel, no, f"`{suite}.{name}` is not a test in tests/{hint}")
        # A bare CamelCase name in backticks that reads like a test (four or more
        # words) must be a test name or at least a name in the code.
        for span in CODE_SPAN_RE.findall(line):
            if BARE_TEST_RE.match(span) and span not in names and span not in words:
                findings.add(rel, no, f"`{span}` is neither a test in tests/ nor a name in the code")


QUALIFIED_RE = re.compile(r"\b((?:[A-Za-z_]\w*::)+[A-Za-z_]\w*)")
FOREIGN_NAMESPACES = {"std", "httplib", "toml", "nlohmann", "spdlog", "fmt", "CLI", "testing"}


def check_identifiers(findings, rel, lines, words):
    """A qualified name in backticks (`PartitionLog::flush`, `metrics::HttpServer`) must
    still name something in the code: a renamed function leaves the doc behind."""
    for no, line in enumerate(lines, 1):
        for span in CODE_SPAN_RE.findall(line):
            for tok in QUALIFIED_RE.findall(span):
                parts = tok.split("::")
                if parts[0] in FOREIGN_NAMESPACES:
                    continue
                missing = [x for x in parts if x not in words]
                if missing:
                    findings.add(rel, no, f"`{tok}`: no `{missing[0]}` in the code")


# ---------------------------------------------------------------- 2. paths

PATH_RE = re.compile(
    r"(?<![\w./<>$~-])((?:\.\./|/work/|/)?(?:" + "|".join(re.escape(r) for r in REPO_ROOTS)
    + r")/[\w.*/-]*[\w*/])")
FILE_RE = re.compile(r"^[\w.-]+\.(?:h|hpp|cpp|cc|py|sh|cmake)$")
OUTSIDE_RE = re.compile(r"(?<![\w.])(\.\./[\w./-]+|/work/[\w./-]+|wire-v0\.md)")


def path_exists(repo, files, p):
    p = p.rstrip("/")
    if any(ch in p for ch in "*?["):
        return bool(glob.glob(os.path.join(repo, p)))
    return os.path.normpath(p) in files


def check_paths(findings, rel, lines, repo, files, basenames):
    in_fence = False
    for no, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        for m in OUTSIDE_RE.finditer(line):
            findings.add(rel, no, f"`{m.group(1)}` is outside the repository: docs speak of the project alone")
        for m in PATH_RE.finditer(line):
            p = m.group(1)
            if p.startswith(("../", "/")):
                continue  # reported above, or an absolute path of the machine
            if "<" in p or "…" in p or "..." in p:
                continue  # a pattern such as tests/unit/<file>_test.cpp
            # "h.cpp/.h" style pairs: `record_batch.h/.cpp` is cited as one token.
            p = re.sub(r"/\.(?:h|cpp)$", "", p)
            if not path_exists(repo, files, p) and not path_exists(repo, files, "src/" + p):
                findings.add(rel, no, f"path `{p}` does not exist in the repository")
        for span in CODE_SPAN_RE.findall(line):
            for tok in re.split(r"[\s,()]+", span):
                tok = tok.strip("`'\"")
                # `record_batch.h/.cpp`, `segment_index.h/.cpp`: both halves must exist.
                pair = re.match(r"^([\w.-]+)\.h/\.cpp$", tok)
                candidates = [pair.group(1) + ".h", pair.group(1) + ".cpp"] if pair else [tok]
                for c in candidates:
                    if FILE_RE.match(c) and "/" not in c and c not in basenames:
                        findings.add(rel, no, f"file `{c}` does not exist anywhere in the repository")


# ---------------------------------------------------------------- 3. flags

FLAG_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
OUR_PROGRAMS = ("kafka-lite", "rustlog")
# Words after which a flag belongs to some other program: the check leaves those alone.
OTHER_PROGRAM_RE = re.compile(
    r"(?:^|[\s`/(])(rustlog-load|storage_bench|fio|redis-benchmark|redis-server|cmake|ctest|ninja|"
    r"git|curl|promtool|valgrind|nice|strace|perf|python3|pip|pytest|apt-get|clang\+\+|g\+\+|"
    r"Redis|callgrind|bench/[\w./-]*|[\w./-]+\.sh|[\w./-]+_bench|[\w./-]+_test|[\w./-]+\.py|fuzz_\w+)"
    r"(?=$|[\s`),:;.])")
OUR_PROGRAM_RE = re.compile(r"(?:^|[\s`/(])(kafka-lite|rustlog)(?=$|[\s`),:;])")


OPTION_LINE_RE = re.compile(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)")


def help_text(cmd):
    out = subprocess.run(cmd + ["--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} --help exited {out.returncode}: {out.stdout}")
    return out.stdout


def options_of(text):
    """The options a CLI11 help text defines (its option lines, not its examples)."""
    return {m.group(1) for m in map(OPTION_LINE_RE.match, text.splitlines()) if m}


def collect_flags(kafka_lite, rustlog):
    """{program path tuple: set of flags}; ("rustlog", "topic", "create") for subcommands."""
    flags = {("kafka-lite",): options_of(help_text([kafka_lite]))}

    def walk(path, argv):
        text = help_text(argv)
        flags[path] = options_of(text)
        for sub in subcommands(text):
            walk(path + (sub,), argv + [sub])

    walk(("rustlog",), [rustlog])
    return flags


def subcommands(text):
    """The subcommands a CLI11 help text lists: the entries of its sections whose title
    speaks of commands or tools ("Broker commands:", "SUBCOMMANDS:", ...)."""
    subs, in_section = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            title = line.strip().lower()
            in_section = title.endswith(":") and ("command" in title or "tool" in title)
            continue
        if in_section:
            m = re.match(r"^  ([a-z][\w-]*)\s{2,}", line)
            if m:
                subs.append(m.group(1))
    return subs


def program_of(segment, flags):
    """The program path whose flag the last flag of `segment` is, or None for another program.

    `segment` is the text from the start of the command (code span, code-block line or
    table cell) up to the flag. Returns ("any",) when no program is named at all."""
    last_other = None
    for m in OTHER_PROGRAM_RE.finditer(segment):
        last_other = m.start(1)
    last_ours, prog = None, None
    for m in OUR_PROGRAM_RE.finditer(segment):
        last_ours, prog = m.start(1), m.group(1)
    if last_ours is None and last_other is None:
        return ("any",)
    if last_ours is None or (last_other is not None and last_other > last_ours):
        return None
    if prog == "kafka-lite":
        return ("kafka-lite",)
    words = re.findall(r"[\w-]+", segment[last_ours + len("rustlog"):])
    path = ("rustlog",)
    for w in words:
        if path + (w,) in flags:
            path = path + (w,)
        elif w.startswith("-"):
            break
    return path


def check_flags(findings, rel, lines, flags):
    """Each flag is checked against the program it belongs to: the last program named
    before it in its command (a code-block line, with `\\` continuations joined, or a code
    span). A flag alone in a span belongs to the last program the paragraph names before
    it; when the paragraph names none it must be a kafka-lite or rustlog flag."""
    union = set().union(*flags.values())
    in_fence = False
    paragraph_start = 0
    for no, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            paragraph_start = no
            continue
        if not line.strip():
            paragraph_start = no
            continue
        if in_fence:
            command, i = line, no - 2
            while i >= 0 and lines[i].rstrip().endswith("\\") and not lines[i].lstrip().startswith("```"):
                command = lines[i].rstrip()[:-1] + " " + command
                i -= 1
            units = [(command, None)]
        else:
            units = [(m.group(1), m.start()) for m in CODE_SPAN_RE.finditer(line)]
        for unit, pos in units:
            for m in FLAG_RE.finditer(unit):
                flag = m.group(1)
                prog = program_of(unit[:m.start()], flags)
                if prog == ("any",) and pos is not None:
                    before = "\n".join(lines[paragraph_start:no - 1] + [line[:pos]])
                    prog = program_of(before, flags)
                    if prog is not None and prog[0] == "rustlog":
                        # `consume --group` in a paragraph about rustlog: the span names the subcommand.
                        path = ("rustlog",)
                        for w in re.findall(r"[\w-]+", unit[:m.start()]):
                            if path + (w,) not in flags:
                                break
                            path = path + (w,)
                        prog = path if len(path) > 1 else prog
                if prog is None:
                    continue  # another program's flag
                if prog == ("any",):
                    if flag not in union:
                        findings.add(rel, no, f"flag `{flag}` is in neither `kafka-lite --help` "
                                              "nor any `rustlog ... --help`")
                    continue
                known = flags.get(prog, set())
                if flag not in known:
                    findings.add(rel, no, f"flag `{flag}` is not in `{' '.join(prog)} --help`")


# ---------------------------------------------------------------- 4. metrics

METRIC_RE = re.compile(r"(?<![\w])(rustlog_[a-z0-9_]+)")
TYPE_LINE_RE = re.compile(r"^# TYPE (\S+) (\S+)$")
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s")


def die_with_parent():
    """The broker gets SIGKILL if this script dies (a CTest timeout, Ctrl-C)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def run_broker_and_scrape(kafka_lite, rustlog):
    tmp = tempfile.mkdtemp(prefix="check-docs-")
    proc = None
    try:
        port_file = os.path.join(tmp, "port")
        metrics_port_file = os.path.join(tmp, "metrics-port")
        log = open(os.path.join(tmp, "broker.log"), "w")
        proc = subprocess.Popen(
            [kafka_lite, "--data-dir", os.path.join(tmp, "data"), "--listen", "127.0.0.1:0",
             "--port-file", port_file, "--metrics-listen", "127.0.0.1:0",
             "--metrics-port-file", metrics_port_file],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while not (os.path.exists(port_file) and os.path.getsize(port_file) > 0):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("kafka-lite did not start:\n" + read(os.path.join(tmp, "broker.log")))
            time.sleep(0.05)
        port = read(port_file).strip()
        mport = read(metrics_port_file).strip()
        env = dict(os.environ, RUSTLOG_BROKER="127.0.0.1:" + port)

        def cli(*args, stdin=None):
            r = subprocess.run([rustlog, *args], input=stdin, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"rustlog {' '.join(args)} failed: {r.stdout}")
            return r.stdout

        cli("topic", "create", "docs-check", "--partitions", "2")
        cli("produce", "docs-check", stdin="a\nb\nc\n")
        cli("consume", "docs-check", "--group", "docs-check", "--count", "2")
        # Per-partition and per-group series come from a snapshot published at most
        # every 100 ms while busy (1 s idle): poll until the group's series is there.
        url = f"http://127.0.0.1:{mport}/metrics"
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(url, timeout=10) as resp:
                text = resp.read().decode("utf-8")
                ctype = resp.headers.get("Content-Type", "")
            if 'rustlog_consumer_lag{group="docs-check"' in text or time.monotonic() > deadline:
                return text, ctype
            time.sleep(0.1)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def parse_exposition(text):
    """{family: (type, set of label-name tuples seen)}"""
    families = {}
    for line in text.splitlines():
        m = TYPE_LINE_RE.match(line)
        if m:
            families[m.group(1)] = (m.group(2), set())
            continue
        if line.startswith("#") or not line.strip():
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        name, labels = m.group(1), m.group(2) or ""
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in families:
                fam = name[: -len(suffix)]
        if fam in families:
            keys = tuple(sorted(k for k in re.findall(r'(\w+)="', labels) if k != "le"))
            families[fam][1].add(keys)
    return families


def metric_family(name, families):
    if name in families:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return None


def cmake_targets(repo):
    names = set()
    for path in glob.glob(os.path.join(repo, "**", "CMakeLists.txt"), recursive=True) + \
            glob.glob(os.path.join(repo, "cmake", "*.cmake")):
        if "/build/" in path:
            continue
        names.update(re.findall(r"\b(rustlog_\w+)", read(path)))
    return names


def check_metrics(findings, docs, families, ctype, targets, repo):
    ops = os.path.join("docs", "OPERATIONS.md")
    cited_in_ops = set()
    for rel, lines in docs:
        for no, line in enumerate(lines, 1):
            for m in METRIC_RE.finditer(line):
                name = m.group(1)
                fam = metric_family(name, families)
                if fam is None and (name in targets or name.endswith("_")):
                    continue  # a CMake target or file name (rustlog_storage, rustlog_cli_test), a prefix
                if fam is None:
                    findings.add(rel, no, f"metric `{name}` is not exported by a running kafka-lite (GET /metrics)")
                elif rel == ops:
                    cited_in_ops.add(fam)
            if rel == ops:
                check_metric_row(findings, rel, no, line, families)
                if "Content-Type:" in line:
                    m = re.search(r"Content-Type: ([^`]+)`", line)
                    if m and m.group(1).strip() != ctype.strip():
                        findings.add(rel, no, f"Content-Type is `{ctype}`, the doc says `{m.group(1)}`")
    for fam in sorted(families):
        if fam not in cited_in_ops:
            findings.add(ops, 1, f"kafka-lite exports `{fam}` but docs/OPERATIONS.md does not describe it")


def check_metric_row(findings, rel, no, line, families):
    """A metrics-reference row: | `name` | type | labels | meaning |"""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) < 4 or not re.fullmatch(r"`rustlog_\w+`", cells[0]):
        return
    name = cells[0].strip("`")
    if name not in families:
        return  # reported as not exported
    typ, label_sets = families[name]
    if cells[1] != typ:
        findings.add(rel, no, f"`{name}` is a {typ}, the table says {cells[1]}")
    doc_labels = tuple(sorted(re.findall(r"`(\w+)`", cells[2])))
    if label_sets and doc_labels not in label_sets:
        seen = " or ".join(", ".join(s) or "(none)" for s in sorted(label_sets))
        findings.add(rel, no, f"`{name}` has labels {seen}, the table says {', '.join(doc_labels) or '(none)'}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="repository root")
    ap.add_argument("--kafka-lite", required=True, help="path of the built kafka-lite")
    ap.add_argument("--rustlog", required=True, help="path of the built rustlog")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)

    findings = Findings()
    files = repo_files(repo)
    basenames = {os.path.basename(f) for f in files}
    tests, suites, names = collect_tests(repo)
    words = collect_words(repo)
    flags = collect_flags(args.kafka_lite, args.rustlog)
    text, ctype = run_broker_and_scrape(args.kafka_lite, args.rustlog)
    families = parse_exposition(text)
    # rustlog_* words that are not metrics: CMake targets and file names.
    targets = cmake_targets(repo) | {os.path.splitext(b)[0] for b in basenames if b.startswith("rustlog_")}

    docs = []
    for path in doc_files(repo):
        rel = os.path.relpath(path, repo)
        lines = read(path).splitlines()
        docs.append((rel, lines))
        check_tests(findings, rel, lines, tests, suites, names, words)
        check_identifiers(findings, rel, lines, words)
        check_paths(findings, rel, lines, repo, files, basenames)
        check_flags(findings, rel, lines, flags)
    check_metrics(findings, docs, families, ctype, targets, repo)

    for path, line, msg in findings.items:
        print(f"{path}:{line}: {msg}")
    if findings.items:
        print(f"\n{len(findings.items)} finding(s): fix the doc (or the code) so they agree.")
        return 1
    print(f"docs check: {len(docs)} files; {len(tests)} tests, {sum(len(v) for v in flags.values())} flags, "
          f"{len(families)} metric families known; no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
