"""The bench's table: ``bench/run.py``'s results as Markdown rows (figure, ratio or target,
pass/miss).

    python bench/report.py bench/results/<date>.json     # print the table of a saved run again

Every target is the one issue 14 (and issue 11 for books) states; a row without one is
``info``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

VARIANTS = ("raw", "a", "a0", "a0-ws", "a0-sansio", "b", "c", "c-wss", "e", "e-wss", "d")
LABELS = {
    "raw": "server delivery (socket reads only)",
    "a": "(a) bare trio-websocket + json",
    "a0": "(a0) receive-only floor, trio-websocket",
    "a0-ws": "(a0-ws) receive-only floor, websockets",
    "a0-sansio": "(a0-sansio) receive-only floor, websockets-sansio",
    "b": "(b) okx_trio, trio-websocket transport",
    "c": "(c) okx_trio, websockets transport",
    "c-wss": "(c) okx_trio, websockets transport, wss://",
    "e": "(e) okx_trio, websockets-sansio transport (the default)",
    "e-wss": "(e) okx_trio, websockets-sansio transport, wss://",
    "d": "(d) python-okx WsPublicAsync, wss://",
    "cryptofeed": "cryptofeed OKX feed, wss://",
    "ccxt": "ccxt.pro okx.watch_*, ws://",
}
CHANNELS = ("tickers", "trades", "books")
CHANNEL_VARIANTS = (
    "a0",
    "a0-ws",
    "a0-sansio",
    "b",
    "c",
    "c-wss",
    "e",
    "e-wss",
    "cryptofeed",
    "ccxt",
)
#: Our variant on the same transport security as each peer, for the peers' ratio rows.
PEER_PAIRS = (("cryptofeed", "c-wss"), ("ccxt", "c"), ("cryptofeed", "e-wss"), ("ccxt", "e"))


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
            if v in ("b", "e"):  # the (b), and the default transport now
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
        for key, what in (("e_over_d", "ws://"), ("e_wss_over_d", "wss:// (like for like)")):
            if s.get(key) is not None:
                ed = s[key]
                lines.append(
                    f"| Throughput (e) {what} vs (d) wss:// | - | {ed:.2f} x (d) (target ≥ 1.2) "
                    f"| {_ok(ed >= 1.2)} |"
                )
        lines.extend(_floor_rows("Throughput tickers", s.get("floor_ratios", {})))
        lines.extend(_transport_rows("Throughput tickers", s.get("transport_ratios", {})))
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
            # The target is the default transport's: (e) now.
            target = " (target ≤ 15 %)" if v == "e" else ""
            verdict = _ok(r["cpu_pct"] <= 15.0) if v == "e" else "info"
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
    for key, label in (
        ("b_over_a0", "(b) over (a0)"),
        ("c_over_a0-ws", "(c) over (a0-ws)"),
        ("e_over_a0-sansio", "(e) over (a0-sansio)"),
    ):
        ratio = floors.get(key)
        if ratio is None:
            continue
        rows.append(
            f"| {title}, {label}: the client against its transport's receive-only floor | - "
            f"| {ratio:.2f} x (target ≥ 0.5) | {_ok(ratio >= 0.5)} |"
        )
    return rows


def _transport_rows(title: str, ratios: dict[str, float]) -> list[str]:
    """The websockets-sansio transport against the others: > 1 is faster."""
    rows = []
    for key, ratio in ratios.items():
        top, bottom = key.split("_over_")
        rows.append(
            f"| {title}, ({top}) over ({bottom}): websockets-sansio against "
            f"{LABELS[bottom].split(') ', 1)[1]} | - | {ratio:.2f} x | info |"
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
        rows.extend(_transport_rows(f"{channel} flood", s.get("transport_ratios", {})))
        for peer_v, ours in PEER_PAIRS:
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
        loop = micro.get("engine_loop", "Python")
        for name, r in structures.items():
            label = f"engine (its merge loop in {loop})" if name == "engine" else name
            rows.append(
                f"| Book apply, 400 levels, {label} ({head}) | {r['apply_us']:.1f} µs/update "
                f"(recorded stream {r['recorded_apply_us']:.1f}); top-5 read "
                f"{r['top5_us_400']:.2f} µs at depth 400, {r['top5_us_25']:.2f} at 25; "
                f"apply + read {r['cycle_us']:.1f} µs | - | info |"
            )
        if engine and ref:
            ratio = ref["apply_us"] / engine["apply_us"]
            recorded = ref["recorded_apply_us"] / engine["recorded_apply_us"]
            rows.append(
                f"| Book apply, engine against the dict + sort reference | - "
                f"| {ratio:.2f} x as fast (target ≥ 1.0); recorded stream "
                f"{recorded:.2f} x | {_ok(ratio >= 1.0 and recorded >= 1.0)} |"
            )
            checked = structures.get("dict + sort, checked")
            if checked:
                rows.append(
                    f"| Book apply, engine against the reference with checks like its own | - "
                    f"| {checked['apply_us'] / engine['apply_us']:.2f} x as fast; recorded "
                    f"stream {checked['recorded_apply_us'] / engine['recorded_apply_us']:.2f} x "
                    f"| info |"
                )
            python_loop = structures.get("engine, pure-Python loop")
            if python_loop:
                rows.append(
                    f"| Book apply, the engine's pure-Python loop (built without a C compiler) "
                    f"against the reference | - | {ref['apply_us'] / python_loop['apply_us']:.2f} "
                    f"x as fast; recorded stream "
                    f"{ref['recorded_apply_us'] / python_loop['recorded_apply_us']:.2f} x | info |"
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
        ours = next(
            (us for name, us in handlers.items() if name.startswith("engine from text")),
            None,
        )
        for name, us in handlers.items():
            rows.append(f"| Book handler from push text, {name} | {us:.1f} µs/update | - | info |")
        cf = next((us for name, us in handlers.items() if name.startswith("cryptofeed")), None)
        if ours and cf:
            ratio = cf / ours
            rows.append(
                f"| Book handler, engine from text against cryptofeed's "
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
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/report.py RESULTS.json")
    print(table(json.loads(Path(sys.argv[1]).read_text())), end="")


if __name__ == "__main__":
    main()
