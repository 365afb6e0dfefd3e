#!/usr/bin/env python3
"""Build fuzz/corpus/<target>/ from the documented fixtures in the tests
(tests/fixtures/<venue>/*.json and the frames of src/venues/*/tests.rs).
Never from the captures. Run from the repository root:

    python3 fuzz/tools/fixture_corpus.py

Each venue gets one scenario with every fixture in a plausible order
(`all`), one per fixture frame after the same set-up, and a few protocol
sequences of its tests (resync, reconnect). See fuzz/README.md for the format.
"""
import json
import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def fx(venue, name):
    with open(os.path.join(ROOT, "tests", "fixtures", venue, name)) as f:
        return one_line(f.read())


def one_line(s):
    s = s.strip()
    if "\n" in s:
        try:
            return json.dumps(json.loads(s), separators=(",", ":"))
        except ValueError:
            return s.replace("\n", " ")
    return s


def inline(path):
    """Raw-string JSON literals of a tests.rs (format templates skipped)."""
    with open(os.path.join(ROOT, path)) as f:
        src = f.read()
    out = []
    for m in re.finditer(r'r#"(.*?)"#', src, re.S):
        s = m.group(1)
        if "{{" in s:
            continue
        s = one_line(s)
        if s not in out:
            out.append(s)
    return out


def text(p, sel=None):
    return f"text @{sel} {p}" if sel is not None else f"text {p}"


def http(url, p):
    return f"http @{url} {p}"


corpus = {}


def add(target, name, lines):
    corpus.setdefault(target, {})[name] = "\n".join(lines) + "\n"


def per_frame(target, setup, frames, sel=None):
    for i, f in enumerate(frames):
        add(target, f"frame-{i:02}", setup + [text(f, sel)])


# ---- OKX ----------------------------------------------------------------
OKX_SWAP = "https://www.okx.com/api/v5/public/instruments?instType=SWAP"
okx_frames = [fx("okx", n) for n in [
    "subscribe_ack.json", "snapshot.json", "update.json", "keepalive.json",
    "update_bad_checksum.json", "update_gap.json", "snapshot_no_seq.json",
    "update_no_seq.json", "swap_snapshot.json", "swap_update.json",
    "liquidation.json", "trade.json", "trade_swap.json", "funding_rate.json",
    "open_interest.json", "error.json", "notice.json"]]
okx_setup = ["start", http(OKX_SWAP, fx("okx", "instruments_swap.json")), "open"]
add("adapter_okx", "all", okx_setup + [text(f) for f in okx_frames] + ["close", "open", text(okx_frames[1])])
per_frame("adapter_okx", okx_setup, okx_frames)
add("adapter_okx", "swap-before-instruments", ["start", "open", text(fx("okx", "swap_snapshot.json")),
    http(OKX_SWAP, fx("okx", "instruments_swap.json")), text(fx("okx", "swap_update.json"))])
add("adapter_okx", "checksum-resync", okx_setup + [text(fx("okx", "snapshot.json")), text(fx("okx", "update.json")),
    text(fx("okx", "update_bad_checksum.json")), text(fx("okx", "update.json")), text(fx("okx", "snapshot.json"))])

# ---- Kraken -------------------------------------------------------------
KRAKEN_PAIRS = "https://api.kraken.com/0/public/AssetPairs"
kr_frames = [fx("kraken", n) for n in [
    "subscribe_ack.json", "snapshot.json", "heartbeat.json", "update.json",
    "update_bad_checksum.json", "snapshot_short_numbers.json", "trade.json",
    "status.json", "pong.json"]]
kr_setup = ["start", http(KRAKEN_PAIRS, fx("kraken", "asset_pairs.json")), "open"]
add("adapter_kraken", "all", kr_setup + [text(f) for f in kr_frames] + ["close", "open", text(kr_frames[1])])
per_frame("adapter_kraken", kr_setup, kr_frames)
add("adapter_kraken", "v1-frames", ["start", "open"] + [text(fx("kraken", n)) for n in
    ["v1_heartbeat.json", "v1_snapshot.json", "v1_update.json", "v1_trade.json"]])

# ---- Bitstamp -----------------------------------------------------------
BS_BOOK = "https://www.bitstamp.net/api/v2/order_book/btcusd/"
BS_PAIRS = "https://www.bitstamp.net/api/v2/trading-pairs-info/"
bs = lambda n: fx("bitstamp", n)
bs_setup = ["start", http(BS_PAIRS, bs("trading_pairs_info.json")), "open"]
add("adapter_bitstamp", "all", bs_setup + [
    text(bs("subscription_succeeded_trades.json")), text(bs("subscription_succeeded.json")),
    text(bs("diff_old.json")), http(BS_BOOK, bs("order_book_snapshot.json")),
    text(bs("diff_at_snapshot.json")), text(bs("diff_later.json")), text(bs("diff_new.json")),
    text(bs("trade.json")), text(bs("trade_buy.json")), text(bs("heartbeat.json")),
    text(bs("request_reconnect.json")), text(bs("error.json"))])
add("adapter_bitstamp", "snapshot-by-index", bs_setup + [
    text(bs("subscription_succeeded.json")), "http @1 " + bs("order_book_snapshot.json"),
    text(bs("diff_at_snapshot.json")), text(bs("diff_later.json"))])
add("adapter_bitstamp", "rest-error", bs_setup + [
    text(bs("subscription_succeeded.json")), http(BS_BOOK, "<html>rate limited</html>"), "httperr @1 HTTP 429"])
per_frame("adapter_bitstamp", bs_setup + [text(bs("subscription_succeeded.json")),
    http(BS_BOOK, bs("order_book_snapshot.json"))],
    [bs(n) for n in ["diff_old.json", "diff_at_snapshot.json", "diff_later.json", "diff_new.json",
                     "trade.json", "trade_buy.json", "heartbeat.json", "request_reconnect.json", "error.json"]])

# ---- Hyperliquid --------------------------------------------------------
hl = lambda n: fx("hyperliquid", n)
hl_frames = [hl(n) for n in ["subscription_response.json", "l2book_1.json", "l2book_2.json",
                             "trades.json", "active_asset_ctx.json", "pong.json", "error.json"]]
add("adapter_hyperliquid", "all", ["start", "open"] + [text(f) for f in hl_frames] + ["close", "open", text(hl_frames[1])])
per_frame("adapter_hyperliquid", ["start", "open"], hl_frames)

# ---- Binance ------------------------------------------------------------
B_SPOT_DEPTH = "https://api.binance.com/api/v3/depth?symbol=BNBBTC&limit=1000"
B_FUT_DEPTH = "https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
def spot_diff(u1, u2, b, a):
    return '{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":%d,"u":%d,"b":%s,"a":%s}}' % (u1, u2, b, a)
def fut_diff(u1, u2, pu, b, a):
    return '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"T":1672515782130,"s":"BTCUSDT","U":%d,"u":%d,"pu":%d,"b":%s,"a":%s}}' % (u1, u2, pu, b, a)
def bsnap(i, b, a):
    return '{"lastUpdateId":%d,"bids":%s,"asks":%s}' % (i, b, a)
bn_inline = inline("src/venues/binance/tests.rs")
bn_rest = [s for s in bn_inline if s.startswith('{"timezone"') or s.startswith('{"symbols"') or s.startswith('{"code"')]
bn_frames = [s for s in bn_inline if s not in bn_rest and not s.startswith("[[") and s != "[]"]
bn_setup = ["start"] + [f"http @{i} {b}" for i, b in enumerate(bn_rest[:2])] + ["open @0", "open @1", "open @2"]
add("adapter_binance", "spot-sync", bn_setup + [
    text(spot_diff(150, 155, '[["0.0020","5"]]', "[]"), 0), text(spot_diff(156, 160, '[["0.0021","6"]]', "[]"), 0),
    http(B_SPOT_DEPTH, bsnap(160, '[["0.0023","1"]]', '[["0.0026","100"]]')),
    text(spot_diff(161, 163, '[["0.0024","10"]]', "[]"), 0), text(spot_diff(165, 166, '[["0.0025","1"]]', "[]"), 0),
    http(B_SPOT_DEPTH, bsnap(166, '[["0.0023","1"]]', '[["0.0026","100"]]'))])
add("adapter_binance", "futures-sync", bn_setup + [
    http(B_FUT_DEPTH, bsnap(200, '[["100.0","1"]]', '[["101.0","1"]]')),
    text(fut_diff(190, 200, 180, '[["100.0","3"]]', "[]"), 1), text(fut_diff(205, 210, 200, '[["100.5","1"]]', "[]"), 1),
    text(fut_diff(220, 230, 215, '[["100.6","1"]]', "[]"), 1),
    http(B_FUT_DEPTH, bsnap(225, '[["100.0","3"]]', '[["101.0","1"]]')),
    text(fut_diff(231, 235, 230, "[]", '[["100.9","4"]]'), 1), "close @1", "open @1"])
add("adapter_binance", "rest-errors", bn_setup + [http(B_SPOT_DEPTH, '{"code":-1121,"msg":"Invalid symbol."}'),
    http(B_SPOT_DEPTH, "<html>502 Bad Gateway</html>"), "httperr @2 timed out", http(B_SPOT_DEPTH, bsnap(5, '[["1","1"]]', "[]"))])
for i, f in enumerate(bn_frames):
    for conn in (0, 2) if ("forceOrder" in f or "markPrice" in f or "btcusdt" in f) else (0,):
        add("adapter_binance", f"frame-{i:02}-conn{conn}", bn_setup + [text(f, conn)])

# ---- Bybit --------------------------------------------------------------
def ybook(kind, u, b, a):
    return '{"topic":"orderbook.200.BTCUSDT","type":"%s","ts":1672304484978,"data":{"s":"BTCUSDT","b":%s,"a":%s,"u":%d,"seq":7961638724},"cts":1672304484976}' % (kind, b, a, u)
by_inline = inline("src/venues/bybit/tests.rs")
by_rest = [s for s in by_inline if s.startswith('{"retCode"')]
by_frames = [s for s in by_inline if s not in by_rest and s.startswith("{")]
by_setup = ["start"] + [f"http @1 {b}" for b in by_rest[-1:]] + ["open @0", "open @1"]
add("adapter_bybit", "linear-book", by_setup + [
    text(ybook("snapshot", 1, '[["16493.50","0.006"],["16493.00","0.100"]]', '[["16611.00","0.029"],["16612.00","0.213"]]'), 1),
    text(ybook("delta", 2, '[["16493.50","0"],["16490.00","1"]]', '[["16611.00","0.5"]]'), 1),
    text(ybook("delta", 4, '[["16490.00","0"]]', "[]"), 1),
    text(ybook("snapshot", 1, '[["16493.50","0.006"]]', '[["16611.00","0.029"]]'), 1), "close @1", "open @1"])
add("adapter_bybit", "spot-book", by_setup + [
    text(ybook("snapshot", 1, '[["16493.50","0.006"]]', '[["16611.00","0.029"]]'), 0),
    text(ybook("delta", 2, '[["16493.50","0"]]', '[["16611.00","1"]]'), 0)])
for i, f in enumerate(by_frames):
    add("adapter_bybit", f"frame-{i:02}", by_setup + [text(f, 1)])

# ---- Coinbase -----------------------------------------------------------
cb_inline = inline("src/venues/coinbase/tests.rs")
cb_frames = [s for s in cb_inline if s.startswith('{"channel"')]
cb_rest = [s for s in cb_inline if s.startswith('{"products"')]
cb_setup = ["start"] + [f"http @0 {b}" for b in cb_rest[:1]] + ["open"]
def l2(seq, kind, product, updates):
    return '{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":"%s","product_id":"%s","updates":%s}]}' % (seq, kind, product, updates)
cb_snap = [s for s in cb_inline if s.startswith('[{"side"')]
cb_l2 = [l2(0, "snapshot", "BTC-USD", cb_snap[0])] + [l2(i + 1, "update", "BTC-USD", u) for i, u in enumerate(cb_snap[1:])]
cb_frames = cb_l2 + cb_frames
add("adapter_coinbase", "l2-gap-reconnect", cb_setup + [text(cb_l2[0]), text(cb_l2[1] if len(cb_l2) > 1 else cb_l2[0]),
    text(l2(7, "update", "BTC-USD", "[]")), "close", "open", text(cb_l2[0].replace('"sequence_num":0', '"sequence_num":8'))])
add("adapter_coinbase", "all", cb_setup + [text(f) for f in cb_frames] + ["close", "open"] + [text(f) for f in cb_frames[:2]])
per_frame("adapter_coinbase", cb_setup, cb_frames)

# ---- Gemini -------------------------------------------------------------
gm_inline = inline("src/venues/gemini/tests.rs")
gm_frames = [s for s in gm_inline if s.startswith("{")]
gm_rest = [s for s in gm_inline if s.startswith("[")]
gm_setup = ["start"] + [f"http @0 {b}" for b in gm_rest[:1]] + ["open"]
add("adapter_gemini", "all", gm_setup + [text(f) for f in gm_frames] + ["close", "open", text(gm_frames[0])])
per_frame("adapter_gemini", gm_setup, gm_frames)

# ---- Venues without a hand-written section above: a generic corpus from
# their fixture directory. Instrument and contract lists (by file name) are
# answered to the first requests the adapter makes; the rest are frames on
# its first connection, snapshots first. The corpus test checks it still
# reaches a book.
LIST_WORDS = ("instrument", "contract", "symbol", "market", "info", "product", "bullet", "token")
def generic(venue):
    d = os.path.join(ROOT, "tests", "fixtures", venue)
    files = sorted(f for f in os.listdir(d) if f.endswith((".json", ".txt")))
    lists = [f for f in files if any(w in f for w in LIST_WORDS)]
    frames = [f for f in files if f not in lists]
    # Subscription answers first (channel ids some venues key frames by),
    # then snapshots, then the rest.
    def rank(f):
        if "subscribed" in f or "conf_ack" in f:
            return 0
        return 1 if "snapshot" in f or "image" in f or "step0" in f else 2
    frames.sort(key=lambda f: (rank(f), f))
    setup = ["start"] + [http(i, fx(venue, f)) for f in lists for i in range(3)] + ["open"]
    target = f"adapter_{venue}"
    body = [text(fx(venue, f)) for f in frames]
    # Snapshots fetched over REST after the stream opened (buffered diffs
    # need them): each snapshot-like file answered to the next requests.
    snaps = [f for f in frames if "snapshot" in f]
    rest = [http(i, fx(venue, f)) for f in snaps for i in range(6)]
    add(target, "all", setup + body + rest + body + ["close", "open"] + body[:1])
    per_frame(target, setup, [fx(venue, f) for f in frames])

for venue in sorted(os.listdir(os.path.join(ROOT, "tests", "fixtures"))):
    if f"adapter_{venue}" in corpus or not os.path.isdir(os.path.join(ROOT, "src", "venues", venue)):
        continue
    if not os.path.isdir(os.path.join(ROOT, "tests", "fixtures", venue)):
        continue
    generic(venue)

# ---- Pipeline: two venues on one instrument, so CBBO and arbitrage meet. --
def venue_part(name, target):
    return [f"venue {name}"] + corpus[target]["all" if "all" in corpus[target] else sorted(corpus[target])[0]].strip().split("\n")
add("pipeline", "gemini-coinbase", venue_part("gemini", "adapter_gemini") + venue_part("coinbase", "adapter_coinbase") + ["snap", "tick 31000000", "snap"])
add("pipeline", "okx-kraken-bitstamp", venue_part("okx", "adapter_okx") + venue_part("kraken", "adapter_kraken") + venue_part("bitstamp", "adapter_bitstamp") + ["snap"])
add("pipeline", "binance-bybit-hyperliquid", venue_part("binance", "adapter_binance") + venue_part("bybit", "adapter_bybit") + venue_part("hyperliquid", "adapter_hyperliquid") + ["snap"])
for target in sorted(corpus):
    if target.startswith("adapter_") and "all" in corpus[target]:
        add("pipeline", target[len("adapter_"):], [f"venue {target[len('adapter_'):]}"] + corpus[target]["all"].strip().split("\n"))

if os.path.isdir(OUT):
    shutil.rmtree(OUT)
for target, files in corpus.items():
    os.makedirs(os.path.join(OUT, target))
    for name, body in files.items():
        with open(os.path.join(OUT, target, name), "w") as f:
            f.write(body)
    print(f"{target}: {len(files)} inputs")
