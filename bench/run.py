"""Run the okx-trio bench in one go: ``python bench/run.py [--quick | --long] [--only ...]``.

Starts the bench exchange (``bench/server.py``) as a separate process on loopback, with a
``trustme`` certificate for ``wss://``, then runs every measurement in a fresh client process
(``bench/clients.py``) and writes ``bench/results/<date>.json`` (raw figures, machine, versions)
and ``bench/results/<date>.md`` (the table: figure, ratio or target, pass/miss), and prints
the table.

Sections (``--only`` takes a comma-separated subset):

* ``throughput`` - msgs/s of (raw) the socket alone, (a) bare trio-websocket + json, (b) the
  okx_trio client, (c) the same on ``transport="websockets"``, (c-wss) that over TLS, (d)
  python-okx's ``WsPublicAsync`` (TLS: it cannot do ``ws://``); medians over alternating rounds,
  ratios to (a) computed round by round;
* ``cpu`` - client CPU for 500 pairs x 10 updates/s (5,000 msgs/s);
* ``subchange`` - 100 pairs added to a live connection until acked and each has ticked;
* ``reconnect`` - the server drops the connection, until 100 pairs are subscribed and ticking;
* ``memory`` - RSS over the imports with 1, 100, 1,000 pairs; growth over a soak (10 minutes
  with ``--long``, else a short window, labelled as such).

Requirements: ``pip install -e '.[bench]'`` (websockets, python-okx, trustme, pyinstrument).
Variant (d) is skipped, with a note, when ``python-okx`` is not importable by this Python.
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

SECTIONS = ("throughput", "cpu", "subchange", "reconnect", "memory")
VARIANTS = ("raw", "a", "b", "c", "c-wss", "d")
LABELS = {
    "raw": "server delivery (socket reads only)",
    "a": "(a) bare trio-websocket + json",
    "b": "(b) okx_trio, default transport",
    "c": "(c) okx_trio, websockets transport",
    "c-wss": "(c) okx_trio, websockets transport, wss://",
    "d": "(d) python-okx WsPublicAsync, wss://",
}


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
        self.memory_pairs = (1, 100, 1000)
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
    for dist in ("trio", "trio-websocket", "wsproto", "websockets", "msgspec", "python-okx"):
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
    }


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


def client(scenario: str, *args: str, ca_file: str | None = None, timeout: float = 900) -> Any:
    """Run one measurement in a fresh process and return its JSON result (or an error)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if ca_file:
        env["SSL_CERT_FILE"] = ca_file  # python-okx builds its own default context
    cmd = [sys.executable, str(HERE / "clients.py"), scenario, *args]
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


# -- sections ----------------------------------------------------------------------------------


def run_throughput(p: Profile, urls: dict[str, str], log: Any) -> dict[str, Any]:
    variants = [v for v in VARIANTS if v != "d" or have_python_okx()]
    rounds: list[dict[str, float]] = []
    raw: dict[str, list[Any]] = {v: [] for v in variants}
    for r in range(p.rounds):
        order = variants if r % 2 == 0 else list(reversed(variants))
        this: dict[str, float] = {}
        for v in order:
            secure = v in ("c-wss", "d")
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
    return {"summary": summary, "rounds": rounds, "raw": raw}


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
                target, verdict = " (target ≥ 1.0)", _ok(ratio is not None and ratio >= 1.0)
            elif v == "c":
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
            target = " (target ≤ 5 MiB)" if n == "1000" else ""
            verdict = _ok(over <= 5.0) if n == "1000" else "info"
            lines.append(
                f"| RSS with {n} pairs (1/s each) | {r['rss_running'] / MiB:.1f} MiB "
                f"(imports {r['rss_imports'] / MiB:.1f} MiB) "
                f"| +{over:.1f} MiB over the imports{target} | {verdict} |"
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


def main() -> None:
    parser = argparse.ArgumentParser(description="okx-trio bench: one command, all sections")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a 1-2 minute run for development")
    mode.add_argument("--long", action="store_true", help="the full run with a 10-minute soak")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    profile = Profile("quick" if args.quick else "long" if args.long else "full")

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
    markdown = table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = now.strftime("%Y-%m-%dT%H%M") + f"-{profile.name}"
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown)
    print(markdown)
    log(f"wrote {args.out / stem}.json and .md in {results['elapsed_seconds']:.0f}s")


if __name__ == "__main__":
    main()
