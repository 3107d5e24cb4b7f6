"""Run the okx-trio bench in one go: ``python bench/run.py [--quick | --long] [--only ...]``.

Starts the bench exchange (``bench/server.py``) as a separate process on loopback, with a
``trustme`` certificate for ``wss://``, then runs every measurement in a fresh client process
(``bench/clients.py``) and writes ``bench/results/<date>.json`` (raw figures, machine, versions)
and ``bench/results/<date>.md`` (the table: figure, ratio or target, pass/miss), and prints
the table.

Sections (``--only`` takes a comma-separated subset):

* ``throughput`` - tickers msgs/s of (raw) the socket alone, (a) bare trio-websocket + json,
  (a0) and (a0-ws) the receive-only floor of each transport (okx_trio's own connector,
  messages received and dropped: no decoding), (b) the okx_trio client, (c) the same on
  ``transport="websockets"``, (c-wss) that over TLS, (d) python-okx's ``WsPublicAsync`` (TLS:
  it cannot do ``ws://``); medians over alternating rounds, ratios computed round by round;
* ``channels`` - records/s of ``client.stream(channel)`` to a ``receive_batch`` consumer for
  ``tickers``, ``trades`` and 400-level ``books`` floods, each beside its transports' floors,
  and the peers for trades and books: cryptofeed's OKX feed (``wss://``: it refuses
  ``ws://``) and ccxt.pro's ``okx.watch_*`` (``ws://``);
* ``books`` - the book micro bench (``bench/book_micro.py``: engine vs the reference
  structures and cryptofeed's C book, top-5 at depth 25 and 400, from-text handlers against
  cryptofeed's OKX handler) and client CPU at 50 books x 10 updates/s;
* ``cpu`` - client CPU for 500 pairs x 10 updates/s (5,000 msgs/s);
* ``subchange`` - 100 pairs added to a live connection until acked and each has ticked;
* ``reconnect`` - the server drops the connection, until 100 pairs are subscribed and ticking;
* ``memory`` - RSS over the imports with 1, 100, 1,000 pairs and 1,000 subscriptions of mixed
  channels; growth over a soak (10 minutes with ``--long``, else a short window, labelled as
  such);
* ``pyinstrument`` (only when named in ``--only``) - pyinstrument over the client at 500 pairs x
  10/s, written next to the results.

Requirements: ``pip install -e '.[bench]'`` (websockets, python-okx, trustme, pyinstrument,
sortedcontainers, order-book, ccxt). Variant (d) is skipped, with a note, when ``python-okx``
is not importable; a peer that is not importable is skipped with a note. cryptofeed 3 needs
Python >= 3.13, so its rows and the book micro bench run in ``bench/.venv-peers`` when it
exists (``python3.13 -m venv bench/.venv-peers && bench/.venv-peers/bin/pip install
'cryptofeed>=3' sortedcontainers -e .``), else in this Python (whatever cryptofeed it has).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
MiB = 1024 * 1024

SECTIONS = ("throughput", "channels", "books", "cpu", "subchange", "reconnect", "memory")
OPTIONAL = ("pyinstrument",)
VARIANTS = ("raw", "a", "a0", "a0-ws", "b", "c", "c-wss", "d")
LABELS = {
    "raw": "server delivery (socket reads only)",
    "a": "(a) bare trio-websocket + json",
    "a0": "(a0) receive-only floor, trio-websocket",
    "a0-ws": "(a0-ws) receive-only floor, websockets",
    "b": "(b) okx_trio, default transport",
    "c": "(c) okx_trio, websockets transport",
    "c-wss": "(c) okx_trio, websockets transport, wss://",
    "d": "(d) python-okx WsPublicAsync, wss://",
    "cryptofeed": "cryptofeed OKX feed, wss://",
    "ccxt": "ccxt.pro okx.watch_*, ws://",
}
CHANNELS = ("tickers", "trades", "books")
CHANNEL_VARIANTS = ("a0", "a0-ws", "b", "c", "c-wss", "cryptofeed", "ccxt")
#: Peers that run in the peers interpreter (cryptofeed 3 needs Python >= 3.13).
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
SECURE = ("c-wss", "d", "cryptofeed")


class Profile:
    def __init__(self, name: str) -> None:
        self.name = name
        quick = name == "quick"
        self.rounds = 3 if quick else 7
        self.seconds = 1.5 if quick else 4.0
        self.warmup = 0.5 if quick else 1.0
        self.cpu_seconds = 10.0 if quick else 30.0
        self.cpu_variants = ("b",) if quick else ("a", "b", "c")
        self.trials = 3 if quick else 7
        self.out = RESULTS  # where results (and the profile) go: --out
        self.memory_pairs = (1, 100, 1000)
        self.channel_rounds = 2 if quick else 5
        self.micro_repeats = 3 if quick else 9
        self.micro_updates = 300 if quick else 500
        self.book_cpu_variants = ("b",) if quick else ("b", "c")
        self.soak = 30.0 if quick else 120.0
        if name == "long":
            self.soak = 600.0


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        mem = f"{int(first.split()[1]) / MiB:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    versions: dict[str, str | None] = {}
    for dist in (
        "trio",
        "trio-websocket",
        "wsproto",
        "websockets",
        "msgspec",
        "python-okx",
        "ccxt",
        "cryptofeed",
        "order-book",
        "sortedcontainers",
    ):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "load_average_at_start": os.getloadavg(),
        "versions": versions,
        "peers_python": _peers_python_version(),
    }


def peers_python() -> str:
    return str(PEERS_PYTHON) if PEERS_PYTHON.exists() else sys.executable


def _peers_python_version() -> dict[str, str] | None:
    if not PEERS_PYTHON.exists():
        return None
    code = (
        "import importlib.metadata as m, platform, json; v = {}\n"
        "for d in ('cryptofeed', 'order-book', 'sortedcontainers'):\n"
        "    try: v[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: v[d] = None\n"
        "v['python'] = platform.python_version(); print(json.dumps(v))"
    )
    try:
        out = subprocess.run(
            [str(PEERS_PYTHON), "-c", code], capture_output=True, text=True, timeout=60
        )
        parsed: dict[str, str] = json.loads(out.stdout)
        return parsed
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


@contextmanager
def bench_server() -> Iterator[dict[str, str]]:
    """The bench exchange in its own process, with a trustme CA trusted via SSL_CERT_FILE."""
    import trustme

    with tempfile.TemporaryDirectory(prefix="okx-bench-") as tmp:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca_file, cert_file = Path(tmp, "ca.pem"), Path(tmp, "server.pem")
        ca.cert_pem.write_to_path(str(ca_file))
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "server.py"),
                *("--tls-cert", str(cert_file), "--tls-key", str(cert_file)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            urls = json.loads(proc.stdout.readline())
            urls["ca_file"] = str(ca_file)
            urls["control"] = urls["ws"].split("/ws/")[0].replace("ws://", "http://")
            yield urls
        finally:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def client(
    scenario: str,
    *args: str,
    ca_file: str | None = None,
    timeout: float = 900,
    python: str | None = None,
) -> Any:
    """Run one measurement in a fresh process and return its JSON result (or an error)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if ca_file:
        env["SSL_CERT_FILE"] = ca_file  # python-okx and cryptofeed build default contexts
    cmd = [python or sys.executable, str(HERE / "clients.py"), scenario, *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout}s: {' '.join(cmd)}"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def have_python_okx() -> bool:
    try:
        importlib.metadata.version("python-okx")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def have_peer(name: str) -> bool:
    """Whether the peer's package imports in the interpreter it would run in."""
    python = peers_python() if name == "cryptofeed" else sys.executable
    # bench/peers.py drives cryptofeed 3's FeedHandler.run_async (2.x has no such method).
    code = {
        "cryptofeed": "from cryptofeed import FeedHandler; FeedHandler.run_async",
        "ccxt": "import ccxt.pro",
    }[name]
    done = subprocess.run([python, "-c", code], capture_output=True, timeout=120)
    return done.returncode == 0


# -- sections ----------------------------------------------------------------------------------


def run_throughput(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    variants = [v for v in VARIANTS if v != "d" or have_python_okx()]
    rounds: list[dict[str, float]] = []
    raw: dict[str, list[Any]] = {v: [] for v in variants}
    for r in range(p.rounds):
        order = variants if r % 2 == 0 else list(reversed(variants))
        this: dict[str, float] = {}
        for v in order:
            secure = v in SECURE
            result = client(
                "throughput",
                "--variant",
                {"c-wss": "c"}.get(v, v),
                "--url",
                urls["wss"] if secure else urls["ws"],
                "--seconds",
                str(p.seconds),
                "--warmup",
                str(p.warmup),
                ca_file=urls["ca_file"] if secure else None,
            )
            raw[v].append(result)
            if "rate" in result:
                this[v] = result["rate"]
            log(f"  round {r + 1}/{p.rounds} {v:6} {result.get('rate', result.get('error'))}")
        rounds.append(this)
    summary: dict[str, Any] = {}
    for v in variants:
        rates = [rd[v] for rd in rounds if v in rd]
        ratios = [rd[v] / rd["a"] for rd in rounds if v in rd and "a" in rd]
        cpu = [x["us_per_msg"] for x in raw[v] if x.get("us_per_msg")]
        summary[v] = {
            "median": statistics.median(rates) if rates else None,
            "rates": rates,
            "ratio_to_a": statistics.median(ratios) if ratios else None,
            "ratios_to_a": ratios,
            "us_per_msg": statistics.median(cpu) if cpu else None,
        }
    c_over_d = [rd["c"] / rd["d"] for rd in rounds if "c" in rd and "d" in rd]
    cw_over_d = [rd["c-wss"] / rd["d"] for rd in rounds if "c-wss" in rd and "d" in rd]
    summary["c_over_d"] = statistics.median(c_over_d) if c_over_d else None
    summary["c_wss_over_d"] = statistics.median(cw_over_d) if cw_over_d else None
    summary["floor_ratios"] = floor_ratios(rounds)
    return {"summary": summary, "rounds": rounds, "raw": raw}


def floor_ratios(rounds: list[dict[str, float]]) -> dict[str, float | None]:
    """The full client over its transport's receive-only floor, medians of per-round ratios."""
    out: dict[str, float | None] = {}
    for client_v, floor in (("b", "a0"), ("c", "a0-ws")):
        ratios = [rd[client_v] / rd[floor] for rd in rounds if client_v in rd and rd.get(floor)]
        out[f"{client_v}_over_{floor}"] = statistics.median(ratios) if ratios else None
    return out


def run_channels(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    """Records/s per channel: floors, the client on both transports, the peers."""
    peers = {name: have_peer(name) for name in ("cryptofeed", "ccxt")}
    why = {
        "cryptofeed": "cryptofeed 3 not importable (it needs Python >= 3.13: make "
        "bench/.venv-peers, see the module docstring)",
        "ccxt": "ccxt.pro not importable (pip install ccxt)",
    }
    notes = [f"{why[name]}: skipped" for name, ok in peers.items() if not ok]
    out: dict[str, Any] = {"notes": notes, "channels": {}}
    for channel in CHANNELS:
        variants = [
            v
            for v in CHANNEL_VARIANTS
            if peers.get(v, True) and not (v in peers and channel == "tickers")
        ]
        rounds: list[dict[str, float]] = []
        raw: dict[str, list[Any]] = {v: [] for v in variants}
        for r in range(p.channel_rounds):
            order = variants if r % 2 == 0 else list(reversed(variants))
            this: dict[str, float] = {}
            for v in order:
                secure = v in SECURE
                result = client(
                    "throughput",
                    *("--variant", {"c-wss": "c"}.get(v, v)),
                    *("--channel", channel),
                    *("--url", urls["wss"] if secure else urls["ws"]),
                    *("--seconds", str(p.seconds), "--warmup", str(p.warmup)),
                    ca_file=urls["ca_file"] if secure else None,
                    python=peers_python() if v == "cryptofeed" else None,
                )
                raw[v].append(result)
                if result.get("rate"):
                    this[v] = result["rate"]
                log(
                    f"  {channel} round {r + 1}/{p.channel_rounds} {v:10} "
                    f"{result.get('rate', result.get('error'))}"
                )
            rounds.append(this)
        summary: dict[str, Any] = {}
        for v in variants:
            rates = [rd[v] for rd in rounds if v in rd]
            cpu = [x["us_per_msg"] for x in raw[v] if x.get("us_per_msg")]
            peer = next((x["peer"] for x in raw[v] if x.get("peer")), None)
            errors = [x["error"] for x in raw[v] if "error" in x]
            summary[v] = {
                "median": statistics.median(rates) if rates else None,
                "rates": rates,
                "us_per_record": statistics.median(cpu) if cpu else None,
                "peer": peer,
                "errors": errors[:1],
            }
        summary["floor_ratios"] = floor_ratios(rounds)
        for peer_v, ours in (("cryptofeed", "c-wss"), ("ccxt", "c")):
            ratios = [rd[ours] / rd[peer_v] for rd in rounds if rd.get(ours) and rd.get(peer_v)]
            summary[f"{ours}_over_{peer_v}"] = statistics.median(ratios) if ratios else None
        book_reads = [x for x in raw.get("b", []) if "book_method" in x]
        if book_reads:
            summary["book_method"] = book_reads[0]["book_method"]
        out["channels"][channel] = {"summary": summary, "rounds": rounds, "raw": raw}
    return out


def run_books(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    """The book micro bench (in the peers interpreter when there is one) and book CPU."""
    out: dict[str, Any] = {}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [
        peers_python(),
        str(HERE / "book_micro.py"),
        "--json",
        *("--repeats", str(p.micro_repeats), "--updates", str(p.micro_updates)),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode == 0 and lines:
            out["micro"] = json.loads(lines[-1])
        else:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            out["micro"] = {"error": f"exit {done.returncode}: {tail}"}
    except subprocess.TimeoutExpired:
        out["micro"] = {"error": "book_micro timed out"}
    log(f"  micro: {out['micro'].get('handlers', out['micro'].get('error'))}")
    out["cpu"] = {}
    for v in p.book_cpu_variants:
        result = client(
            "cpu",
            *("--variant", v, "--channel", "books", "--url", urls["ws"]),
            *("--pairs", "50", "--hz", "10"),
            *("--seconds", str(p.cpu_seconds), "--warmup", "2"),
        )
        log(f"  books cpu {v}: {result.get('cpu_pct', result.get('error'))}")
        out["cpu"][v] = result
    return out


def run_profile(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    """pyinstrument over the client at 500 pairs x 10/s (tickers), default transport."""
    p.out.mkdir(parents=True, exist_ok=True)
    target = p.out / f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M}-profile-cpu-b.txt"
    result = client(
        "cpu",
        *("--variant", "b", "--url", urls["ws"], "--pairs", "500", "--hz", "10"),
        *("--seconds", str(p.cpu_seconds), "--warmup", "2", "--profile", str(target)),
    )
    result["profile_file"] = (
        str(target.relative_to(ROOT)) if target.is_relative_to(ROOT) else str(target)
    )
    log(f"  profile: {result.get('cpu_pct', result.get('error'))} -> {target}")
    return result


def run_cpu(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in p.cpu_variants:
        result = client(
            "cpu",
            "--variant",
            v,
            "--url",
            urls["ws"],
            "--pairs",
            "500",
            "--hz",
            "10",
            "--seconds",
            str(p.cpu_seconds),
            "--warmup",
            "2",
        )
        log(f"  cpu {v}: {result.get('cpu_pct', result.get('error'))}")
        out[v] = result
    return out


def run_subchange(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for transport in ("trio-websocket", "websockets"):
        result = client(
            "subchange",
            "--url",
            urls["ws"],
            "--transport",
            transport,
            "--trials",
            str(p.trials),
            timeout=300,
        )
        log(f"  subchange {transport}: {result.get('median', result.get('error'))}")
        out[transport] = result
    return out


def run_reconnect(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for transport in ("trio-websocket", "websockets"):
        result = client(
            "reconnect",
            "--url",
            urls["ws"],
            "--control",
            urls["control"],
            "--transport",
            transport,
            "--trials",
            str(p.trials),
            timeout=300,
        )
        log(f"  reconnect {transport}: {result.get('median', result.get('error'))}")
        out[transport] = result
    return out


def run_memory(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"levels": {}}
    for n in p.memory_pairs:
        result = client("memory", "--url", urls["ws"], "--pairs", str(n), "--hz", "1")
        log(f"  memory {n} pairs: {result.get('delta', result.get('error'))}")
        out["levels"][str(n)] = result
    result = client("memory", "--url", urls["ws"], "--pairs", "1000", "--hz", "1", "--mix")
    log(f"  memory 1000 mixed: {result.get('delta', result.get('error'))}")
    out["mixed"] = result
    result = client(
        "memory",
        "--url",
        urls["ws"],
        "--pairs",
        "100",
        "--hz",
        "10",
        "--soak",
        str(p.soak),
        "--sample-every",
        str(max(1.0, p.soak / 60)),
        timeout=p.soak + 300,
    )
    log(f"  memory soak {p.soak:g}s: {result.get('growth', result.get('error'))}")
    out["soak"] = result
    return out


RUNNERS = {
    "throughput": run_throughput,
    "channels": run_channels,
    "books": run_books,
    "pyinstrument": run_profile,
    "cpu": run_cpu,
    "subchange": run_subchange,
    "reconnect": run_reconnect,
    "memory": run_memory,
}


# -- report ------------------------------------------------------------------------------------


def _fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("pass" if flag else "**miss**")


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Bench run {results['date']} ({results['profile']} profile, `{results['command']}`) on "
        f"{m['cpu']} x{m['cores']} cores, {m['memory']}, Linux {m['kernel']}, "
        f"Python {m['python']}; load average at start {m['load_average_at_start'][0]:.2f}. "
        "Server and client are separate processes on loopback.",
        "",
        "| Measurement | Figure | Ratio / target | Result |",
        "|---|---|---|---|",
    ]
    s = results.get("throughput", {}).get("summary")
    if s:
        for v in VARIANTS:
            if v not in s:
                continue
            row = s[v]
            ratio = row["ratio_to_a"]
            us = f", {row['us_per_msg']:.1f} µs CPU/msg" if row.get("us_per_msg") else ""
            target, verdict = "", "info"
            if v == "b":
                target, verdict = " (target ≥ 2.5)", _ok(ratio is not None and ratio >= 2.5)
            ratio_text = "-" if ratio is None else f"{ratio:.2f} x (a){target}"
            lines.append(
                f"| Throughput {LABELS[v]} | {_fmt_rate(row['median'])} msgs/s{us} "
                f"| {ratio_text} | {verdict} |"
            )
        if s.get("c_over_d") is not None:
            cd = s["c_over_d"]
            lines.append(
                f"| Throughput (c) ws:// vs (d) wss:// | - | {cd:.2f} x (d) (target ≥ 1.2) "
                f"| {_ok(cd >= 1.2)} |"
            )
        if s.get("c_wss_over_d") is not None:
            cd = s["c_wss_over_d"]
            lines.append(
                f"| Throughput (c) wss:// vs (d) wss:// (like for like) | - "
                f"| {cd:.2f} x (d) (target ≥ 1.2) | {_ok(cd >= 1.2)} |"
            )
        lines.extend(_floor_rows("Throughput tickers", s.get("floor_ratios", {})))
    channels = results.get("channels")
    if channels:
        lines.extend(_channel_rows(channels))
    books = results.get("books")
    if books:
        lines.extend(_book_rows(books))
    cpu = results.get("cpu")
    if cpu:
        for v, r in cpu.items():
            if "error" in r:
                lines.append(f"| CPU, variant {v} | error | | **miss** |")
                continue
            target = " (target ≤ 15 %)" if v == "b" else ""
            verdict = _ok(r["cpu_pct"] <= 15.0) if v == "b" else "info"
            lines.append(
                f"| CPU at 500 pairs x 10/s, {LABELS[v]} | {r['cpu_pct']:.1f} % of one core "
                f"({r['rate']:,.0f} msgs/s, {r['us_per_msg']:.0f} µs/msg) "
                f"| {r['cpu_pct']:.1f} %{target} | {verdict} |"
            )
    prof = results.get("pyinstrument")
    if prof and "error" not in prof:
        lines.append(
            f"| Profile, 500 pairs x 10/s, {LABELS['b']} (under pyinstrument) "
            f"| {prof['cpu_pct']:.1f} % of one core | `{prof['profile_file']}` | info |"
        )
    for key, title in (("subchange", "100-pair subscription change"),):
        sub = results.get(key)
        for transport, r in (sub or {}).items():
            if "error" in r:
                lines.append(f"| {title}, {transport} | error | | **miss** |")
                continue
            lines.append(
                f"| {title}, {transport} | median {r['median'] * 1e3:.1f} ms "
                f"(best {r['best'] * 1e3:.1f}; RTT {r['rtt'] * 1e3:.2f} ms) "
                f"| target ≤ {r['target'] * 1e3:.1f} ms | {_ok(r['median'] <= r['target'])} |"
            )
    rec = results.get("reconnect")
    for transport, r in (rec or {}).items():
        if "error" in r:
            lines.append(f"| Reconnect recovery, {transport} | error | | **miss** |")
            continue
        lines.append(
            f"| Reconnect recovery (100 pairs, initial_delay 0), {transport} "
            f"| median {r['median'] * 1e3:.1f} ms (best {r['best'] * 1e3:.1f}) "
            f"| target ≤ {r['target'] * 1e3:.0f} ms | {_ok(r['median'] <= r['target'])} |"
        )
    mem = results.get("memory")
    if mem:
        for n, r in mem["levels"].items():
            if "error" in r:
                lines.append(f"| RSS, {n} pairs | error | | **miss** |")
                continue
            over = r["delta"] / MiB
            target, verdict = "", "info"
            lines.append(
                f"| RSS with {n} pairs (1/s each) | {r['rss_running'] / MiB:.1f} MiB "
                f"(imports {r['rss_imports'] / MiB:.1f} MiB) "
                f"| +{over:.1f} MiB over the imports{target} | {verdict} |"
            )
        r = mem.get("mixed", {})
        if "error" in r:
            lines.append("| RSS, 1,000 mixed subscriptions | error | | **miss** |")
        elif r:
            over = r["delta"] / MiB
            mix = ", ".join(f"{n} {c}" for c, n in r.get("channels", {}).items())
            lines.append(
                f"| RSS with 1,000 subscriptions of mixed channels ({mix}; 1/s each) "
                f"| {r['rss_running'] / MiB:.1f} MiB (imports {r['rss_imports'] / MiB:.1f} MiB) "
                f"| +{over:.1f} MiB over the imports (target ≤ 5 MiB) | {_ok(over <= 5.0)} |"
            )
        r = mem["soak"]
        if "error" in r:
            lines.append("| RSS growth | error | | **miss** |")
        else:
            minutes = r["soak_seconds"] / 60
            label = (
                "10-minute soak"
                if r["soak_seconds"] >= 600
                else (f"SHORT {minutes:.1f}-minute window, not the 10-minute soak (use --long)")
            )
            growth = r["growth"] / MiB
            lines.append(
                f"| RSS growth, 100 pairs x 10/s, {label} "
                f"| {growth:+.2f} MiB (slope {r['slope_bytes_per_min'] / 1024:+.0f} KiB/min "
                f"over the 2nd half; max {r['rss_soak_max'] / MiB:.1f} MiB) "
                f"| target: no growth | {_ok(growth <= 0.5)} |"
            )
    return "\n".join(lines) + "\n"


def _floor_rows(title: str, floors: dict[str, float | None]) -> list[str]:
    rows = []
    for key, label in (("b_over_a0", "(b) over (a0)"), ("c_over_a0-ws", "(c) over (a0-ws)")):
        ratio = floors.get(key)
        if ratio is None:
            continue
        rows.append(
            f"| {title}, {label}: the client against its transport's receive-only floor | - "
            f"| {ratio:.2f} x (target ≥ 0.5) | {_ok(ratio >= 0.5)} |"
        )
    return rows


def _channel_rows(channels: dict[str, Any]) -> list[str]:
    rows = [f"| Note: {note} | | | info |" for note in channels.get("notes", [])]
    for channel, data in channels["channels"].items():
        s = data["summary"]
        unit = "updates" if channel == "books" else "records"
        for v in CHANNEL_VARIANTS:
            row = s.get(v)
            if row is None:
                continue
            if row["median"] is None:
                rows.append(
                    f"| {channel} flood, {LABELS[v]} | error: {(row['errors'] or ['-'])[0][:120]} "
                    f"| | **miss** |"
                )
                continue
            us = f", {row['us_per_record']:.1f} µs CPU each" if row.get("us_per_record") else ""
            label = LABELS[v] if not row.get("peer") else f"{LABELS[v]} ({row['peer']})"
            rows.append(
                f"| {channel} flood, {label} | {row['median']:,.0f} {unit}/s{us} | - | info |"
            )
        rows.extend(_floor_rows(f"{channel} flood", s.get("floor_ratios", {})))
        for peer_v, ours in (("cryptofeed", "c-wss"), ("ccxt", "c")):
            ratio = s.get(f"{ours}_over_{peer_v}")
            if ratio is not None:
                rows.append(
                    f"| {channel} flood, ({ours}) over {peer_v} (same transport security) | - "
                    f"| {ratio:.2f} x | info |"
                )
        if channel == "books" and "book_method" in s:
            how = (
                "client.book() read every 100 updates"
                if s["book_method"]
                else "no client.book() on this client: decoded updates only"
            )
            rows.append(f"| books flood: what the client did | {how} | | info |")
    return rows


def _book_rows(books: dict[str, Any]) -> list[str]:
    rows: list[str] = []
    micro = books.get("micro", {})
    if "error" in micro:
        rows.append(f"| Book micro bench | error: {micro['error'][:160]} | | **miss** |")
    elif micro:
        for note in micro.get("notes", []):
            rows.append(f"| Book micro: {note} | | | info |")
        structures = micro["structures"]
        engine = structures.get("engine")
        ref = structures.get("dict + sort")
        head = (
            f"Python {micro['python']}, {micro['levels_per_update']:.0f} levels/update "
            f"(recorded: {micro['recorded_levels_per_update']:.0f})"
        )
        for name, r in structures.items():
            rows.append(
                f"| Book apply, 400 levels, {name} ({head}) | {r['apply_us']:.1f} µs/update "
                f"(recorded stream {r['recorded_apply_us']:.1f}); top-5 read "
                f"{r['top5_us_400']:.2f} µs at depth 400, {r['top5_us_25']:.2f} at 25; "
                f"apply + read {r['cycle_us']:.1f} µs | - | info |"
            )
        if engine and ref:
            ratio = ref["apply_us"] / engine["apply_us"]
            rows.append(
                f"| Book apply, engine against the dict + sort reference | - "
                f"| {ratio:.2f} x as fast (target ≥ 1.0) | {_ok(ratio >= 1.0)} |"
            )
            cycle = ref["cycle_us"] / engine["cycle_us"]
            rows.append(
                f"| Book apply + top-5 read per update, engine against the reference | - "
                f"| {cycle:.2f} x as fast | info |"
            )
            growth = engine["top5_us_400"] / engine["top5_us_25"]
            rows.append(
                f"| Book top-5 read, engine, depth 400 over depth 25 | - "
                f"| {growth:.2f} x (O(5): target ≤ 1.5) | {_ok(growth <= 1.5)} |"
            )
        handlers = micro.get("handlers", {})
        ours = min((us for name, us in handlers.items() if name.startswith("engine")), default=None)
        for name, us in handlers.items():
            rows.append(f"| Book handler from push text, {name} | {us:.1f} µs/update | - | info |")
        cf = next((us for name, us in handlers.items() if name.startswith("cryptofeed")), None)
        if ours and cf:
            ratio = cf / ours
            rows.append(
                f"| Book handler, engine from text (the faster decode) against cryptofeed's "
                f"OKX handler | - "
                f"| {ratio:.2f} x as fast (target ≥ 1.5) | {_ok(ratio >= 1.5)} |"
            )
    for v, r in books.get("cpu", {}).items():
        if "error" in r:
            rows.append(f"| Books CPU, variant {v} | error | | **miss** |")
            continue
        rows.append(
            f"| CPU at 50 books x 10 updates/s (400 levels), {LABELS[v]} "
            f"| {r['cpu_pct']:.1f} % of one core ({r['rate']:,.0f} updates/s, "
            f"{r['us_per_msg']:.0f} µs/update) | {r['cpu_pct']:.1f} % | info |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="okx-trio bench: one command, all sections")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a few minutes, for development")
    mode.add_argument("--long", action="store_true", help="the full run with a 10-minute soak")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS + OPTIONAL)}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(only) - set(SECTIONS) - set(OPTIONAL)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    profile = Profile("quick" if args.quick else "long" if args.long else "full")
    profile.out = args.out

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    now = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "profile": profile.name,
        "command": " ".join(["python bench/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "notes": [],
    }
    if "throughput" in only and not have_python_okx():
        results["notes"].append("python-okx not installed: variant (d) skipped")
    started = time.perf_counter()
    with bench_server() as urls:
        for section in only:
            log(f"[{section}]")
            results[section] = RUNNERS[section](profile, urls, log)
    results["elapsed_seconds"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = now.strftime("%Y-%m-%dT%H%M") + f"-{profile.name}"
    # The raw figures first: a fault in the table must not lose a run.
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")
    markdown = table(results)
    (args.out / f"{stem}.md").write_text(markdown)
    print(markdown)
    log(f"wrote {args.out / stem}.json and .md in {results['elapsed_seconds']:.0f}s")


if __name__ == "__main__":
    main()
