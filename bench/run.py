"""Run the okx-trio bench in one go: ``python bench/run.py [--quick | --long] [--only ...]``.

Starts the bench exchange (``bench/server.py``) as a separate process on loopback, with a
``trustme`` certificate for ``wss://``, then runs every measurement in a fresh client process
(``bench/clients.py``) and writes ``bench/results/<date>.json`` (raw figures, machine, versions)
and ``bench/results/<date>.md`` (the table: figure, ratio or target, pass/miss), and prints
the table (rendered by ``bench/report.py``, which can print a saved run's again).

Sections (``--only`` takes a comma-separated subset):

* ``throughput`` - tickers msgs/s of (raw) the socket alone, (a) bare trio-websocket + json,
  (a0), (a0-ws) and (a0-sansio) the receive-only floor of each transport (okx_trio's own
  connector, messages received and dropped: no decoding), (b) the okx_trio client, (c) the
  same on ``transport="websockets"``, (c-wss) that over TLS, (e) / (e-wss) the same on
  ``transport="websockets-sansio"``, (d) python-okx's ``WsPublicAsync`` (TLS: it cannot do
  ``ws://``); medians over alternating rounds, ratios computed round by round (with (e)
  against each other transport, like for like);
* ``channels`` - records/s of ``client.stream(channel)`` to a ``receive_batch`` consumer for
  ``tickers``, ``trades`` and 400-level ``books`` floods, each beside its transports' floors,
  and the peers for trades and books: cryptofeed's OKX feed (``wss://``: it refuses
  ``ws://``) and ccxt.pro's ``okx.watch_*`` (``ws://``);
* ``books`` - the book micro bench (``bench/book_micro.py``: engine vs the reference
  structures and cryptofeed's C book, top-5 at depth 25 and 400, from-text handlers against
  cryptofeed's OKX handler) and client CPU at 50 books x 10 updates/s;
* ``cpu`` - client CPU for 500 pairs x 10 updates/s (5,000 msgs/s): (b), (c), (e) and the
  default transport's receive-only floor (a0-sansio: what the client adds to it), and (a)
  and (a0) in a full run;
* ``subchange`` - 100 pairs added to a live connection until acked and each has ticked, on
  every transport;
* ``reconnect`` - the server drops the connection, until 100 pairs are subscribed and
  ticking, on every transport;
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

from report import CHANNEL_VARIANTS, CHANNELS, VARIANTS, MiB, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

SECTIONS = ("throughput", "channels", "books", "cpu", "subchange", "reconnect", "memory")
OPTIONAL = ("pyinstrument",)
#: Peers that run in the peers interpreter (cryptofeed 3 needs Python >= 3.13).
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
SECURE = ("c-wss", "e-wss", "d", "cryptofeed")
#: A variant over wss:// runs the client variant it names over the TLS url.
PLAIN = {"c-wss": "c", "e-wss": "e"}
#: Every transport of ClientConfig.transport, for the subchange and reconnect rows.
TRANSPORTS = ("trio-websocket", "websockets", "websockets-sansio")


class Profile:
    def __init__(self, name: str) -> None:
        self.name = name
        quick = name == "quick"
        self.rounds = 3 if quick else 7
        self.seconds = 1.5 if quick else 4.0
        self.warmup = 0.5 if quick else 1.0
        self.cpu_seconds = 10.0 if quick else 30.0
        # With the receive-only floor of the default transport: what the client adds to it.
        self.cpu_variants = (
            ("a0-sansio", "b", "c", "e") if quick else ("a", "a0", "a0-sansio", "b", "c", "e")
        )
        self.trials = 3 if quick else 7
        self.out = RESULTS  # where results (and the profile) go: --out
        self.memory_pairs = (1, 100, 1000)
        self.channel_rounds = 2 if quick else 5
        self.micro_repeats = 7 if quick else 9  # fewer, and one neighbour decides the row
        self.micro_updates = 300 if quick else 500
        self.book_cpu_variants = ("e",) if quick else ("b", "c", "e")
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
                PLAIN.get(v, v),
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
    # (e) is on websockets too (its sans-IO protocol), and the default transport now.
    e_over_d = [rd["e"] / rd["d"] for rd in rounds if "e" in rd and "d" in rd]
    ew_over_d = [rd["e-wss"] / rd["d"] for rd in rounds if "e-wss" in rd and "d" in rd]
    summary["e_over_d"] = statistics.median(e_over_d) if e_over_d else None
    summary["e_wss_over_d"] = statistics.median(ew_over_d) if ew_over_d else None
    summary["floor_ratios"] = floor_ratios(rounds)
    summary["transport_ratios"] = transport_ratios(rounds)
    return {"summary": summary, "rounds": rounds, "raw": raw}


def floor_ratios(rounds: list[dict[str, float]]) -> dict[str, float | None]:
    """The full client over its transport's receive-only floor, medians of per-round ratios."""
    out: dict[str, float | None] = {}
    for client_v, floor in (("b", "a0"), ("c", "a0-ws"), ("e", "a0-sansio")):
        ratios = [rd[client_v] / rd[floor] for rd in rounds if client_v in rd and rd.get(floor)]
        out[f"{client_v}_over_{floor}"] = statistics.median(ratios) if ratios else None
    return out


#: Transport against transport, like for like: (numerator, denominator) variants.
TRANSPORT_PAIRS = (
    ("e", "b"),
    ("e", "c"),
    ("e-wss", "c-wss"),
    ("e", "d"),
    ("e-wss", "d"),
    ("a0-sansio", "a0"),
    ("a0-sansio", "a0-ws"),
)


def transport_ratios(rounds: list[dict[str, float]]) -> dict[str, float | None]:
    """The websockets-sansio variants over the others, medians of per-round ratios."""
    out: dict[str, float | None] = {}
    for top, bottom in TRANSPORT_PAIRS:
        ratios = [rd[top] / rd[bottom] for rd in rounds if rd.get(top) and rd.get(bottom)]
        if ratios:
            out[f"{top}_over_{bottom}"] = statistics.median(ratios)
    return out


#: (peer, our variant on the same transport security) for the peers' ratio rows.
PEER_PAIRS = (("cryptofeed", "c-wss"), ("ccxt", "c"), ("cryptofeed", "e-wss"), ("ccxt", "e"))


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
                    *("--variant", PLAIN.get(v, v)),
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
        summary["transport_ratios"] = transport_ratios(rounds)
        for peer_v, ours in PEER_PAIRS:
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
    """pyinstrument over the client at 500 pairs x 10/s (tickers), default transport (e)."""
    p.out.mkdir(parents=True, exist_ok=True)
    target = p.out / f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M}-profile-cpu-e.txt"
    result = client(
        "cpu",
        *("--variant", "e", "--url", urls["ws"], "--pairs", "500", "--hz", "10"),
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
    for transport in TRANSPORTS:
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
    for transport in TRANSPORTS:
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
